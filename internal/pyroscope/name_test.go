package pyroscope

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/heap"
)

func TestNameString(t *testing.T) {
	n := Name{Service: "app", Labels: map[string]string{"pid": "42", "host": "web-1", "env": "prod"}}
	if got, want := n.String(), "app{env=prod,host=web-1,pid=42}"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := (Name{Service: "app"}).String(); got != "app{}" {
		t.Errorf("no labels: %q", got)
	}
}

func TestParseLabel(t *testing.T) {
	for _, tc := range []struct {
		in, err string // err: a part of the error; "" for none
	}{
		{"env=prod", ""},
		{"region=eu-west-1", ""},
		{"_x9=a b", ""},
		{"ünicode_value=héllo", "character 'ü' at byte 0"},
		{"env", "want KEY=VALUE"},
		{"=prod", "empty key"},
		{"env=", "empty value"},
		{"9env=x", "character '9' at byte 0"},
		{"my-env=x", "character '-' at byte 2"},
		{"a.b=x", "character '.' at byte 1"},
		{"__name__=x", "reserved to the server"},
		{"service_name=x", "given on its own"},
		{"env=a,b", "character ',' at byte 1"},
		{"env=a}", "character '}' at byte 1"},
		{"env= a", "spaces at either end"},
		{"env=\xff", "not UTF-8"},
		{"env=" + strings.Repeat("x", 2049), "longer than 2048 bytes"},
	} {
		_, _, err := ParseLabel(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one saying %q", tc.in, err, tc.err)
		}
	}
	k, v, _ := ParseLabel("url=http://x/?a=b")
	if k != "url" || v != "http://x/?a=b" {
		t.Errorf("split at the first =: %q %q", k, v)
	}
}

func TestCheckService(t *testing.T) {
	for _, ok := range []string{"app", "my-app.v2", "team/app", "a_b"} {
		if err := CheckService(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "my app", "app{x}", "app,x", "été"} {
		if err := CheckService(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestServiceName(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"/usr/bin/python3", "testdata/programs/cache_leak.py", "x"}, "cache_leak"},
		{[]string{"python3.11", "-u", "-X", "dev", "-W", "error", "/srv/app.py"}, "app"},
		{[]string{"python3", "-m", "celery.worker", "-A", "x"}, "celery.worker"},
		{[]string{"python3", "-mhttp.server"}, "http.server"},
		{[]string{"python3", "/srv/pkg/__main__.py"}, "pkg"},
		{[]string{"/srv/app.py", "--port", "80"}, "app"}, // sys.argv, before Python 3.10
		{[]string{"python3", "-c", "import x"}, DefaultService},
		{[]string{"python3", "<str of 6>"}, DefaultService}, // redacted
		{[]string{"python3"}, DefaultService},
		{[]string{"python3", "my app!.py"}, "my_app"},
		{nil, DefaultService},
	} {
		if got := ServiceName(&heap.Meta{Argv: tc.argv}); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.argv, got, tc.want)
		}
		if err := CheckService(ServiceName(&heap.Meta{Argv: tc.argv})); err != nil {
			t.Errorf("%q: %v", tc.argv, err)
		}
	}
}

func TestSnapshotLabels(t *testing.T) {
	m := &heap.Meta{PID: 42, Host: "web-1", Version: "3.12.1"}
	got := SnapshotLabels(m)
	if len(got) != 3 || got["pid"] != "42" || got["host"] != "web-1" || got["python_version"] != "3.12.1" {
		t.Errorf("got %v", got)
	}
	if got := SnapshotLabels(&heap.Meta{Host: " a,b} "}); len(got) != 1 || CheckLabel("host", got["host"]) != nil {
		t.Errorf("a host name the server would misread: %q", got)
	}
	if got := SnapshotLabels(&heap.Meta{}); len(got) != 0 {
		t.Errorf("no meta: %v", got)
	}
}

// A server over its rate limit answers 429 until it is not: Push waits
// and tries again.
func TestPushAnswers(t *testing.T) {
	p := build(spec{"mod;x: dict", []int64{1, 10}})
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		q := r.URL.Query()
		switch {
		case r.URL.Path != "/ingest" || q.Get("format") != "pprof" || q.Get("name") != "app{pid=1}" || q.Get("from") != "1700000000":
			http.Error(w, "bad request "+r.URL.String(), 400)
		case n <= 2:
			w.WriteHeader(429)
		default:
			w.WriteHeader(200)
		}
	}))
	defer srv.Close()
	c := &Client{URL: srv.URL, Retry: time.Millisecond}
	name := Name{Service: "app", Labels: map[string]string{"pid": "1"}}
	if err := c.Push(context.Background(), name, time.Unix(1700000000, 0), p); err != nil || calls.Load() != 3 {
		t.Errorf("after two 429s: %v, %d calls", err, calls.Load())
	}
	if p.TimeNanos != 1700000000e9 {
		t.Errorf("TimeNanos %d", p.TimeNanos)
	}
}
