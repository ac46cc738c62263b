// Package pyroscopetest runs a real Grafana Pyroscope server on the
// loopback address for tests, and reads back what it stored through its
// query API.
//
// The server is built from the Go module proxy by
// internal/pyroscope/testdata/build-pyroscope.sh, which caches the binary
// by version under the user cache directory; .ci/run runs it and sets
// OBJGRAPH_PYROSCOPE to the binary. Tests find the binary there, or else at
// the cache path; without one they fail under CI (CI=true) and are
// skipped elsewhere.
package pyroscopetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/internal/testenv"
)

// Version is the Pyroscope release the tests run.
const Version = "v1.12.0"

// EnvBinary names the environment variable with the server binary's path.
const EnvBinary = "OBJGRAPH_PYROSCOPE"

// Binary returns the path of the Pyroscope server: $OBJGRAPH_PYROSCOPE, or
// the build script's cache path. It reports it Missing when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", EnvBinary, p, err)
		}
		return p
	}
	p := cachePath()
	if _, err := os.Stat(p); err != nil {
		testenv.Missing(t, "no Pyroscope server at %s: build it with bash internal/pyroscope/testdata/build-pyroscope.sh (about 7 minutes; .ci/run does), or set %s", p, EnvBinary)
	}
	return p
}

func cachePath() string {
	dir := os.Getenv("OBJGRAPH_CACHE")
	if dir == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			c = os.TempDir()
		}
		dir = filepath.Join(c, "objgraph-go")
	}
	return filepath.Join(dir, "pyroscope-"+Version, "pyroscope")
}

// Server is a running Pyroscope server.
type Server struct {
	URL  string // http://127.0.0.1:PORT
	log  *lockedBuffer
	stop func() // stops the server, once (also at the end of the test)
}

// Start starts a Pyroscope server in single-binary mode on 127.0.0.1, on
// free ports, with its storage in a temporary directory, and waits until
// it is ready. Extra flags go after the defaults. The server is stopped
// when the test ends.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := Binary(t)
	var last error
	for range 3 { // a port found free can be taken before the server binds it
		s, err := start(t, bin, extra)
		if err == nil {
			return s
		}
		last = err
	}
	t.Fatal(last)
	return nil
}

func start(t testing.TB, bin string, extra []string) (*Server, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	http, grpc, gossip := ports[0], ports[1], ports[2]
	dir := t.TempDir()
	const a = "127.0.0.1"
	args := []string{
		"-target=all",
		"-ingester.min-ready-duration=0s",
		"-self-profiling.disable-push=true",
		"-usage-stats.enabled=false",
		"-server.http-listen-address=" + a, "-server.http-listen-port=" + strconv.Itoa(http),
		"-server.grpc-listen-address=" + a, "-server.grpc-listen-port=" + strconv.Itoa(grpc),
		"-memberlist.bind-addr=" + a, "-memberlist.bind-port=" + strconv.Itoa(gossip),
		"-memberlist.advertise-addr=" + a, "-memberlist.advertise-port=" + strconv.Itoa(gossip),
		"-memberlist.join=" + a + ":" + strconv.Itoa(gossip),
		"-ingester.lifecycler.addr=" + a,
		"-distributor.ring.instance-addr=" + a,
		"-query-scheduler.ring.instance-addr=" + a,
		"-query-frontend.instance-addr=" + a,
		"-store-gateway.sharding-ring.instance-addr=" + a,
		"-compactor.ring.instance-addr=" + a,
		"-overrides-exporter.ring.instance-addr=" + a,
		"-storage.backend=filesystem",
		"-storage.filesystem.dir=" + filepath.Join(dir, "bucket"),
		"-pyroscopedb.data-path=" + filepath.Join(dir, "data"),
		"-compactor.data-dir=" + filepath.Join(dir, "compactor"),
	}
	args = append(args, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := sync.OnceFunc(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	s := &Server{URL: fmt.Sprintf("http://%s:%d", a, http), log: log, stop: stop}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("pyroscope exited before it was ready (%v):\n%s", err, log.tail(40))
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := httpGet(s.URL + "/ready")
		if err == nil && resp == 200 {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("pyroscope not ready after 60s:\n%s", log.tail(40))
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("pyroscope log:\n%s", log.tail(40))
		}
	})
	return s, nil
}

