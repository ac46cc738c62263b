package heap

// Steps is the work Dominators did to build t: the steps up the tree of the
// iterative algorithm, and Lengauer–Tarjan's when it finished the job.
func (t *DomTree) Steps() uint64 { return t.steps }

// FellBack reports whether Lengauer–Tarjan computed t.
func (t *DomTree) FellBack() bool { return t.passes < 0 }

// LengauerTarjan computes the dominator tree with Lengauer–Tarjan alone.
func LengauerTarjan(h *Heap, opts DominatorOptions) *DomTree {
	h.BuildReverse()
	t := &DomTree{h: h, roots: h.RootIDs(opts.NoExternal)}
	t.number()
	t.lengauerTarjan()
	t.passes = -1
	t.sumRetained()
	return t
}
