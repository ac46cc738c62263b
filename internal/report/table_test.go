package report

import (
	"strings"
	"testing"
)

func TestTable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		table func() *Table
		want  string
	}{
		{"aligned", func() *Table {
			t := NewTable(Right("count"), Right("bytes"), Left("type"))
			t.Row("1,234", "5", "dict")
			t.Row("7", "123,456", "Foo")
			return t
		}, "count    bytes  type\n1,234        5  dict\n    7  123,456  Foo\n"},
		{"escaped and counted in characters", func() *Table {
			t := NewTable(Left("type"), Left("label"))
			t.Row("\x1b[2J", "a\nb")
			t.Row("é", "")
			return t
		}, "type     label\n\\x1b[2J  a\\nb\né\n"},
		{"indent, gaps, rules, no header", func() *Table {
			t := NewTable(Left(""), Column{Right: true, Min: 4, Gap: NoGap}, Column{Right: true, Gap: 1})
			t.Indent = "> "
			t.Rule('=')
			t.Row("ab", "1", "+2")
			t.Row("c", "12345", "")
			return t
		}, "> ==========\n> ab    1 +2\n> c 12345\n"},
		{"missing cells", func() *Table {
			t := NewTable(Left("a"), Left("b"))
			t.Row("x")
			return t
		}, "a  b\nx\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := tc.table().Write(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got\n%q\nwant\n%q", b.String(), tc.want)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain name":   "plain name",
		"é ü 日本":       "é ü 日本",
		"\x1b[31m":     `\x1b[31m`,
		"a\tb\nc":      `a\tb\nc`,
		`say "hi"`:     `say "hi"`,
		"bad \xff utf": `bad \xff utf`,
		"\u202e":       `\u202e`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "0 objects"}, {1, "1 object"}, {2, "2 objects"}, {12345, "12,345 objects"}} {
		if got := Plural(tc.n, "object"); got != tc.want {
			t.Errorf("Plural(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
