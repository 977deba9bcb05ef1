package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/livedebug"
)

// The component list (/).

type componentsPage struct {
	Total  int
	States []stateCount
	Rows   []componentRow
}

type stateCount struct {
	State string
	Count int
}

type componentRow struct {
	ID, URL, State, Message string
	// Depth is how many custom component instances the component is
	// nested in; Local is its ID there, shown indented under them.
	Depth int
	Local string
	timeText
}

// timeText is a moment shown as "4.2s ago" with the exact time in a
// tooltip and a machine-readable datetime.
type timeText struct {
	ISO, Title, Ago string
}

func newTimeText(now, t time.Time) timeText {
	if t.IsZero() {
		return timeText{}
	}
	return timeText{ISO: t.UTC().Format(time.RFC3339Nano), Title: fmtTime(t), Ago: fmtAgo(now, t)}
}

func healthState(h component.Health) string {
	if h.State == "" {
		return string(component.HealthUnknown)
	}
	return string(h.State)
}

func (s *Server) pageComponents(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	cs := s.components()
	p := componentsPage{Total: len(cs)}
	counts := map[string]int{}
	for _, c := range cs {
		st := healthState(c.Health)
		counts[st]++
		local := c.LocalID
		if local == "" {
			local = c.ID
		}
		p.Rows = append(p.Rows, componentRow{
			ID: c.ID, URL: componentURL(c.ID), State: st, Message: c.Health.Message,
			Depth: strings.Count(c.ID, "/"), Local: local,
			timeText: newTimeText(now, c.Health.Updated),
		})
	}
	for _, st := range []component.HealthState{component.HealthHealthy, component.HealthUnhealthy, component.HealthExited, component.HealthUnknown} {
		if n := counts[string(st)]; n > 0 {
			p.States = append(p.States, stateCount{string(st), n})
		}
	}
	s.render(w, http.StatusOK, "components", pageData{Title: "Components", Nav: "components", Now: now, Content: p})
}

// The component page (/component/{id}).

type componentPage struct {
	ID, Name, State, Message string
	timeText
	RefsTo, RefsBy                []link
	Args, Exports, Debug          *bodyView
	ArgsErr, ExportsErr, DebugErr string
	DebugIntro                    string
	HasTable                      bool
	// Long argument lists (prometheus.scrape has forty attributes) start
	// folded, so that the debug info is not pages below.
	ArgsCollapsed bool
	ArgsSummary   string
	Filter        filterView
	LiveDebug     liveDebugView
}

// liveDebugView is the live debugging section of a component page.
type liveDebugView struct {
	Supported, Enabled bool
	URL                string // the stream, from the UI root
}

// bodyView is a body ready for the template: its attributes, then its
// blocks (tables for repeated flat blocks in the debug info).
type bodyView struct {
	Attrs  []attrView
	Blocks []blockView
}

type attrView struct {
	Name string
	HTML string // from renderValue
	Fold string // set for long values, which start folded
}

type blockView struct {
	Name, Label string
	Body        *bodyView
	Table       *tableView
}

// filterView is the filter or search form above a table.
type filterView struct {
	ID, Label, Name, Value, Placeholder, Button, ClearURL string
	Keep                                                  []labelPair // other query parameters to carry
}

// debugIntro explains the debug info of the components that have a
// well-known one.
func debugIntro(name string) string {
	switch name {
	case "prometheus.scrape":
		return "The targets this node scrapes now. With clustering, each node lists only the targets it owns: compare this page across nodes, and together they cover every target exactly once."
	}
	return ""
}

// tableNoun names the rows of a table of blocks.
func tableNoun(block string) string {
	switch block {
	case "target":
		return "targets"
	case "entry":
		return "entries"
	}
	return "“" + block + "” blocks"
}

