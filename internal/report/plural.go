package report

import (
	"strings"

	"github.com/objgraph-go/objgraph/internal/units"
)

// Plural spells a count of things: "1 object", "12,345 objects". The plural
// adds an s to what, or turns a final consonant and y into ies ("1 entry",
// "2 entries").
func Plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if k := len(what); k > 1 && what[k-1] == 'y' && !strings.ContainsRune("aeiou", rune(what[k-2])) {
		what = what[:k-1] + "ie"
	}
	return units.Commas(uint64(max(n, 0))) + " " + what + "s"
}
