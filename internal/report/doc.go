// Package report turns the results of the analyses into what the objgraph
// command prints: typed results, each with its JSON form (its struct tags)
// and its text renderer, and the pieces they share: one table printer that
// escapes every cell, one spelling of a chain of references, one plural.
//
// A result is built from a snapshot and the values the objgraph and gcmod
// packages return, and written with WriteText or as JSON (encoding/json
// with the result's tags). Every string that comes from a snapshot (type
// names, labels, reference names, root names) goes through Escape before
// it reaches text output, so that a name holding control characters cannot
// move the cursor or change the terminal's state.
package report
