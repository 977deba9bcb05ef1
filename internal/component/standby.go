package component

// StandbyCluster is what a Cluster offers for a hot standby (replicas = 2
// in a clustered component's clustering block). It is a separate
// interface so that a Cluster without it runs every component with one
// replica; the node's cluster implements it.
type StandbyCluster interface {
	Cluster
	// Standby reports whether this node is the standby of key at tick t:
	// the node that would own it were its owner not eligible. It names
	// the owner, the primary.
	Standby(key uint64, t int64) (primary string, ok bool)
	// Delivered returns the last delivery watermark peer gossiped (see
	// Delivery.Watermark), and whether it is alive: false once it is
	// declared dead or has left.
	Delivered(peer string) (watermark int64, alive bool)
	// SetReplicas tells the cluster how many nodes scrape each target of
	// a component (1 or 2); while any component has 2 the node gossips
	// its watermark more often.
	SetReplicas(componentID string, replicas int)
}
