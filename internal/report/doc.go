// Package report turns the results of the analyses into what the objgraph
// command prints: typed results, each with its JSON form (its struct tags)
// and its text renderer, and the pieces they share: one table printer that
// escapes every cell (Table), one spelling of a chain of references
// (ChainLine, Chain.Table), one plural (Plural) and one description of a
// snapshot (Snapshot, the "snapshot" object of every JSON result).
//
// A result is built from a snapshot and the values the objgraph and gcmod
// packages return (NewTop, NewLeaks, NewGC, …) and written with its
// WriteText method or as JSON (WriteJSON). Every string that comes from a
// snapshot (type names, labels, reference names, root names, file names)
// goes through Escape before it reaches text output, so that a name holding
// control characters cannot move the cursor or change the terminal's state;
// a Table escapes its cells itself.
//
// A new section of a result is a field with its JSON tag, filled where the
// result is built, and a paragraph in WriteText; what the text needs and
// JSON should not carry (limits, totals) goes in unexported fields. The
// command that prints the result does not change.
package report
