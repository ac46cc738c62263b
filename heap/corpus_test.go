package heap_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/heap"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpus in testdata/fuzz")

// corpora are the seed inputs of the fuzz targets, kept in
// testdata/fuzz/TARGET: valid snapshots and every hostile shape the tests
// build, at a size that keeps the files small.
func corpora(t testing.TB) map[string]map[string][]byte {
	return map[string]map[string][]byte{
		"FuzzRead":     seeds(t),
		"FuzzReadJSON": jsonSeeds(t),
		"FuzzReadAny":  anySeeds(t),
	}
}

// seeds are the .ogs seeds: valid snapshots in several encodings and
// hand-made hostile files.
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
	for name, data := range bombs(t, 1<<16) {
		s[name] = data
	}
	for name, data := range lies(t, 4<<10) {
		s[name] = data
	}
	for name, data := range weakSeeds(t) {
		s[name] = data
	}
	s["at-the-limits"] = atTheLimits(t, 1000)
	s["valid-allocs"] = allocFile()
	for name, data := range hostileAllocs() {
		s[name] = data
	}
	s["stream-zeros"] = make([]byte, 64)
	s["stream-header-then-zeros"] = append(file()[:16], make([]byte, 64)...)
	s["trailing-data"] = append(bytes.Clone(s["valid-default"]), 0)
	s["type-name-out-of-range"] = file(rec(3, 1, hcol{id: 2, width: 1, raw: 1, stored: 1, data: []byte{5}}), endRec())
	s["duplicate-address-later-record"] = file(rec(3, 1, hcol{id: 2, width: 1, raw: 1, stored: 1, data: []byte{0}}),
		rec(4, 2, hcol{id: 1, width: 1, raw: 2, stored: 2, data: []byte{1, 2}}), rec(5, 0),
		rec(4, 2, hcol{id: 1, width: 1, raw: 2, stored: 2, data: []byte{3, 2}}), rec(5, 0), endRec())
	return s
}

// jsonSeeds are the JSON seeds: the sample, and every shape TestJSONStrict
// reads or refuses.
func jsonSeeds(t testing.TB) map[string][]byte {
	var buf bytes.Buffer
	must(t, heap.WriteJSON(&buf, sample(t)))
	good := buf.String()
	const edge = `[[1,"__dict__"]]`
	s := map[string]string{
		"valid":                   good,
		"small":                   `{"format":"objgraph-snapshot","version":1,"types":[{"name":"x"}],"objects":[{"addr":"0x1","type":0,"edges":[[0,"[5]"],[0,null]]}],"roots":[{"kind":"module","name":"m","target":0}]}`,
		"trailing-garbage":        good + "x",
		"second-document":         good + `{"format":"objgraph-snapshot"}`,
		"trailing-white-space":    good + "\n \t\r\n",
		"edge-three-values":       strings.Replace(good, edge, `[[1,"__dict__",7]]`, 1),
		"edge-one-value":          strings.Replace(good, edge, `[[1]]`, 1),
		"edge-not-a-list":         strings.Replace(good, edge, `[[1,"a"],5]`, 1),
		"edges-not-a-list":        strings.Replace(good, edge, `{}`, 1),
		"edge-name-number":        strings.Replace(good, edge, `[[1,2]]`, 1),
		"byte-order-mark":         "\xEF\xBB\xBF" + good,
		"byte-order-mark-and-tab": "\xEF\xBB\xBF\t" + good,
		"leading-tab":             "\t" + good,
		"leading-crlf":            "\r\n  " + good,
		"shared-address":          strings.Replace(good, `"addr":"0x7f0000002000"`, `"addr":"0x7f0000001000"`, 1),
		"syntax":                  `{"format": "objgraph-snapshot", "version": 1, "objects": [}`,
		"wrong-type":              `{"format": "objgraph-snapshot", "version": 1, "objects": [{"addr": 5}]}`,
		"meta-wrong-type":         `{"format":"objgraph-snapshot","version":1,"meta":{"pid":"x"}}`,
		"meta-bad-time":           `{"format":"objgraph-snapshot","version":1,"meta":{"time":""}}`,
		"not-a-snapshot":          `{"name": "package", "version": "1.0"}`,
		"weak-valid":              weakJSON(t),
		"weak-out-of-range":       `{"format":"objgraph-snapshot","version":1,"types":[{"name":"x"}],"objects":[{"addr":"0x1","type":0,"weak":[7]}]}`,
		"weak-two-referents":      `{"format":"objgraph-snapshot","version":1,"types":[{"name":"x"}],"objects":[{"addr":"0x1","type":0,"weak":[0,0]}]}`,
		"weak-not-a-list":         `{"format":"objgraph-snapshot","version":1,"types":[{"name":"x"}],"objects":[{"addr":"0x1","type":0,"weak":"0"}]}`,
	}
	out := map[string][]byte{}
	for k, v := range s {
		out[k] = []byte(v)
	}
	return out
}

// anySeeds are the seeds for reading either form: each form, and what is
// neither.
func anySeeds(t testing.TB) map[string][]byte {
	var js bytes.Buffer
	must(t, heap.WriteJSON(&js, sample(t)))
	return map[string][]byte{
		"ogs":                     encode(t, sample(t), heap.EncoderOptions{}),
		"json":                    js.Bytes(),
		"json-after-white-space":  append([]byte("\t\r\n  "), js.Bytes()...),
		"json-after-mark-and-tab": append([]byte("\xEF\xBB\xBF\t"), js.Bytes()...),
		"zeros":                   make([]byte, 64),
		"text":                    []byte("hello, world\n"),
		"empty":                   {},
		"ogs-header-then-zeros":   append(file()[:16], make([]byte, 64)...),
		"json-not-an-object":      []byte(" [1, 2]"),
		"short-mark":              []byte("\xEF\xBB"),
	}
}

// TestSeedCorpus checks that testdata/fuzz holds the seeds above; go test
// -run TestSeedCorpus -update rewrites them. Other files there are inputs the
// fuzzer found, kept as it keeps them.
func TestSeedCorpus(t *testing.T) {
	for target, seeds := range corpora(t) {
		dir := filepath.Join("testdata", "fuzz", target)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, data := range seeds {
			path := filepath.Join(dir, name)
			content := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
			if *update {
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
}
