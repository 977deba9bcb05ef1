package runtime

import (
	"fmt"
	"slices"
	"testing"
)

func buildGraph(nodes []string, edges [][2]string) *graph {
	g := newGraph()
	for _, n := range nodes {
		g.add(n)
	}
	for _, e := range edges {
		g.addEdge(e[0], e[1])
	}
	return g
}

func TestTopoOrderPutsReferencedNodesFirst(t *testing.T) {
	// scrape references relabel and remote_write; relabel references file.
	g := buildGraph(
		[]string{"scrape", "relabel", "file", "rw"},
		[][2]string{{"scrape", "relabel"}, {"scrape", "rw"}, {"relabel", "file"}},
	)
	got := g.topoOrder()
	want := []string{"file", "relabel", "rw", "scrape"}
	if !slices.Equal(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
}

func TestTopoOrderIsDeterministicAmongIndependentNodes(t *testing.T) {
	g := buildGraph([]string{"c", "a", "b"}, nil)
	for range 5 {
		if got := g.topoOrder(); !slices.Equal(got, []string{"a", "b", "c"}) {
			t.Fatalf("order = %v", got)
		}
	}
}

func TestDependantsAreTransitiveAndOrdered(t *testing.T) {
	g := buildGraph(
		[]string{"a", "b", "c", "d", "x"},
		[][2]string{{"b", "a"}, {"c", "b"}, {"d", "a"}, {"d", "c"}},
	)
	if got := g.dependants([]string{"a"}); !slices.Equal(got, []string{"b", "c", "d"}) {
		t.Fatalf("dependants(a) = %v", got)
	}
	if got := g.dependants([]string{"x"}); got != nil {
		t.Fatalf("dependants(x) = %v, want none", got)
	}
}

func TestCyclesNameEveryMember(t *testing.T) {
	g := buildGraph(
		[]string{"a", "b", "c", "d", "e", "self"},
		[][2]string{{"a", "b"}, {"b", "c"}, {"c", "a"}, {"d", "a"}, {"self", "self"}},
	)
	got := fmt.Sprint(g.cycles())
	if want := "[[a b c] [self]]"; got != want {
		t.Fatalf("cycles = %s, want %s", got, want)
	}
	// Nodes on or behind a cycle cannot be ordered.
	if got := g.topoOrder(); !slices.Equal(got, []string{"e"}) {
		t.Fatalf("order = %v, want [e]", got)
	}
}

func TestCyclesOnLongChainDoNotOverflow(t *testing.T) {
	g := newGraph()
	const n = 20000
	for i := range n {
		g.add(fmt.Sprint(i))
	}
	for i := range n - 1 {
		g.addEdge(fmt.Sprint(i), fmt.Sprint(i+1))
	}
	if c := g.cycles(); len(c) != 0 {
		t.Fatalf("unexpected cycles: %d", len(c))
	}
	g.addEdge(fmt.Sprint(n-1), "0")
	if c := g.cycles(); len(c) != 1 || len(c[0]) != n {
		t.Fatalf("want one cycle of %d nodes", n)
	}
}
