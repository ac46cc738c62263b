// Package heap holds a tracked-object heap: an immutable, compact object graph
// read from a snapshot of a real process, and the snapshot format itself.
//
// Objects are dense integer ids ([ID]) from 0 to Len()-1, in the order the
// snapshot lists them. Every per-object fact is a column indexed by id, and the
// referent edges of object i are edges[off[i]:off[i+1]] in flat arrays, so a
// heap of tens of millions of objects holds no per-object pointers and the Go
// garbage collector never scans it. Reverse edges and the address index are
// built lazily, once, on first use.
//
// A Heap comes from [ReadFile] or [Read] (the .ogs snapshot format, specified
// in docs/format.md), from [ReadJSON], from [ReadAny] (either form, told apart
// by the first bytes), or from a [Builder]. [Encoder] writes the format as a
// stream; [Write] writes a whole Heap.
//
// All methods of a Heap are safe for concurrent use.
package heap
