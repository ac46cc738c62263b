// Package gcmod is CPython's gc module made executable: a live heap with
// CPython's cycle collector, and offline collection of snapshots.
//
// A [Runtime] is a mutable heap of objects with reference counts. Objects
// are dense handles ([Obj]); an object is freed the moment its count
// reaches zero, running its finalizer and its weak references' callbacks
// and freeing in turn what it alone held, in CPython's order. Reference
// cycles are freed by the collector, which a Runtime runs exactly as the
// CPython version of [Options] does: automatically as allocations pass the
// thresholds, or on [Runtime.Collect], with the generations, the
// finalizers (PEP 442 and legacy), resurrection, weak references,
// gc.garbage, callbacks, debugging output, freezing, tuple and dict
// untracking and the free lists that make gc.get_count() what it is, and
// before 3.11 the instances' __dict__ objects and the frames of calls. The
// methods are the gc module's functions. [Runtime.Snapshot] returns the heap
// as a [heap.Heap].
//
// [Unreachable] runs the collector's reachability analysis over any
// snapshot, without changing it: what gc.collect() would find, grouped by
// reference cycle, with what a legacy finalizer keeps uncollectable.
//
// The differential tests run scenarios in CPython and in a Runtime and
// require identical results, on CPython 3.7 to 3.13. [NewRuntime] refuses
// other versions with an [UnverifiedError] unless Options.Unverified accepts
// them. docs/gc.md describes the model, the versions and the limits.
package gcmod
