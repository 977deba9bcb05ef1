package web

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/internal/livedebug"
	"github.com/shoal-dev/shoal/internal/syntax/alloyjson"
)

// componentJSON is Alloy's component info shape (web/api in Alloy).
type componentJSON struct {
	Name                 string          `json:"name"`
	Type                 string          `json:"type,omitempty"`
	LocalID              string          `json:"localID"`
	ModuleID             string          `json:"moduleID"`
	Label                string          `json:"label,omitempty"`
	ReferencesTo         []string        `json:"referencesTo"`
	ReferencedBy         []string        `json:"referencedBy"`
	DataFlowEdgesTo      []string        `json:"dataFlowEdgesTo"`
	Health               healthJSON      `json:"health"`
	Arguments            json.RawMessage `json:"arguments,omitempty"`
	Exports              json.RawMessage `json:"exports,omitempty"`
	DebugInfo            json.RawMessage `json:"debugInfo,omitempty"`
	CreatedModuleIDs     []string        `json:"createdModuleIDs,omitempty"`
	LiveDebuggingEnabled bool            `json:"liveDebuggingEnabled"`
}

type healthJSON struct {
	State       string    `json:"state"`
	Message     string    `json:"message"`
	UpdatedTime time.Time `json:"updatedTime"`
}

type peerJSON struct {
	Name              string         `json:"name"`
	Addr              string         `json:"addr"`
	IsSelf            bool           `json:"isSelf"`
	State             string         `json:"state"`
	Alive             bool           `json:"alive"`
	Since             time.Time      `json:"since"`
	ConfigFingerprint string         `json:"configFingerprint"`
	FingerprintMatch  bool           `json:"configMatches"`
	TargetsOwned      map[string]int `json:"targetsOwned"`
	ClockOffsetMs     float64        `json:"clockOffsetMs"`
	Note              string         `json:"note,omitempty"`
}

type targetJSON struct {
	Component string            `json:"component"`
	Key       string            `json:"key"`
	URL       string            `json:"url"`
	Labels    map[string]string `json:"labels"`
	Owner     string            `json:"owner"`
}

func (s *Server) apiRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/v0/web/components", s.apiComponents)
	// IDs of components inside modules hold slashes, as in Alloy.
	m.HandleFunc("GET /api/v0/web/components/{id...}", s.apiComponent)
	m.HandleFunc("GET /api/v0/web/modules/{rest...}", s.apiModuleComponents)
	m.HandleFunc("GET /api/v0/web/peers", s.apiPeers)
	m.HandleFunc("GET /api/v0/web/targets", s.apiTargets)
	m.HandleFunc("GET /api/v0/web/debug/{id...}", s.apiLiveDebug)
}

// components lists every component of every module, each module's
// components right after the custom component instance that runs it.
func (s *Server) components() []Component {
	if s.opts.Components == nil {
		return nil
	}
	cs := s.opts.Components()
	for i := range cs {
		if cs[i].LocalID == "" {
			cs[i].LocalID = cs[i].ID
			if k := strings.LastIndexByte(cs[i].ID, '/'); k >= 0 {
				cs[i].ModuleID, cs[i].LocalID = cs[i].ID[:k], cs[i].ID[k+1:]
			}
		}
	}
	sort.Slice(cs, func(i, j int) bool { return treeLess(cs[i].ID, cs[j].ID) })
	return cs
}

// treeLess orders global IDs as a tree: by module path segment, so that
// "a.b" comes right before "a.b/c.d" whatever characters follow.
func treeLess(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] != bs[i] {
			return as[i] < bs[i]
		}
	}
	return len(as) < len(bs)
}

// globalIDs turns IDs local to a module into global ones: the API shows
// references as Alloy does, within the module; the UI links them.
func globalIDs(moduleID string, ids []string) []string {
	if moduleID == "" {
		return ids
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = moduleID + "/" + id
	}
	return out
}

// moduleComponents lists the components of one module ("" for the file).
func (s *Server) moduleComponents(moduleID string) []Component {
	var out []Component
	for _, c := range s.components() {
		if c.ModuleID == moduleID {
			out = append(out, c)
		}
	}
	return out
}

func (s *Server) findComponent(id string) (Component, bool) {
	for _, c := range s.components() {
		if c.ID == id {
			return c, true
		}
	}
	return Component{}, false
}

