// Package memstat reads the process's peak memory, for benchmarks that
// report it next to time.
package memstat

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// PeakRSS returns the process's peak resident set size (VmHWM) in bytes,
// or 0 where /proc is not available.
func PeakRSS() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// ResetPeakRSS starts a new peak: the kernel sets VmHWM to the current
// resident set. Where that is not possible it does nothing, and PeakRSS
// keeps reporting the peak since the process started.
func ResetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// Loop runs f as the body of b's loop, each time from a collected Go heap
// and a new peak (neither timed), and reports the largest peak RSS as the
// metric peak-RSS-MB.
func Loop(b *testing.B, f func()) {
	var peak float64
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		debug.FreeOSMemory()
		ResetPeakRSS()
		b.StartTimer()
		f()
		peak = max(peak, PeakRSS())
	}
	b.ReportMetric(peak/1e6, "peak-RSS-MB")
}
