package heap_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpus in testdata/fuzz")

// seeds are the seed inputs of FuzzRead kept in testdata/fuzz/FuzzRead:
// valid snapshots in several encodings and hand-made hostile files.
func seeds(t testing.TB) map[string][]byte {
	h := sample(t)
	s := map[string][]byte{}
	for name, opts := range map[string]heap.EncoderOptions{
		"valid-default": {}, "valid-raw": {NoCompression: true}, "valid-batch1": {BatchSize: 1},
	} {
		s[name] = encode(t, h, opts)
	}
	s["hostile-huge-rows"] = file(rec(4, 1<<28, hcol{id: 1, width: 1, codec: 1, raw: 1 << 28, stored: 8, data: make([]byte, 8)}), endRec())
	s["hostile-no-columns"] = file(rec(3, 0xFFFFFFFF), endRec())
	s["truncated"] = s["valid-default"][:len(s["valid-default"])/2]
	s["valid-values"] = valueFile()
	return s
}

func TestSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzRead")
	for name, data := range seeds(t) {
		path := filepath.Join(dir, name)
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -run TestSeedCorpus -update writes it)", err)
		}
		if !bytes.Equal(got, []byte(content)) {
			t.Errorf("%s is stale: the format or the sample changed (go test -run TestSeedCorpus -update rewrites it)", path)
		}
	}
}
