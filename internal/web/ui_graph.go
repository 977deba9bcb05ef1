package web

import (
	"fmt"
	"html"
	"net/http"
	"sort"
	"strings"
	"time"
)

// The component graph (/graph), drawn by the server as SVG: components in
// columns by depth (a component's depth is one more than the deepest
// component whose exports it uses), arrows from the exporting component to
// the one that uses the export.

type graphPage struct {
	SVG   string
	Nodes []graphNode
}

type graphNode struct {
	ID, URL string
	Refs    []link
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
	x, y, w float64
}

func (s *Server) pageGraph(w http.ResponseWriter, r *http.Request) {
	cs := s.components()
	p := graphPage{}
	for _, c := range cs {
		p.Nodes = append(p.Nodes, graphNode{ID: c.ID, URL: componentURL(c.ID), Refs: links(c.ReferencesTo)})
	}
	if len(cs) > 0 {
		p.SVG = drawGraph(cs)
	}
	s.render(w, http.StatusOK, "graph", pageData{Title: "Graph", Nav: "graph", Now: time.Now(), Content: p})
}

// layoutGraph assigns each component a column (its depth) and an order in
// the column that keeps arrows short: one sweep left to right ordering each
// column by the mean position of what it references, and one sweep back.
func layoutGraph(cs []Component) [][]*placed {
	byID := make(map[string]*placed, len(cs))
	for _, c := range cs {
		byID[c.ID] = &placed{c: c, depth: -1}
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
		for _, ref := range p.c.ReferencesTo {
			if q, ok := byID[ref]; ok {
				d = max(d, depth(q)+1)
			}
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
		order(layers[d], func(p *placed) []string { return p.c.ReferencesTo })
	}
	for d := len(layers) - 2; d >= 0; d-- {
		order(layers[d], func(p *placed) []string { return p.c.ReferencedBy })
	}
	return layers
}

// drawGraph returns the SVG. Every text it writes is escaped.
func drawGraph(cs []Component) string {
	layers := layoutGraph(cs)
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
	for _, l := range layers {
		for _, p := range l {
			for _, ref := range p.c.ReferencesTo {
				q, ok := byID[ref]
				if !ok {
					continue
				}
				x1, y1 := q.x+q.w, q.y+gBoxH/2
				x2, y2 := p.x-2, p.y+gBoxH/2
				dx := (x2 - x1) / 2
				fmt.Fprintf(&b, `<path class="edge" d="M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f" marker-end="url(#arrow)"><title>%s uses the exports of %s</title></path>`,
					x1, y1, x1+dx, y1, x2-dx, y2, x2, y2, html.EscapeString(p.c.ID), html.EscapeString(q.c.ID))
			}
		}
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
