package agent

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

// bigKeysProgram builds a heap of about 2 million objects in which one
// dict of 800,000 str keys is made, and so walked, before a cache of 2,000
// entries, then writes a snapshot.
const bigKeysProgram = `
import sys
sys.path.insert(0, sys.argv[1])
import objgraph_agent

class Fragment:
    pass

big = {"node-%d" % i: i * 7 + 1000 for i in range(800000)}
pairs = [(i, float(i)) for i in range(130000)]
cache = {"req-%d" % i: Fragment() for i in range(2000)}
cache[("req", 1, 2.5, None, b"x")] = Fragment()
cache[2 ** 40] = Fragment()
cache[2 ** 200] = Fragment()
objgraph_agent.snapshot(sys.argv[2], collect=False)
`

// TestKeyNamesOnBigHeaps checks in every interpreter that every dict-key
// edge is named on a heap of 2 million objects, the cache's walked after
// a dict of 800,000 distinct keys, and that each name is stored once.
func TestKeyNamesOnBigHeaps(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a heap of 2 million objects in each interpreter")
	}
	dir := t.TempDir()
	prog := filepath.Join(dir, "bigkeys.py")
	if err := os.WriteFile(prog, []byte(bigKeysProgram), 0o600); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for i, py := range testPythons(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			snap := filepath.Join(dir, fmt.Sprintf("big-%d.ogs", i))
			out, err := exec.Command(py, prog, abs, snap).CombinedOutput()
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", py, prog, err, out)
			}
			h, err := heap.ReadFile(snap)
			if err != nil {
				t.Fatal(err)
			}
			if h.Len() < 2_000_000 {
				t.Fatalf("%s: %d objects, want 2 million or more", py, h.Len())
			}
			var bigs, caches int
			for id := range heap.ID(h.Len()) {
				if h.TypeName(id) != "dict" {
					continue
				}
				switch h.Label(id) {
				case "800000 items":
					bigs++
					checkKeyNames(t, h, id, "int", 800000, func(n string) bool { return strings.HasPrefix(n, "'node-") })
				case "2003 items":
					caches++
					checkKeyNames(t, h, id, "Fragment", 2003, func(n string) bool {
						return strings.HasPrefix(n, "'req-") || n == "('req', 1, 2.5, None, b'x')" || n == "1099511627776" || n == "<int of 201 bits>"
					})
				}
			}
			if bigs != 1 || caches != 1 {
				t.Fatalf("%s: %d dicts of 800000 items and %d of 2003, want one of each", py, bigs, caches)
			}
			ids := map[string]heap.EdgeName{}
			for id := range heap.ID(h.Len()) {
				lo, hi := h.EdgeRange(id)
				for e := lo; e < hi; e++ {
					n := h.EdgeNameID(e)
					s := h.NameString(n)
					if prev, ok := ids[s]; ok && prev != n {
						t.Fatalf("%s: the name %q is stored twice (%d and %d)", py, s, prev, n)
					}
					ids[s] = n
				}
			}
		})
	}
}

// checkKeyNames requires that the want edges of dict d to objects of type
// typ be named, by distinct names that ok accepts.
func checkKeyNames(t *testing.T, h *heap.Heap, d heap.ID, typ string, want int, ok func(string) bool) {
	t.Helper()
	names := map[string]bool{}
	n := 0
	for target, name := range h.Edges(d) {
		if h.TypeName(target) != typ {
			continue
		}
		n++
		if name == "" || !ok(name) {
			t.Fatalf("dict %s: edge %d to a %s is named %q", h.Label(d), n, typ, name)
		}
		names[name] = true
	}
	if n != want || len(names) != want {
		t.Fatalf("dict %s: %d edges to %s objects, %d distinct names, want %d", h.Label(d), n, typ, len(names), want)
	}
}
