package objgraph_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// dotDifferences are the ways the DOT here departs on purpose from what
// objgraph's _show_graph, _obj_node_id, _obj_label and _edge_label write,
// each with a phrase docs/objgraph.md must contain to describe it.
var dotDifferences = map[string]string{
	"index":       "List and tuple elements are labelled `[i]`",
	"named":       "References that are not dict keys are labelled with the snapshot's name",
	"frame":       "every reference of a frame the snapshot names",
	"strkey":      "A dict key that is a string but not an identifier is labelled with the string itself",
	"refcount":    "Reference counts come from the snapshot",
	"address":     "Node names are `o` plus the address",
	"one-per-ref": "`ShowBackrefs` draws one edge per reference",
}

// The statements objgraph's _show_graph writes; node is _obj_node_id's
// "o%d" % id(obj) with "-" replaced by "_".
var (
	node    = `o_?[0-9]+`
	hsv     = `"([^",]+),([^",]+),([^",]+)"`
	dotStmt = map[string]*regexp.Regexp{
		"start":      regexp.MustCompile(`^  (` + node + `)\[fontcolor=red\];$`),
		"label":      regexp.MustCompile(`^  (` + node + `)\[label="((?:[^"\\]|\\.)*)"(, [a-z_]+="(?:[^"\\]|\\.)*")*\];$`),
		"fill":       regexp.MustCompile(`^  (` + node + `)\[fillcolor=` + hsv + `\];$`),
		"white":      regexp.MustCompile(`^  (` + node + `)\[fontcolor=white\];$`),
		"del-edge":   regexp.MustCompile(`^  (` + node + `)->(` + node + `)_has_a_del\[color=red,style=dotted,len=0.25,weight=10\];$`),
		"del-node":   regexp.MustCompile(`^  (` + node + `)_has_a_del\[label="__del__",shape=doublecircle,height=0.25,color=red,fillcolor="0,.5,1",fontsize=6\];$`),
		"edge":       regexp.MustCompile(`^  (` + node + `) -> (` + node + `)(?: \[label="((?:[^"\\]|\\.)*)"(,weight=(?:10|2))?\])?;$`),
		"many-to":    regexp.MustCompile(`^  too_many_(` + node + `)->(` + node + `)\[color=red,style=dotted,len=0.25,weight=10\];$`),
		"many-from":  regexp.MustCompile(`^  (` + node + `)->too_many_(` + node + `)\[color=red,style=dotted,len=0.25,weight=10\];$`),
		"many-node":  regexp.MustCompile(`^  too_many_(` + node + `)\[label="[0-9]+ more (?:back)?references",shape=box,height=0.25,color=red,fillcolor=` + hsv + `,fontsize=6\];$`),
		"many-white": regexp.MustCompile(`^  too_many_(` + node + `)\[fontcolor=white\];$`),
	}
	identifier = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z_0-9]*$`) // objgraph's _is_identifier
)

// TestDOTConventions checks every golden DOT file against objgraph's
// conventions, statement by statement, allowing only the differences in
// dotDifferences, which docs/objgraph.md must describe.
func TestDOTConventions(t *testing.T) {
	doc, err := os.ReadFile("../docs/objgraph.md")
	if err != nil {
		t.Fatal(err)
	}
	for key, phrase := range dotDifferences {
		if !strings.Contains(strings.Join(strings.Fields(string(doc)), " "), phrase) {
			t.Errorf("docs/objgraph.md does not describe difference %q: no %q", key, phrase)
		}
	}
	files, err := filepath.Glob("testdata/*.dot")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden DOT files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			checkDOTConventions(t, string(data))
		})
	}
}

func checkDOTConventions(t *testing.T, dot string) {
	lines := strings.Split(strings.TrimSuffix(dot, "\n"), "\n")
	if len(lines) < 3 || lines[0] != "digraph ObjectGraph {" || lines[1] != "  node[shape=box, style=filled, fillcolor=white];" || lines[len(lines)-1] != "}" {
		t.Fatalf("not objgraph's header and footer:\n%s", dot)
	}
	typeOf := map[string]string{} // node -> type name, from its label
	dark := map[string]bool{}     // node -> its fill's value is below 0.5
	white := map[string]bool{}
	type edge struct{ src, label, weight string }
	var edges []edge
	for i, line := range lines[2 : len(lines)-1] {
		kind, m := "", []string(nil)
		for k, re := range dotStmt {
			if m = re.FindStringSubmatch(line); m != nil {
				kind = k
				break
			}
		}
		at := fmt.Sprintf("line %d: %s", i+3, line)
		switch kind {
		case "":
			t.Errorf("%s: not a statement objgraph writes", at)
		case "label":
			first, _, _ := strings.Cut(m[2], `\n`)
			name, count, hasCount := strings.Cut(first, " [")
			if hasCount { // _obj_label's "type [refcount]"; [immortal] where the snapshot has no count
				if c := strings.TrimSuffix(count, "]"); c != "immortal" {
					if _, err := strconv.Atoi(c); err != nil || !strings.HasSuffix(count, "]") {
						t.Errorf("%s: refcount %q is not objgraph's \" [N]\"", at, count)
					}
				}
			}
			typeOf[m[1]] = name[strings.LastIndex(name, ".")+1:]
		case "fill", "many-node":
			v := checkHSV(t, at, m[len(m)-3:])
			if kind == "fill" {
				dark[m[1]] = v < 0.5
			}
		case "white":
			white[m[1]] = true
		case "edge":
			if m[3] != "" || m[4] != "" {
				edges = append(edges, edge{m[1], m[3], strings.TrimPrefix(m[4], ",weight=")})
			}
		}
	}
	for n, d := range dark {
		if d != white[n] {
			t.Errorf("node %s: fill value below 0.5 is %v but white font is %v (objgraph: white exactly when v < 0.5)", n, d, white[n])
		}
	}
	for _, e := range edges {
		src := typeOf[e.src]
		switch e.weight {
		case "10":
			// objgraph: __dict__; a frame's f_locals and f_globals; a
			// method's __self__ and __func__; any attribute of a function.
			switch {
			case e.label == "__dict__":
			case src == "frame" && (e.label == "f_locals" || e.label == "f_globals"):
			case src == "method" && (e.label == "__self__" || e.label == "__func__"):
			case src == "function" && identifier.MatchString(e.label):
			case src == "frame" && identifier.MatchString(e.label): // difference "frame"
			default:
				t.Errorf("edge %s %q: weight=10 where objgraph gives none", e.src, e.label)
			}
		case "2":
			// objgraph: a dict key that is an identifier.
			if !identifier.MatchString(e.label) {
				t.Errorf("edge %s %q: weight=2 on a label that is not an identifier", e.src, e.label)
			}
			// Other sources: difference "named".
		default:
			// objgraph: a dict key that is not an identifier, as its
			// type and repr.
			switch {
			case identifier.MatchString(e.label):
				t.Errorf("edge %s %q: an identifier without objgraph's weight=2", e.src, e.label)
			case strings.Contains(e.label, `\n`):
			case regexp.MustCompile(`^\[[0-9]+\]$`).MatchString(e.label): // difference "index"
			case src == "dict": // difference "strkey"
			default:
				t.Errorf("edge %s %q: a label objgraph would not write from a %s", e.src, e.label, src)
			}
		}
	}
}

// checkHSV checks a colour is written with objgraph's "%g,%g,%g" and
// returns its value.
func checkHSV(t *testing.T, at string, parts []string) float64 {
	var v float64
	for _, p := range parts {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil {
			t.Errorf("%s: colour component %q is not a number", at, p)
			continue
		}
		if g := fmt.Sprintf("%.6g", f); g != p {
			t.Errorf("%s: colour component %q, which %%g writes %q", at, p, g)
		}
		v = f
	}
	return v
}