func (s *Server) pageComponent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c, ok := s.findComponent(id)
	if !ok {
		s.notFound(w, fmt.Sprintf("There is no component %q in the loaded configuration.", id))
		return
	}
	now := time.Now()
	q := r.URL.Query()
	tq := parseTableQuery(q)
	p := componentPage{
		ID: c.ID, Name: c.Name, State: healthState(c.Health), Message: c.Health.Message,
		timeText:   newTimeText(now, c.Health.Updated),
		RefsTo:     links(globalIDs(c.ModuleID, c.ReferencesTo)),
		RefsBy:     links(globalIDs(c.ModuleID, c.ReferencedBy)),
		DebugIntro: debugIntro(c.Name),
		LiveDebug: liveDebugView{
			Supported: livedebug.Supports(c.Name),
			Enabled:   s.opts.LiveDebug.Enabled(),
			URL:       "/api/v0/web/debug/" + url.PathEscape(c.ID),
		},
	}
	node := s.clusterStatus().Self
	build := func(v any, tables bool) (*bodyView, string) {
		items, err := viewBody(v, tables)
		if err != nil {
			return nil, err.Error()
		}
		return makeBodyView(items, tq, q, now, node, &p.HasTable), ""
	}
	p.Args, p.ArgsErr = build(c.Arguments, false)
	if p.Args != nil {
		na, nb := len(p.Args.Attrs), len(p.Args.Blocks)
		p.ArgsCollapsed = na+nb > 15
		p.ArgsSummary = fmt.Sprintf("%d %s", na, plural(na, "attribute", "attributes"))
		if nb > 0 {
			p.ArgsSummary += fmt.Sprintf(" and %d %s", nb, plural(nb, "block", "blocks"))
		}
	}
	p.Exports, p.ExportsErr = build(c.Exports, false)
	p.Debug, p.DebugErr = build(c.DebugInfo, true)
	p.Filter = filterView{
		ID: "filter-debug", Label: "Filter rows", Name: "q", Value: tq.Filter,
		Placeholder: "URL, label, health or error", Button: "Filter",
		ClearURL: withQuery(q, map[string]string{"q": "", "page": ""}),
		Keep:     keepParams(q, "sort", "order", "limit"),
	}
	s.render(w, http.StatusOK, "component", pageData{Title: c.ID, Nav: "components", Now: now, Content: p})
}

func keepParams(q url.Values, names ...string) []labelPair {
	var out []labelPair
	for _, n := range names {
		if v := q.Get(n); v != "" {
			out = append(out, labelPair{n, v})
		}
	}
	return out
}

func makeBodyView(items []item, tq tableQuery, q url.Values, now time.Time, node string, hasTable *bool) *bodyView {
	if len(items) == 0 {
		return nil
	}
	b := &bodyView{}
	for _, it := range items {
		switch {
		case !it.Block:
			b.Attrs = append(b.Attrs, attrView{Name: it.Name, HTML: renderValue(it.Value), Fold: foldSummary(it.Value)})
		case it.Table != nil:
			tv := it.Table.view(tq, q, now)
			noun := tableNoun(it.Name)
			tv.Pager.Noun = noun
			tv.Caption = fmt.Sprintf("Debug info: %s", noun)
			if it.Name == "target" {
				tv.Caption = "Targets scraped by this node now"
				if node != "" {
					tv.Caption = "Targets scraped by " + node + " now"
				}
			}
			*hasTable = true
			b.Blocks = append(b.Blocks, blockView{Name: it.Name, Table: &tv})
		default:
			b.Blocks = append(b.Blocks, blockView{
				Name: it.Name, Label: it.Label,
				Body: makeBodyView(it.Body, tq, q, now, node, hasTable),
			})
		}
	}
	return b
}

// The cluster page (/clustering).

type clusterPage struct {
	Status              ClusterStatus
	NodesText           string
	Self                string
	Peers               []peerRow
	Components          []link
	Balance             []balanceRow
	Alive, Participants int
	Drift               string
}

type peerRow struct {
	Name, Addr, State string
	Self, Alive       bool
	timeText
	Fingerprint      string
	FingerprintMatch bool
	Offset           string
	Owned            []string // per entry of Components
}

type balanceRow struct {
	ID, URL                      string
	Total, Participants, Largest int
	Mean, Ratio, Class           string
}

// peerState is the state a user should read: a node that memberlist holds
// as dead or departed shows so, whatever its last record said.
func peerState(p Peer) string {
	if p.Alive {
		return p.State
	}
	if p.State == "terminating" {
		return "left"
	}
	return "dead"
}

