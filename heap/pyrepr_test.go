package heap

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/objgraph-go/objgraph/internal/testenv"
)

// TestPyFloatRepr formats floats of every magnitude, and the edge cases of
// the fixed/exponent switch, and compares each with Python's own repr.
func TestPyFloatRepr(t *testing.T) {
	py := testenv.LookPath(t, "python3", "it checks float labels against Python's repr")
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 0.5, 1.5, 100, 1e15, 1e16, 1e17, 123456789012345678,
		9999999999999998, 1e-4, 1e-5, 0.00012345, 1.2345e-5, 5e-324, math.MaxFloat64, math.SmallestNonzeroFloat64,
		2.2250738585072014e-308, 1 / 3.0, 2.0 / 3, math.Pi, -math.E * 1e100, math.Inf(1), math.Inf(-1), math.NaN(),
		float64(1 << 53), float64(1<<53) + 2, 0.30000000000000004}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		vals = append(vals, math.Float64frombits(rng.Uint64()))
	}
	for range 3000 {
		vals = append(vals, (rng.Float64()-0.5)*math.Pow(10, float64(rng.IntN(44)-22)))
	}
	var in strings.Builder
	for _, v := range vals {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		in.WriteString(hex.EncodeToString(b[:]) + "\n")
	}
	cmd := exec.Command(py, "-c", `import sys, struct
for line in sys.stdin:
    print(repr(struct.unpack("<d", bytes.fromhex(line.strip()))[0]))`)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(want) != len(vals) {
		t.Fatalf("python3 printed %d lines for %d values", len(want), len(vals))
	}
	bad := 0
	for i, v := range vals {
		if got := string(appendPyFloat(nil, v)); got != want[i] {
			if bad++; bad <= 10 {
				t.Errorf("%x: got %s, python's repr is %s", math.Float64bits(v), got, want[i])
			}
		}
	}
}
