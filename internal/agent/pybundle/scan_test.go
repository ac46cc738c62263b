package pybundle

import (
	"reflect"
	"testing"
)

func TestScan(t *testing.T) {
	src := "x = r\"\\\"\" + b'\\\\' + f\"{a}\"  # c = 1\n" +
		"y = '''a\n\"b\" = 2\n'''\n" +
		"\n" +
		"    # a comment\n" +
		"z = (1,\n     2) + \\\n    3\n" +
		"if x:\n    w = {'k': '('}\n" +
		"rb = 1\n"
	got, err := scan([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	type ll struct {
		line, indent int
		code         string
		blank        bool
	}
	var lines []ll
	for _, l := range got {
		lines = append(lines, ll{l.line, l.indent, l.code, l.blank})
	}
	want := []ll{
		{1, 0, `x = r"" + b'' + f""  `, false},
		{2, 0, `y = ''''''`, false},
		{5, 0, "", true},
		{6, 0, "", true},
		{7, 0, "z = (1,      2) +      3", false},
		{10, 0, "if x:", false},
		{11, 4, "w = {'': ''}", false},
		{12, 0, "rb = 1", false},
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("scan:\n%+v\nwant:\n%+v", lines, want)
	}
	end := got[len(got)-1].end
	if end != len(src) {
		t.Errorf("the last line ends at %d; want %d", end, len(src))
	}
}
