package web

import (
	"fmt"
	"html"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/internal/sample"
	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// The component graph (/graph), drawn by the server as SVG. Arrows follow
// the data: from a component to the one that uses its exports (discovery
// to scrape), and from a component to the one whose receiver it forwards
// samples to (scrape to remote_write), which is the reverse of that
// reference. Components stand in columns by depth along the arrows.

type graphPage struct {
	SVG   string
	Nodes int
	Edges []graphEdge
}

// graphEdge is one reference, oriented the way data flows.
type graphEdge struct {
	From, To link
	// Forward is set when From forwards samples to To's receiver; otherwise
	// To uses From's exports.
	Forward bool
}

// Geometry of the drawing, in CSS pixels. The font is monospace so that a
// box's width follows from the length of its name.
const (
	gBoxH     = 54
	gVGap     = 26
	gHGap     = 96
	gPad      = 16
	gCharW    = 7.8 // width of a 13px monospace character
	gMinBoxW  = 170
	gBoxInset = 14
)

type placed struct {
	c       Component
	depth   int
	in, out []string // neighbours along the arrows
	x, y, w float64
}

var typeReceiver = reflect.TypeFor[sample.Receiver]()

// receives reports whether c exports a sample receiver, so that a reference
// to it is a forward_to: data flows towards c.
func receives(c Component) bool {
	items, err := viewBody(c.Exports, false)
	if err != nil {
		return false
	}
	for _, it := range items {
		if it.Block || it.Value.Type() != value.TypeCapsule || it.Value.IsSecret() {
			continue
		}
		if rv := it.Value.Reflect(); rv.IsValid() && rv.Type().Implements(typeReceiver) {
			return true
		}
	}
	return false
}

// flowEdges orients every reference between known components.
func flowEdges(cs []Component) []graphEdge {
	byID := make(map[string]Component, len(cs))
	for _, c := range cs {
		byID[c.ID] = c
	}
	recv := map[string]bool{}
	var out []graphEdge
	for _, c := range cs {
		for _, ref := range globalIDs(c.ModuleID, c.ReferencesTo) {
			r, ok := byID[ref]
			if !ok {
				continue
			}
			fwd, seen := recv[ref]
			if !seen {
				fwd = receives(r)
				recv[ref] = fwd
			}
			e := graphEdge{From: link{ref, componentURL(ref)}, To: link{c.ID, componentURL(c.ID)}}
			if fwd {
				e = graphEdge{From: e.To, To: e.From, Forward: true}
			}
			out = append(out, e)
		}
	}
	return out
}

func (s *Server) pageGraph(w http.ResponseWriter, r *http.Request) {
	cs := s.components()
	p := graphPage{Nodes: len(cs), Edges: flowEdges(cs)}
	if len(cs) > 0 {
		p.SVG = drawGraph(cs, p.Edges)
	}
	s.render(w, http.StatusOK, "graph", pageData{Title: "Graph", Nav: "graph", Now: time.Now(), Content: p})
}

// layoutGraph assigns each component a column (its depth: one more than
// the deepest component with an arrow into it) and an order in the column
// that keeps arrows short: one sweep left to right ordering each column by
// the mean position of its predecessors, and one sweep back by successors.
func layoutGraph(cs []Component, edges []graphEdge) [][]*placed {
	byID := make(map[string]*placed, len(cs))
	for _, c := range cs {
		byID[c.ID] = &placed{c: c, depth: -1}
	}
	for _, e := range edges {
		from, to := byID[e.From.ID], byID[e.To.ID]
		if from == nil || to == nil {
			continue
		}
		from.out = append(from.out, to.c.ID)
		to.in = append(to.in, from.c.ID)
	}
	visiting := map[string]bool{}
	var depth func(p *placed) int
	depth = func(p *placed) int {
		if p.depth >= 0 {
			return p.depth
		}
		if visiting[p.c.ID] { // a cycle cannot load, but never loop on one
			return 0
		}
		visiting[p.c.ID] = true
		d := 0
		for _, id := range p.in {
			d = max(d, depth(byID[id])+1)
		}
		delete(visiting, p.c.ID)
		p.depth = d
		return d
	}
	var layers [][]*placed
	for _, c := range cs {
		p := byID[c.ID]
		d := depth(p)
		for len(layers) <= d {
			layers = append(layers, nil)
		}
		layers[d] = append(layers[d], p)
	}
	pos := map[string]float64{}
	setPos := func(layer []*placed) {
		for i, p := range layer {
			pos[p.c.ID] = float64(i) - float64(len(layer)-1)/2
		}
	}
	order := func(layer []*placed, neighbours func(*placed) []string) {
		key := make(map[string]float64, len(layer))
		for i, p := range layer {
			sum, n := 0.0, 0
			for _, id := range neighbours(p) {
				if v, ok := pos[id]; ok {
					sum += v
					n++
				}
			}
			if n > 0 {
				key[p.c.ID] = sum / float64(n)
			} else {
				key[p.c.ID] = float64(i) - float64(len(layer)-1)/2
			}
		}
		sort.SliceStable(layer, func(i, j int) bool { return key[layer[i].c.ID] < key[layer[j].c.ID] })
		setPos(layer)
	}
	if len(layers) > 0 {
		setPos(layers[0])
	}
	for d := 1; d < len(layers); d++ {
		order(layers[d], func(p *placed) []string { return p.in })
	}
	for d := len(layers) - 2; d >= 0; d-- {
		order(layers[d], func(p *placed) []string { return p.out })
	}
	return layers
}

// drawGraph returns the SVG. Every text it writes is escaped.
func drawGraph(cs []Component, edges []graphEdge) string {
	layers := layoutGraph(cs, edges)
	tallest := 0
	for _, l := range layers {
		tallest = max(tallest, len(l))
	}
	height := 2*gPad + float64(tallest)*gBoxH + float64(max(tallest-1, 0))*gVGap
	x := float64(gPad)
	byID := map[string]*placed{}
	for _, l := range layers {
		w := float64(gMinBoxW)
		for _, p := range l {
			w = max(w, float64(len(p.c.ID))*gCharW+2*gBoxInset)
		}
		lh := float64(len(l))*gBoxH + float64(len(l)-1)*gVGap
		y := (height - lh) / 2
		for _, p := range l {
			p.x, p.y, p.w = x, y, w
			y += gBoxH + gVGap
			byID[p.c.ID] = p
		}
		x += w + gHGap
	}
	width := x - gHGap + gPad

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="group" aria-label="Component graph">`, width, height, width, height)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>`)
	b.WriteString(`<g class="edges" aria-hidden="true">`)
	for _, e := range edges {
		from, to := byID[e.From.ID], byID[e.To.ID]
		if from == nil || to == nil {
			continue
		}
		x1, y1 := from.x+from.w, from.y+gBoxH/2
		x2, y2 := to.x-2, to.y+gBoxH/2
		dx := max((x2-x1)/2, 40)
		fmt.Fprintf(&b, `<path class="edge" d="M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f" marker-end="url(#arrow)"><title>%s</title></path>`,
			x1, y1, x1+dx, y1, x2-dx, y2, x2, y2, html.EscapeString(e.Describe()))
	}
	b.WriteString(`</g><g class="nodes">`)
	for _, l := range layers {
		for _, p := range l {
			st := healthState(p.c.Health)
			id := html.EscapeString(p.c.ID)
			tip := id + " — " + html.EscapeString(st)
			if p.c.Health.Message != "" {
				tip += ": " + html.EscapeString(p.c.Health.Message)
			}
			fmt.Fprintf(&b, `<a href="%s" class="gnode %s" aria-label="%s, %s"><title>%s</title>`,
				html.EscapeString(componentURL(p.c.ID)), healthClass(st), id, html.EscapeString(st), tip)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%d" rx="8"/>`, p.x, p.y, p.w, gBoxH)
			fmt.Fprintf(&b, `<text class="gid" x="%.1f" y="%.1f">%s</text>`, p.x+gBoxInset, p.y+23, id)
			fmt.Fprintf(&b, `<circle class="gdot" cx="%.1f" cy="%.1f" r="4.5"/>`, p.x+gBoxInset+4.5, p.y+39)
			fmt.Fprintf(&b, `<text class="ghealth" x="%.1f" y="%.1f">%s</text></a>`, p.x+gBoxInset+14, p.y+43, html.EscapeString(st))
		}
	}
	b.WriteString(`</g></svg>`)
	return b.String()
}

// Describe says what the arrow means, in a sentence.
func (e graphEdge) Describe() string {
	if e.Forward {
		return e.From.ID + " forwards samples to " + e.To.ID
	}
	return e.To.ID + " uses the exports of " + e.From.ID
}
