package attach

import (
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// BenchmarkStop measures, per snapshot, how long the injector holds the
// process up: with gdb every thread is stopped ("stopped-ms", of which
// "attach-ms" attaching); with ptrace only the thread that runs or queues
// the loader ("stopped-ms", of which "attach-ms" stopping it), the other
// threads never. "median-ms" is the median of stopped-ms. For a main thread
// asleep (a blocked thread runs the loader) and one running Python code (a
// pending call), in each interpreter of OBJGRAPH_TEST_PYTHONS:
//
//	go test ./internal/attach -run '^$' -bench Stop -benchtime 5x
func BenchmarkStop(b *testing.B) {
	injs := injectors(b)
	for _, py := range pythons(b) {
		for _, inj := range injs {
			for _, mode := range []string{"sleep", "spin"} {
				b.Run(string(inj.Injector)+"/"+filepath.Base(filepath.Dir(filepath.Dir(py)))+"/"+mode, func(b *testing.B) {
					pid := start(b, py, mode, 0).cmd.Process.Pid
					var stopped, att time.Duration
					var all []time.Duration
					for i := 0; i < b.N; i++ {
						o := inj
						o.Timeout = time.Minute
						res, err := Snapshot(pid, filepath.Join(b.TempDir(), "x.ogs"), o)
						if err != nil {
							b.Fatal(err)
						}
						stopped += res.Stopped
						att += res.Attach
						all = append(all, res.Stopped)
					}
					sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
					b.ReportMetric(float64(stopped.Microseconds())/1e3/float64(b.N), "stopped-ms")
					b.ReportMetric(float64(att.Microseconds())/1e3/float64(b.N), "attach-ms")
					b.ReportMetric(float64(all[len(all)/2].Microseconds())/1e3, "median-ms")
				})
			}
		}
	}
}
