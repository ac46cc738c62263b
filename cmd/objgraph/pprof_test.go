package main

// Tests of pprof and ui: the profiles open in go tool pprof (top, traces,
// diff_base, the web interface), and the ui command's pages render the
// leak in a real browser, with a graph view that works without graphviz.

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/objgraph-go/objgraph/internal/testenv"
)

// The bundled snapshots of a program whose module-level cache keeps every
// Response: 100, 300 and 600 of them.
const (
	cacheLeak1 = "../../testdata/snapshots/cache_leak-1.ogs"
	cacheLeak3 = "../../testdata/snapshots/cache_leak-3.ogs"
)

// goTool runs go tool pprof with args and returns its standard output.
func goTool(t *testing.T, args ...string) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goBin, append([]string{"tool", "pprof"}, args...)...)
	cmd.Env = append(os.Environ(), "PPROF_TMPDIR="+t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go tool pprof %q: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

func writeProfile(t *testing.T, snap string, extra ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(snap)+".pb.gz")
	if _, errOut, code := runCLI(append([]string{"pprof", "-o", out, snap}, extra...)...); code != 0 {
		t.Fatalf("objgraph pprof %s: %s", snap, errOut)
	}
	return out
}

func TestPprofTool(t *testing.T) {
	old := writeProfile(t, cacheLeak1)
	cur := writeProfile(t, cacheLeak3)
	diff := writeProfile(t, cacheLeak3, "--base", cacheLeak1)

	f, err := os.Open(cur)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.SampleType) != 3 || p.SampleType[0].Type != "objects" || p.SampleType[1].Type != "space" || p.SampleType[2].Type != "retained" {
		t.Errorf("sample types %v", p.SampleType)
	}
	responses := int64(0)
	for _, s := range p.Sample {
		if s.Label["type"][0] == "Response" {
			responses += s.Value[0]
		}
	}
	if responses != 600 {
		t.Errorf("%d Response objects in the profile, want 600", responses)
	}

	top := goTool(t, "-top", "-sample_index=objects", cur)
	for _, want := range []string{"Type: objects", "[*]: Response", "_cache: dict"} {
		if !strings.Contains(top, want) {
			t.Errorf("go tool pprof -top lacks %q:\n%s", want, top)
		}
	}
	traces := goTool(t, "-traces", cur)
	stack := regexp.MustCompile(`(?m)^\s+\S+\s+\[\*\]: Response\n\s+_cache: dict\n\s+(__dict__|f_globals): dict\n\s+(module __main__|frame .*)$`)
	if !stack.MatchString(traces) {
		t.Errorf("go tool pprof -traces has no stack from a root to the Responses:\n%.3000s", traces)
	}
	// Growth between the snapshots: 500 Responses, whichever way it is computed.
	for _, args := range [][]string{
		{"-top", "-sample_index=objects", "-diff_base", old, cur},
		{"-top", "-sample_index=objects", diff},
	} {
		out := goTool(t, args...)
		line := regexp.MustCompile(`(?m)^\s+500\s.*\[\*\]: Response$`)
		if !line.MatchString(out) {
			t.Errorf("go tool pprof %q shows no growth of 500 Responses:\n%s", args, out)
		}
	}
}

// freePort returns a loopback address nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitPage fetches url until it answers, for at most 60 seconds.
func waitPage(t *testing.T, url string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(body)
			}
			err = &httpError{resp.Status, string(body)}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type httpError struct{ status, body string }

func (e *httpError) Error() string { return e.status + ": " + e.body }

func TestPprofToolHTTP(t *testing.T) {
	cur := writeProfile(t, cacheLeak3)
	addr := freePort(t)
	// Run pprof itself, not through go tool, which would leave it running
	// when killed.
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	tool, err := exec.Command(goBin, "tool", "-n", "pprof").Output()
	if err != nil {
		t.Fatalf("go tool -n pprof: %v", err)
	}
	cmd := exec.Command(strings.TrimSpace(string(tool)), "-http="+addr, "-no_browser", cur)
	cmd.Env = append(os.Environ(), "PPROF_TMPDIR="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	page := waitPage(t, "http://"+addr+"/ui/top?si=objects")
	if !strings.Contains(page, "[*]: Response") {
		t.Errorf("the top page of go tool pprof -http does not show the Responses:\n%.2000s", page)
	}
}

// buildCommands builds objgraph and objgraph-render into one directory.
func buildCommands(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	render := renderer(t)
	if err := os.Link(render, filepath.Join(dir, "objgraph-render")); err != nil {
		data, err := os.ReadFile(render)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "objgraph-render"), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", filepath.Join(dir, "objgraph"), ".").CombinedOutput()
	if err != nil {
		t.Fatalf("building objgraph: %v\n%s", err, out)
	}
	return dir
}

// startUI starts objgraph ui with args and returns the address it serves.
// A dot that always fails comes first on PATH: the graph view must not
// depend on the system's graphviz.
func startUI(t *testing.T, bin string, args ...string) string {
	t.Helper()
	fake := t.TempDir()
	if err := os.WriteFile(filepath.Join(fake, "dot"), []byte("#!/bin/sh\necho 'not this dot' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "objgraph"), append([]string{"ui", "--no-browser"}, args...)...)
	cmd.Env = append(os.Environ(), "PATH="+fake+string(os.PathListSeparator)+os.Getenv("PATH"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	serving := regexp.MustCompile(`on http://([^/]+)/ui/`)
	sc := bufio.NewScanner(stderr)
	var log []string
	for sc.Scan() {
		log = append(log, sc.Text())
		if m := serving.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, stderr)
			return m[1]
		}
	}
	t.Fatalf("objgraph ui did not start:\n%s", strings.Join(log, "\n"))
	return ""
}

func TestUIGraphView(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake dot is a shell script")
	}
	addr := startUI(t, buildCommands(t), cacheLeak3)
	page := waitPage(t, "http://"+addr+"/ui/graph?si=objects")
	if !strings.Contains(page, "<svg") || !strings.Contains(page, "Response") || strings.Contains(page, "Could not execute dot") {
		t.Errorf("the graph view has no drawing of the Responses:\n%.2000s", page)
	}
}

// TestUIBrowser loads the flame graph of a leak in headless Chromium and
// finds the leaking type among the boxes the page's script draws.
func TestUIBrowser(t *testing.T) {
	chromium := testenv.LookPath(t, "chromium", "apt-get install -y chromium")
	addr := startUI(t, buildCommands(t), cacheLeak3, "--base", cacheLeak1)
	waitPage(t, "http://"+addr+"/ui/flamegraph")
	for _, tc := range []struct {
		page string
		want *regexp.Regexp
	}{
		// A box of the flame graph, drawn by the page's script.
		{"flamegraph?si=objects", regexp.MustCompile(`<div class="boxtext"[^>]*>\[\*\]: Response</div>`)},
		// A node of the graph, drawn by objgraph-render as dot.
		{"graph?si=objects", regexp.MustCompile(`<svg[\s\S]*<text[^>]*>\[\*\]: Response</text>`)},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
			"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", "http://"+addr+"/ui/"+tc.page)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		dom, err := cmd.Output()
		cancel()
		if err != nil {
			t.Fatalf("chromium %s: %v\n%s", tc.page, err, stderr.String())
		}
		if !tc.want.Match(dom) {
			t.Errorf("%s: the page Chromium rendered has no %s (%d bytes)", tc.page, tc.want, len(dom))
		}
	}
}
