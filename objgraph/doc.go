// Package objgraph gives Go programs the functions of Python's objgraph
// library, working on any heap.Heap: type statistics, growth, lookups,
// reference chains and graphs.
//
// Each function keeps objgraph's semantics. The counting and lookup functions
// see the objects gc.get_objects() lists: those the cycle collector tracks,
// less the frozen ones (gc.freeze()), unless StatsOptions.All asks for all
// the objects a snapshot holds. Type
// names are short ("OrderedDict") unless asked to be module-qualified
// ("collections.OrderedDict"), and a name with a dot matches qualified names.
// Growth keeps objgraph's peak counts in a GrowthTracker value. Chain searches
// are breadth first and return the one-element chain [obj] on a miss.
//
// ShowRefs, ShowBackrefs and ShowChain write graphs in the DOT language that
// look like objgraph's: labels of type name and short repr, fill darkening
// with depth, modules green, highlighted objects blue, start objects in red,
// and "N more references" nodes where an object has too many. Package
// objgraph/render draws them as SVG without an installed graphviz.
//
// docs/objgraph.md describes the functions, the differences from objgraph and
// the graphs' conventions in full.
package objgraph
