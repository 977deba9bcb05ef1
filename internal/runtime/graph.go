package runtime

import (
	"container/heap"
	"sort"
)

// graph is the dependency graph of the components of one config. An edge
// from a to b means that a's arguments reference b's exports, so b must be
// evaluated before a. Node names are component IDs.
type graph struct {
	nodes map[string]struct{}
	// refs[a] is the set of nodes that a references (a depends on them).
	refs map[string]map[string]struct{}
	// users[b] is the set of nodes that reference b (they depend on b).
	users map[string]map[string]struct{}
}

func newGraph() *graph {
	return &graph{
		nodes: make(map[string]struct{}),
		refs:  make(map[string]map[string]struct{}),
		users: make(map[string]map[string]struct{}),
	}
}

func (g *graph) add(id string) { g.nodes[id] = struct{}{} }

// addEdge records that from references to. Both must have been added.
func (g *graph) addEdge(from, to string) {
	if g.refs[from] == nil {
		g.refs[from] = make(map[string]struct{})
	}
	g.refs[from][to] = struct{}{}
	if g.users[to] == nil {
		g.users[to] = make(map[string]struct{})
	}
	g.users[to][from] = struct{}{}
}

// referencesTo lists, sorted, the nodes id references.
func (g *graph) referencesTo(id string) []string { return sortedKeys(g.refs[id]) }

// referencedBy lists, sorted, the nodes that reference id.
func (g *graph) referencedBy(id string) []string { return sortedKeys(g.users[id]) }

// topoOrder returns every node such that each comes after all the nodes it
// references. Among nodes that are ready at the same time the order is by
// name, so that evaluation is deterministic. Nodes on a cycle, and those
// that depend on one, are left out; cycles reports them.
func (g *graph) topoOrder() []string {
	pending := make(map[string]int, len(g.nodes))
	ready := &nameHeap{}
	for id := range g.nodes {
		pending[id] = len(g.refs[id])
		if pending[id] == 0 {
			*ready = append(*ready, id)
		}
	}
	heap.Init(ready)
	order := make([]string, 0, len(g.nodes))
	for ready.Len() > 0 {
		id := heap.Pop(ready).(string)
		order = append(order, id)
		for u := range g.users[id] {
			pending[u]--
			if pending[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	return order
}

// nameHeap is a min-heap of node names.
type nameHeap []string

func (h nameHeap) Len() int           { return len(h) }
func (h nameHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h nameHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nameHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *nameHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// dependants returns the nodes that transitively reference any of ids (not
// including ids themselves unless they are reached again), in topological
// order.
func (g *graph) dependants(ids []string) []string {
	reached := make(map[string]bool)
	stack := append([]string(nil), ids...)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for u := range g.users[id] {
			if !reached[u] {
				reached[u] = true
				stack = append(stack, u)
			}
		}
	}
	if len(reached) == 0 {
		return nil
	}
	out := make([]string, 0, len(reached))
	for _, id := range g.topoOrder() {
		if reached[id] {
			out = append(out, id)
		}
	}
	return out
}

// cycles returns the strongly connected components that form cycles (more
// than one node, or one node that references itself), each sorted by name,
// ordered by their first member. It uses Tarjan's algorithm, iteratively so
// that a long chain cannot overflow the stack.
func (g *graph) cycles() [][]string {
	ids := sortedKeys(g.nodes)
	index := make(map[string]int, len(ids))
	low := make(map[string]int, len(ids))
	onStack := make(map[string]bool)
	var stack []string
	var out [][]string
	next := 0

	type frame struct {
		id    string
		succs []string
		i     int
	}
	for _, root := range ids {
		if _, seen := index[root]; seen {
			continue
		}
		visit := func(id string) frame {
			index[id] = next
			low[id] = next
			next++
			stack = append(stack, id)
			onStack[id] = true
			return frame{id: id, succs: sortedKeys(g.refs[id])}
		}
		frames := []frame{visit(root)}
		for len(frames) > 0 {
			f := &frames[len(frames)-1]
			if f.i < len(f.succs) {
				s := f.succs[f.i]
				f.i++
				if _, seen := index[s]; !seen {
					frames = append(frames, visit(s))
				} else if onStack[s] {
					low[f.id] = min(low[f.id], index[s])
				}
				continue
			}
			id := f.id
			frames = frames[:len(frames)-1]
			if len(frames) > 0 {
				parent := frames[len(frames)-1].id
				low[parent] = min(low[parent], low[id])
			}
			if low[id] != index[id] {
				continue
			}
			var scc []string
			for {
				top := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[top] = false
				scc = append(scc, top)
				if top == id {
					break
				}
			}
			_, self := g.refs[id][id]
			if len(scc) > 1 || self {
				sort.Strings(scc)
				out = append(out, scc)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

func sortedKeys(m map[string]struct{}) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
