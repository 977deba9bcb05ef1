package cluster

import (
	"testing"
	"time"
)

func TestNodesJoinAndConverge(t *testing.T) {
	a := startNode(t, "a")
	b := startNode(t, "b", withJoin(a.addr()))
	c := startNode(t, "c", withJoin(a.addr()))
	for _, n := range []*tnode{a, b, c} {
		eventually(t, 10*time.Second, n.name+" to see a, b and c", func() bool { return sees(n.Node, "a", "b", "c") })
	}
}
