package attach

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/internal/testenv"
)

// BenchmarkStop measures how long gdb holds every thread of the process
// stopped per snapshot ("stopped-ms"), and of that how long attaching takes
// ("attach-ms"), for a main thread asleep (a blocked thread runs the loader)
// and one running Python code (a pending call), in each interpreter of
// OBJGRAPH_TEST_PYTHONS:
//
//	go test ./internal/attach -run '^$' -bench Stop -benchtime 5x
func BenchmarkStop(b *testing.B) {
	gdb := testenv.LookPath(b, "gdb", "attaching needs it (apt-get install gdb)")
	for _, py := range pythons(b) {
		for _, mode := range []string{"sleep", "spin"} {
			b.Run(filepath.Base(filepath.Dir(filepath.Dir(py)))+"/"+mode, func(b *testing.B) {
				pid := start(b, py, mode, 0).cmd.Process.Pid
				var stopped, att time.Duration
				for i := 0; i < b.N; i++ {
					res, err := Snapshot(pid, filepath.Join(b.TempDir(), "x.ogs"), Options{GDB: gdb, Timeout: time.Minute})
					if err != nil {
						b.Fatal(err)
					}
					stopped += res.Stopped
					att += res.Attach
				}
				b.ReportMetric(float64(stopped.Microseconds())/1e3/float64(b.N), "stopped-ms")
				b.ReportMetric(float64(att.Microseconds())/1e3/float64(b.N), "attach-ms")
			})
		}
	}
}
