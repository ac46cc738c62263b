package objgraph

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/objgraph-go/objgraph/heap"
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

// dotKeywords are DOT's keywords, which are no ID unless quoted.
var dotKeywords = []string{"node", "edge", "graph", "digraph", "subgraph", "strict"}

// checkDOT checks that dot is one well-formed DOT graph as this package
// writes graphs: "digraph ObjectGraph {", statements each on its own line,
// indented and ending in ";", and "}". Outside quoted strings there are only
// IDs (no keyword among them), numbers and DOT's punctuation, with balanced
// brackets, and a keyword only to start an attribute statement (node[...]);
// inside strings no control byte, no raw newline, every quote escaped, and
// no escaped backslash just before the closing quote.
func checkDOT(dot string) error {
	if !utf8.ValidString(dot) {
		return errors.New("not UTF-8")
	}
	const head, tail = "digraph ObjectGraph {\n", "}\n"
	if !strings.HasPrefix(dot, head) || !strings.HasSuffix(dot, tail) {
		return errors.New("not one digraph")
	}
	body := strings.TrimSuffix(dot[len(head):len(dot)-len(tail)], "\n")
	for n, line := range strings.Split(body, "\n") {
		if err := checkStatement(line); err != nil {
			return fmt.Errorf("line %d %q: %w", n+2, line, err)
		}
	}
	return nil
}

func checkStatement(line string) error {
	if !strings.HasPrefix(line, "  ") || !strings.HasSuffix(line, ";") {
		return errors.New("not an indented statement ending in ;")
	}
	depth := 0
	for i := 2; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '"':
			j, escapedBackslash := i+1, false
			for ; j < len(line) && line[j] != '"'; j++ {
				escapedBackslash = false
				if line[j] < 0x20 || line[j] == 0x7f {
					return fmt.Errorf("control byte %#x in a string", line[j])
				}
				if line[j] == '\\' {
					j++
					if j == len(line) {
						return errors.New("a lone backslash ends the line")
					}
					if line[j] < 0x20 || line[j] == 0x7f {
						return fmt.Errorf("control byte %#x escaped in a string", line[j])
					}
					escapedBackslash = line[j] == '\\'
				}
			}
			if j == len(line) {
				return errors.New("unterminated string")
			}
			if escapedBackslash {
				return errors.New(`a string ends in an escaped backslash`)
			}
			i = j
		case c == '[':
			depth++
		case c == ']':
			if depth--; depth < 0 {
				return errors.New("] without [")
			}
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			j := i
			for j < len(line) && (line[j] == '_' || 'a' <= line[j] && line[j] <= 'z' || 'A' <= line[j] && line[j] <= 'Z' || '0' <= line[j] && line[j] <= '9') {
				j++
			}
			attrStmt := i == 2 && strings.HasPrefix(line[j:], "[") // node[...], the defaults
			for _, k := range dotKeywords {
				if strings.EqualFold(line[i:j], k) && !attrStmt {
					return fmt.Errorf("keyword %q as an ID", line[i:j])
				}
			}
			i = j - 1
		case '0' <= c && c <= '9' || strings.IndexByte(" =,;-.>", c) >= 0:
		default:
			return fmt.Errorf("byte %q outside a string", c)
		}
	}
	if depth != 0 {
		return errors.New("unbalanced brackets")
	}
	return nil
}

// FuzzDOT draws a small heap whose type names, labels, edge and root names,
// extra information and extra node attributes are fuzzed, with each of
// ShowRefs, ShowBackrefs and ShowChain, and checks each graph is well-formed
// DOT (checkDOT).
func FuzzDOT(f *testing.F) {
	for _, s := range []string{"", `\`, `"`, `\"`, "a\nb", "\x00\xff", "&lt;", "\u2028", "}", "];", "->", "node", "Edge",
		`"; x [label="`, `'map(f) --> map object\n\`, "\r\n\t", "\ufeff"} {
		f.Add(s, s, s, s, s, uint64(0x7f0000001000), true)
		f.Add("Foo", s, "attr", "label", s, uint64(0), false)
		f.Add(s, "3 items", s, s, "x", uint64(1<<63), false)
	}
	f.Fuzz(func(t *testing.T, typeName, label, edgeName, attrKey, attrVal string, addr uint64, flag bool) {
		b := heap.NewBuilder()
		tA := b.AddType(typeName, "mod."+typeName)
		tMod := b.AddType("module", "builtins.module")
		a := b.AddObject(heap.Object{Addr: addr, Type: tA, Refcount: 1, Flags: heap.FlagTracked | heap.FlagHasDel, Label: label})
		m := b.AddObject(heap.Object{Addr: addr + 16, Type: tMod, Refcount: 2, Flags: heap.FlagTracked.WithKind(heap.KindModule), Label: typeName})
		c := b.AddObject(heap.Object{Addr: addr + 32, Type: tA, Flags: heap.FlagImmortal, Label: edgeName})
		b.AddEdge(m, a, edgeName)
		b.AddEdge(a, m, label)
		b.AddIndexEdge(a, c, 3)
		b.AddEdge(a, c, edgeName)
		b.AddEdge(a, a, "__dict__")
		b.AddEdge(c, a, attrKey)
		b.AddRoot(heap.Root{Kind: heap.RootModule, Name: label, Target: m})
		h, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		opts := GraphOptions{
			Refcounts: flag, Qualified: !flag, TooMany: 2,
			Highlight:      func(id heap.ID) bool { return id == c },
			ExtraInfo:      func(heap.ID) string { return attrVal },
			ExtraNodeAttrs: func(heap.ID) map[string]string { return map[string]string{attrKey: attrVal, "tooltip": label} },
		}
		var out [3]strings.Builder
		if _, err := ShowRefs(&out[0], h, []heap.ID{a}, opts); err != nil {
			t.Fatal(err)
		}
		if _, err := ShowBackrefs(&out[1], h, []heap.ID{a, c}, opts); err != nil {
			t.Fatal(err)
		}
		if _, err := ShowChain(&out[2], h, [][]heap.ID{{m, a, c}}, opts); err != nil {
			t.Fatal(err)
		}
		for i, o := range out {
			if err := checkDOT(o.String()); err != nil {
				t.Fatalf("graph %d is not well-formed DOT: %v\n%s", i, err, o.String())
			}
		}
	})
}
