package agent

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/objgraph-go/objgraph/internal/testenv"
)

var (
	benchSnapshotLine = regexp.MustCompile(`(?m)^snapshot \d+: (\d+) objects, .*?, ([0-9.]+) s, (\d+) objects/s, rss\+ [0-9.]+ MB = ([0-9.]+) bytes/object`)
	benchNaiveLine    = regexp.MustCompile(`(?m)^naive dumper: (\d+) objects, ([0-9.]+) s, (\d+) objects/s, rss\+ [0-9.]+ MB = ([0-9.]+) bytes/object`)
)

// BenchmarkCapture runs bench_agent.py in python3 ($OBJGRAPH_BENCH_PYTHON
// to choose another interpreter): b.N snapshots of a 3.7M-object heap in
// one process, then the naive dumper on the same heap. It reports the
// median capture speed, pause and memory of the agent's snapshots (the
// first one, which builds the agent's tables, included) and the naive
// dumper's speed and memory. ns/op includes building the heap, so read the
// metrics, not ns/op.
func BenchmarkCapture(b *testing.B) {
	path := benchPython(b)
	out, err := exec.Command(path, "bench_agent.py", "--repeat", strconv.Itoa(b.N), "--peer").CombinedOutput()
	if err != nil {
		b.Fatalf("bench_agent.py: %v\n%s", err, out)
	}
	var rate, secs, perObj []float64
	for _, m := range benchSnapshotLine.FindAllStringSubmatch(string(out), -1) {
		rate = append(rate, atof(b, m[3]))
		secs = append(secs, atof(b, m[2]))
		perObj = append(perObj, atof(b, m[4]))
	}
	naive := benchNaiveLine.FindStringSubmatch(string(out))
	if len(rate) != b.N || naive == nil {
		b.Fatalf("bench_agent.py printed %d snapshot lines for %d runs, naive line %v:\n%s", len(rate), b.N, naive != nil, out)
	}
	b.ReportMetric(median(rate), "objects/s")
	b.ReportMetric(median(secs), "pause-s")
	b.ReportMetric(median(perObj), "rss-B/object")
	b.ReportMetric(atof(b, naive[3]), "naive-objects/s")
	b.ReportMetric(atof(b, naive[4]), "naive-rss-B/object")
}

// BenchmarkCaptureBusy measures the pause of a snapshot of a 330k-object
// heap while N other threads run Python code all the time and contend for
// the GIL, with the records held until the walk ends (the agent's way with
// other threads) and, for comparison in the same run, written during the
// walk. pause-s is the median over b.N snapshots.
func BenchmarkCaptureBusy(b *testing.B) {
	path := benchPython(b)
	for _, busy := range []int{0, 1, 8} {
		for _, mode := range []string{"hold", "stream"} {
			if busy == 0 && mode == "stream" {
				continue // alone, the agent streams anyway
			}
			b.Run(fmt.Sprintf("busy=%d/%s", busy, mode), func(b *testing.B) {
				args := []string{"bench_agent.py", "--scale", "0.1", "--repeat", strconv.Itoa(b.N), "--busy", strconv.Itoa(busy)}
				if mode == "stream" {
					args = append(args, "--stream")
				}
				out, err := exec.Command(path, args...).CombinedOutput()
				if err != nil {
					b.Fatalf("bench_agent.py: %v\n%s", err, out)
				}
				var secs []float64
				for _, m := range benchSnapshotLine.FindAllStringSubmatch(string(out), -1) {
					secs = append(secs, atof(b, m[2]))
				}
				if len(secs) != b.N {
					b.Fatalf("bench_agent.py printed %d snapshot lines for %d runs:\n%s", len(secs), b.N, out)
				}
				b.ReportMetric(median(secs), "pause-s")
			})
		}
	}
}

// benchPython is the interpreter the benchmarks run: $OBJGRAPH_BENCH_PYTHON,
// python3 by default.
func benchPython(b *testing.B) string {
	py := os.Getenv("OBJGRAPH_BENCH_PYTHON")
	if py == "" {
		py = "python3"
	}
	path, err := exec.LookPath(py)
	if err != nil {
		testenv.Missing(b, "%s is not installed", py)
	}
	return path
}

func atof(b *testing.B, s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
