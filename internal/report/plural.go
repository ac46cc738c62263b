package report

import "github.com/objgraph-go/objgraph/internal/units"

// Plural spells a count of things: "1 object", "12,345 objects". The plural
// adds an s to what.
func Plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return units.Commas(uint64(max(n, 0))) + " " + what + "s"
}
