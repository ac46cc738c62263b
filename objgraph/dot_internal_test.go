package objgraph

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDotString(t *testing.T) {
	for _, tc := range []struct {
		label bool
		lines []string
		want  string
	}{
		{true, []string{"dict", "3 items"}, `"dict\n3 items"`},
		{true, []string{`say "hi"`}, `"say \"hi\""`},
		{true, []string{`a\b`}, `"a\\b"`},
		{true, []string{`ends in \`}, `"ends in \\\n"`},        // objgraph bug #30
		{false, []string{`C:\`}, `"C:&#92;"`},                  // not a label: an entity
		{true, []string{`a\`, "b"}, `"a\\\nb"`},                // a backslash before a line break is fine
		{true, []string{"x&lt;y & z"}, `"x&amp;lt;y &amp; z"`}, // graphviz decodes entities
		{true, []string{"two\nlines"}, `"two\\nlines"`},        // a newline inside a line is shown, not obeyed
		{true, []string{"\x00\x1f\x7f\t\r"}, `"\\x00\\x1f\\x7f\\t\\r"`},
		{true, []string{"\xff\xfe"}, `"\\xff\\xfe"`},                  // not UTF-8
		{true, []string{"\u0085\u00a0\u2028"}, `"\\x85\\xa0\\u2028"`}, // not printable
		{true, []string{"é ✓ 🐍"}, `"é ✓ 🐍"`},
		{true, []string{"", ""}, `"\n"`},
		{true, nil, `""`},
	} {
		if got := dotString(tc.label, tc.lines...); got != tc.want {
			t.Errorf("dotString(%v, %q) = %s, want %s", tc.label, tc.lines, got, tc.want)
		}
	}
}

// TestGradient ports tests.py's test_gradient_empty and checks the colours
// objgraph writes.
func TestGradient(t *testing.T) {
	if h, s, v := gradient([3]float64{0.1, 0.2, 0.3}, [3]float64{0.2, 0.3, 0.4}, 0, 0); h != 0.1 || s != 0.2 || v != 0.3 {
		t.Errorf("gradient with max depth 0 = %v %v %v", h, s, v)
	}
	for _, tc := range []struct {
		depth, max int
		want       string
	}{{0, 3, "0,0,1"}, {1, 3, "0,0,0.766667"}, {2, 3, "0,0,0.533333"}, {3, 3, "0,0,0.3"}, {1, 2, "0,0,0.65"}} {
		if got := hsv(gradient([3]float64{0, 0, 1}, [3]float64{0, 0, .3}, tc.depth, tc.max)); got != tc.want {
			t.Errorf("depth %d of %d: %s, want %s", tc.depth, tc.max, got, tc.want)
		}
	}
}

// FuzzDotString checks that any text quotes to a DOT string that graphviz
// reads back as one string: UTF-8, no control characters, every quote
// escaped, and no escaped backslash just before the closing quote.
func FuzzDotString(f *testing.F) {
	for _, s := range []string{"", `\`, `"`, `\"`, "a\nb", "\x00\xff", "&lt;", "\u2028", `'map(f) --> map object\n\`} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, label bool) {
		q := dotString(label, s, s)
		if !utf8.ValidString(q) {
			t.Fatalf("not UTF-8: %q", q)
		}
		if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
			t.Fatalf("not quoted: %q", q)
		}
		body := q[1 : len(q)-1]
		for i := 0; i < len(body); i++ {
			c := body[i]
			if c < 0x20 || c == 0x7f {
				t.Fatalf("control byte %#x in %q", c, q)
			}
			if c == '\\' {
				i++ // an escape: skip the escaped byte
				if i == len(body) {
					t.Fatalf("ends in a lone backslash: %q", q)
				}
				continue
			}
			if c == '"' {
				t.Fatalf("unescaped quote in %q", q)
			}
		}
		if strings.HasSuffix(body, `\\`) {
			t.Fatalf("ends in an escaped backslash: %q", q)
		}
	})
}