func (s *Server) pageClustering(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	st := s.clusterStatus()
	if !st.Enabled && st.Message == "" {
		st.Message = "This node scrapes every target of every scrape component."
	}
	peers := s.peers()
	p := clusterPage{Status: st, Self: st.Self}

	compSet := map[string]bool{}
	for _, pe := range peers {
		for id := range pe.TargetsOwned {
			compSet[id] = true
		}
	}
	comps := make([]string, 0, len(compSet))
	for id := range compSet {
		comps = append(comps, id)
	}
	sort.Strings(comps)
	p.Components = links(comps)

	var drifted []string
	for _, pe := range peers {
		row := peerRow{
			Name: pe.Name, Addr: pe.Addr, State: peerState(pe), Self: pe.Self, Alive: pe.Alive,
			timeText:    newTimeText(now, pe.Since),
			Fingerprint: pe.ConfigFingerprint, FingerprintMatch: pe.FingerprintMatch || pe.Self,
			Offset: "—",
		}
		if pe.Self && p.Self == "" {
			p.Self = pe.Name
		}
		if !pe.Self && pe.Alive {
			row.Offset = fmt.Sprintf("%+.1f ms", float64(pe.ClockOffset)/float64(time.Millisecond))
		}
		if pe.Alive {
			p.Alive++
			if pe.State == "participant" {
				p.Participants++
			}
			if !row.FingerprintMatch {
				drifted = append(drifted, pe.Name)
			}
		}
		for _, id := range comps {
			n, ok := pe.TargetsOwned[id]
			if !ok || !pe.Alive {
				row.Owned = append(row.Owned, "—")
				continue
			}
			row.Owned = append(row.Owned, fmt.Sprint(n))
		}
		p.Peers = append(p.Peers, row)
	}
	p.NodesText = fmt.Sprintf("%d %s", len(p.Peers), plural(len(p.Peers), "node", "nodes"))
	if len(drifted) > 0 {
		p.Drift = fmt.Sprintf("%s %s a different configuration than this node.", strings.Join(drifted, ", "), plural(len(drifted), "loads", "load"))
	}
	for _, id := range comps {
		b := balanceRow{ID: id, URL: componentURL(id), Mean: "—", Ratio: "—", Class: "unknown"}
		for _, pe := range peers {
			if !pe.Alive {
				continue
			}
			n := pe.TargetsOwned[id]
			b.Total += n
			if pe.State == "participant" {
				b.Participants++
				b.Largest = max(b.Largest, n)
			}
		}
		if b.Participants > 0 && b.Total > 0 {
			mean := float64(b.Total) / float64(b.Participants)
			ratio := float64(b.Largest) / mean
			b.Mean, b.Ratio = fmt.Sprintf("%.1f", mean), fmt.Sprintf("%.2f", ratio)
			switch {
			case ratio <= 1.25:
				b.Class = "ok"
			case ratio <= 1.5:
				b.Class = "warn"
			default:
				b.Class = "bad"
			}
		}
		p.Balance = append(p.Balance, b)
	}
	s.render(w, http.StatusOK, "clustering", pageData{Title: "Clustering", Nav: "clustering", Now: now, Content: p})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// The cluster-wide target list (/targets).

type targetsPage struct {
	Status ClusterStatus
	Self   string
	Filter filterView
	Counts []ownerCount
	Rows   []targetRow
	Pager  pager
}

type ownerCount struct {
	Owner string
	Self  bool
	Count int
	Share string
}

type targetRow struct {
	Component, ComponentURL, URL, Key, Owner, OwnerURL string
	Self                                               bool
	Labels                                             []labelPair
}

func (s *Server) pageTargets(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	q := r.URL.Query()
	match := strings.TrimSpace(q.Get("match"))
	tq := parseTableQuery(q)
	tq.Filter = match
	st := s.clusterStatus()
	var all []TargetOwner
	if s.opts.Targets != nil {
		all = s.opts.Targets()
	}
	ts := filterTargets(all, match)

	p := targetsPage{Status: st, Self: st.Self}
	p.Filter = filterView{
		ID: "search-targets", Label: "Who scrapes", Name: "match", Value: match,
		Placeholder: "a URL, host:port, label value, name=value or node", Button: "Search",
		ClearURL: withQuery(q, map[string]string{"match": "", "page": ""}),
		Keep:     keepParams(q, "limit"),
	}
	p.Pager = paginate(len(all), len(ts), tq, q)
	p.Pager.Noun = "targets"

	// An owner links to its own page for the component, filtered to the
	// target, so that "who scrapes X" ends on the node that does.
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	addrs := map[string]string{}
	for _, pe := range s.peers() {
		addrs[pe.Name] = pe.Addr
		if pe.Self && p.Self == "" {
			p.Self = pe.Name
		}
	}
	ownerURL := func(owner, comp, target string) string {
		path := componentURL(comp) + "?" + url.Values{"q": {target}}.Encode()
		if owner == p.Self {
			return path
		}
		if a := addrs[owner]; a != "" {
			// Peers share the command line, so the same UI prefix.
			return scheme + "://" + a + s.prefix + path
		}
		return ""
	}

	counts := map[string]int{}
	for _, t := range ts {
		counts[t.Owner]++
	}
	for owner, n := range counts {
		p.Counts = append(p.Counts, ownerCount{Owner: owner, Self: owner != "" && owner == p.Self, Count: n,
			Share: fmt.Sprintf("%.1f%%", 100*float64(n)/float64(len(ts)))})
	}
	sort.Slice(p.Counts, func(i, j int) bool { return p.Counts[i].Owner < p.Counts[j].Owner })

	if p.Pager.From > 0 {
		for _, t := range ts[p.Pager.From-1 : p.Pager.To] {
			p.Rows = append(p.Rows, targetRow{
				Component: t.Component, ComponentURL: componentURL(t.Component),
				URL: t.URL, Key: hexKey(t.Key), Owner: t.Owner, Self: t.Owner != "" && t.Owner == p.Self,
				OwnerURL: ownerURL(t.Owner, t.Component, t.URL),
				Labels:   stringMapPairs(t.Labels),
			})
		}
	}
	s.render(w, http.StatusOK, "targets", pageData{Title: "Targets", Nav: "targets", Now: now, Content: p})
}
