package gcmod

import (
	"github.com/objgraph-go/objgraph/heap"
	"github.com/objgraph-go/objgraph/internal/bitset"
)

// sccs numbers the strongly connected components of sub with Tarjan's
// algorithm, iteratively: comp[i] is node i's component, and components
// come in reverse topological order (a component's successors have lower
// numbers).
func sccs(sub *subgraph) (comp []int32, n int32) {
	nodes := int32(len(sub.off) - 1)
	index := make([]int32, nodes) // 1 + visiting order; 0 is unvisited
	low := make([]int32, nodes)
	comp = make([]int32, nodes)
	onStack := bitset.New[heap.ID](int(nodes))
	var stack []int32 // Tarjan's stack of nodes
	type frame struct{ v, next int32 }
	var calls []frame // the depth-first search, with each node's next edge
	counter := int32(0)
	for s := range nodes {
		if index[s] != 0 {
			continue
		}
		counter++
		index[s], low[s] = counter, counter
		stack = append(stack, s)
		onStack.Set(heap.ID(s))
		calls = append(calls, frame{s, sub.off[s]})
		for len(calls) > 0 {
			f := &calls[len(calls)-1]
			v := f.v
			if f.next < sub.off[v+1] {
				w := sub.to[f.next]
				f.next++
				if index[w] == 0 {
					counter++
					index[w], low[w] = counter, counter
					stack = append(stack, w)
					onStack.Set(heap.ID(w))
					calls = append(calls, frame{w, sub.off[w]})
				} else if onStack.Has(heap.ID(w)) {
					low[v] = min(low[v], index[w])
				}
				continue
			}
			calls = calls[:len(calls)-1]
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack.Clear(heap.ID(w))
					comp[w] = n
					if w == v {
						break
					}
				}
				n++
			}
			if len(calls) > 0 {
				p := calls[len(calls)-1].v
				low[p] = min(low[p], low[v])
			}
		}
	}
	return comp, n
}
