package agent

import (
	"time"

	"github.com/shoal-dev/shoal/internal/cluster"
	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/web"
)

// The views translate the runtime's and the cluster's state into what the
// web package shows.

func (n *node) components() []web.Component {
	infos := n.rt.Components()
	out := make([]web.Component, 0, len(infos))
	for _, c := range infos {
		out = append(out, web.Component{
			ID: c.ID, ModuleID: c.ModuleID, LocalID: c.LocalID, ModuleIDs: c.ModuleIDs,
			Name: c.Name, Label: c.Label, Health: c.Health,
			Arguments: c.Arguments, Exports: c.Exports, DebugInfo: c.DebugInfo,
			ReferencesTo: c.ReferencesTo, ReferencedBy: c.ReferencedBy,
		})
	}
	return out
}

func (n *node) peers() []web.Peer {
	ps := n.cluster.Peers()
	out := make([]web.Peer, 0, len(ps))
	for _, p := range ps {
		out = append(out, web.Peer{
			Name: p.Name, Addr: p.Addr, State: p.State.String(), Self: p.Self, Alive: p.Alive,
			// A different handoff delay is config drift too (the UI lists
			// the peer as drifted; Note says what differs).
			Since: p.Since, ConfigFingerprint: p.ConfigFingerprint, FingerprintMatch: p.FingerprintMatches && p.HandoffDelayMatches,
			TargetsOwned: p.TargetsOwned, ClockOffset: p.ClockOffset, Note: p.Note,
		})
	}
	return out
}

// targets lists every target of every clustered scrape component with the
// node that owns it now, as this node computes it.
func (n *node) targets() []web.TargetOwner {
	now := time.Now().UnixMilli()
	var out []web.TargetOwner
	for _, c := range n.rt.Components() {
		tl, ok := c.Instance.(component.TargetLister)
		if !ok || !tl.Clustered() {
			continue
		}
		for _, t := range tl.ClusterTargets() {
			out = append(out, web.TargetOwner{
				Component: c.ID, Key: t.Key, URL: t.URL, Labels: t.Labels,
				Owner: n.cluster.OwnerOf(t.Key, now),
			})
		}
	}
	return out
}

func (n *node) clusterStatus() web.ClusterStatus {
	st := web.ClusterStatus{Enabled: n.cluster.Enabled(), Self: n.cluster.Name()}
	if !st.Enabled {
		st.Ready = true
		st.Message = "Clustering is disabled: this node scrapes every target of every scrape component."
		return st
	}
	st.Ready = n.cluster.Ready()
	if !st.Ready {
		self := n.cluster.Self()
		st.Message = "This node is " + self.State.String() + " and does not own targets yet."
		if self.Note != "" {
			st.Message = "This node is " + self.State.String() + " and does not own targets: " + self.Note + "."
		}
		if self.State == cluster.Participant {
			st.Message = "The cluster is below --cluster.wait-for-size; waiting for more participants."
		}
	}
	return st
}