func httpGet(u string) (int, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// freePorts returns n ports free on 127.0.0.1 for both TCP and UDP
// (memberlist gossips on both).
func freePorts(n int) ([]int, error) {
	var ports []int
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		closers = append(closers, l)
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		closers = append(closers, u)
		ports = append(ports, port)
	}
	return ports, nil
}

// Log returns the last lines the server wrote.
func (s *Server) Log() string { return s.log.tail(40) }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := strings.Split(strings.TrimRight(l.b.String(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// ProfileType is one profile type the server has data of.
type ProfileType struct {
	ID         string `json:"ID"` // e.g. memory:space:bytes:space:bytes
	Name       string `json:"name"`
	SampleType string `json:"sampleType"`
	SampleUnit string `json:"sampleUnit"`
	PeriodType string `json:"periodType"`
	PeriodUnit string `json:"periodUnit"`
}

// ProfileTypes asks the server for the profile types it has data of
// between start and end (POST /querier.v1.QuerierService/ProfileTypes).
func (s *Server) ProfileTypes(start, end time.Time) ([]ProfileType, error) {
	var resp struct {
		ProfileTypes []ProfileType `json:"profileTypes"`
	}
	err := s.call("ProfileTypes", map[string]any{"start": start.UnixMilli(), "end": end.UnixMilli()}, &resp)
	return resp.ProfileTypes, err
}

// Flamegraph is the merge of the stacks of a selection, as the server's
// flame graph: names, and per level of depth, nodes as four numbers each
// (offset from the previous node, total, self, index in Names).
type Flamegraph struct {
	Names  []string
	Levels [][]int64
	Total  int64
}

// SelectMergeStacktraces asks the server for the merged stacks of the
// profiles of type typeID whose labels match selector (such as
// {service_name="app"}) between start and end
// (POST /querier.v1.QuerierService/SelectMergeStacktraces).
func (s *Server) SelectMergeStacktraces(typeID, selector string, start, end time.Time) (Flamegraph, error) {
	var resp struct {
		Flamegraph struct {
			Names  []string `json:"names"`
			Levels []struct {
				Values []jsonInt `json:"values"`
			} `json:"levels"`
			Total jsonInt `json:"total"`
		} `json:"flamegraph"`
	}
	req := map[string]any{"profileTypeID": typeID, "labelSelector": selector,
		"start": start.UnixMilli(), "end": end.UnixMilli(), "maxNodes": 1 << 20}
	if err := s.call("SelectMergeStacktraces", req, &resp); err != nil {
		return Flamegraph{}, err
	}
	f := Flamegraph{Names: resp.Flamegraph.Names, Total: int64(resp.Flamegraph.Total)}
	for _, l := range resp.Flamegraph.Levels {
		vs := make([]int64, len(l.Values))
		for i, v := range l.Values {
			vs[i] = int64(v)
		}
		f.Levels = append(f.Levels, vs)
	}
	return f, nil
}

// Self returns the self values of the flame graph's nodes named name,
// summed.
func (f Flamegraph) Self(name string) int64 {
	var sum int64
	for _, l := range f.Levels {
		for i := 0; i+3 < len(l); i += 4 {
			if idx := l[i+3]; idx >= 0 && int(idx) < len(f.Names) && f.Names[idx] == name {
				sum += l[i+2]
			}
		}
	}
	return sum
}

// call posts a Connect JSON request to the querier service.
func (s *Server) call(method string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	c := &http.Client{Timeout: 30 * time.Second}
	r, err := c.Post(s.URL+"/querier.v1.QuerierService/"+method, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if r.StatusCode != 200 {
		return fmt.Errorf("%s: %s: %s", method, r.Status, b)
	}
	if err := json.Unmarshal(b, resp); err != nil {
		return fmt.Errorf("%s: %w in %s", method, err, b)
	}
	return nil
}

// jsonInt is an int64 of a Connect JSON message: a string or a number.
type jsonInt int64

func (j *jsonInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return errors.New("not an integer: " + string(b))
	}
	*j = jsonInt(v)
	return nil
}