func encodeComponent(c Component, detail bool) (componentJSON, error) {
	out := componentJSON{
		Name:                 c.Name,
		Type:                 "block",
		LocalID:              c.LocalID,
		ModuleID:             c.ModuleID,
		CreatedModuleIDs:     c.ModuleIDs,
		Label:                c.Label,
		LiveDebuggingEnabled: livedebug.Supports(c.Name),
		ReferencesTo:         nonNil(c.ReferencesTo),
		ReferencedBy:         nonNil(c.ReferencedBy),
		DataFlowEdgesTo:      nonNil(c.ReferencedBy),
		Health: healthJSON{
			State:       string(c.Health.State),
			Message:     c.Health.Message,
			UpdatedTime: c.Health.Updated,
		},
	}
	if out.Health.State == "" {
		out.Health.State = "unknown"
	}
	if !detail {
		return out, nil
	}
	var err error
	if c.Arguments != nil {
		if out.Arguments, err = alloyjson.MarshalBody(c.Arguments); err != nil {
			return out, err
		}
	}
	if c.Exports != nil {
		if out.Exports, err = alloyjson.MarshalBody(c.Exports); err != nil {
			return out, err
		}
	}
	if c.DebugInfo != nil {
		if out.DebugInfo, err = alloyjson.MarshalBody(c.DebugInfo); err != nil {
			return out, err
		}
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// apiComponents lists the components at the top of the file, as Alloy
// does; those of a module are under /api/v0/web/modules/{id}/components.
func (s *Server) apiComponents(w http.ResponseWriter, r *http.Request) {
	s.writeComponents(w, s.moduleComponents(""))
}

func (s *Server) apiModuleComponents(w http.ResponseWriter, r *http.Request) {
	moduleID, ok := strings.CutSuffix(r.PathValue("rest"), "/components")
	if !ok || moduleID == "" {
		http.NotFound(w, r)
		return
	}
	cs := s.moduleComponents(moduleID)
	if len(cs) == 0 {
		if _, exists := s.findComponent(moduleID); !exists {
			http.Error(w, "module not found", http.StatusNotFound)
			return
		}
	}
	s.writeComponents(w, cs)
}

func (s *Server) writeComponents(w http.ResponseWriter, cs []Component) {
	out := make([]componentJSON, 0, len(cs))
	for _, c := range cs {
		j, err := encodeComponent(c, true)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out = append(out, j)
	}
	writeJSON(w, out)
}

func (s *Server) apiComponent(w http.ResponseWriter, r *http.Request) {
	c, ok := s.findComponent(r.PathValue("id"))
	if !ok {
		http.Error(w, "component not found", http.StatusNotFound)
		return
	}
	j, err := encodeComponent(c, true)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, j)
}

func (s *Server) peers() []Peer {
	if s.opts.Peers == nil {
		return nil
	}
	ps := s.opts.Peers()
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps
}

func (s *Server) apiPeers(w http.ResponseWriter, r *http.Request) {
	ps := s.peers()
	out := make([]peerJSON, 0, len(ps))
	for _, p := range ps {
		owned := p.TargetsOwned
		if owned == nil {
			owned = map[string]int{}
		}
		out = append(out, peerJSON{
			Name: p.Name, Addr: p.Addr, IsSelf: p.Self, State: p.State, Alive: p.Alive,
			Since: p.Since, ConfigFingerprint: p.ConfigFingerprint, FingerprintMatch: p.FingerprintMatch,
			TargetsOwned: owned, ClockOffsetMs: float64(p.ClockOffset) / float64(time.Millisecond),
			Note: p.Note,
		})
	}
	writeJSON(w, out)
}

// matchTarget reports whether a target matches a "who scrapes X" query: a
// substring of its URL, owner, key or any label value, or name=value.
func matchTarget(t TargetOwner, q string) bool {
	q = strings.TrimSpace(q)
	if q == "" {
		return true
	}
	if name, val, ok := strings.Cut(q, "="); ok {
		v, has := t.Labels[strings.TrimSpace(name)]
		return has && strings.Contains(v, strings.Trim(strings.TrimSpace(val), `"`))
	}
	if strings.Contains(t.URL, q) || strings.Contains(t.Owner, q) || strings.Contains(hexKey(t.Key), q) {
		return true
	}
	for _, v := range t.Labels {
		if strings.Contains(v, q) {
			return true
		}
	}
	return false
}

func (s *Server) targets(match string) []TargetOwner {
	if s.opts.Targets == nil {
		return nil
	}
	return filterTargets(s.opts.Targets(), match)
}

// filterTargets keeps the targets that match a "who scrapes X" query, in
// component and URL order.
func filterTargets(all []TargetOwner, match string) []TargetOwner {
	out := all[:0:0]
	for _, t := range all {
		if matchTarget(t, match) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Component != out[j].Component {
			return out[i].Component < out[j].Component
		}
		if out[i].URL != out[j].URL {
			return out[i].URL < out[j].URL
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func (s *Server) apiTargets(w http.ResponseWriter, r *http.Request) {
	ts := s.targets(r.URL.Query().Get("match"))
	out := make([]targetJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, targetJSON{Component: t.Component, Key: hexKey(t.Key), URL: t.URL, Labels: t.Labels, Owner: t.Owner})
	}
	writeJSON(w, out)
}

func hexKey(k uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = digits[k&0xf]
		k >>= 4
	}
	return string(b[:])
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
