package report

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape spells s for a terminal: characters that are not printable
// (control characters such as ESC, line breaks, invalid UTF-8) are escaped
// as Go and Python escape them, "\x1b", "\n"; other text, spaces included,
// is left as it is.
func Escape(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	q := strconv.QuoteToGraphic(s)
	return strings.ReplaceAll(q[1:len(q)-1], `\"`, `"`)
}
