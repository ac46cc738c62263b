package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/pprof/driver"
	"github.com/google/pprof/profile"
	"github.com/spf13/pflag"

	"github.com/objgraph-go/objgraph/objgraph"
)

type uiOptions struct {
	http      string
	base      string
	qualified bool
	noBrowser bool
}

func init() {
	register(&command{
		name:   "ui",
		args:   "SNAPSHOT",
		noJSON: true,
		summary: "Serve pprof's web interface (flame graph, top table, graph) for the profile of a\n" +
			"snapshot, as objgraph pprof writes it, in this process. With\n" +
			"--base, the interface shows SNAPSHOT against OLD, as go tool pprof -diff_base\n" +
			"does: what grew and what shrank. The server listens on the loopback address\n" +
			"unless --http says otherwise, and runs until interrupted. pprof's graph view\n" +
			"runs a program named dot; it gets objgraph-render, which draws with a built-in\n" +
			"graphviz, so that the view works without graphviz installed. When the snapshot\n" +
			"has allocation tracebacks (tracemalloc was tracing), a second interface under\n" +
			"/alloc/ui/ shows the allocation view, as objgraph pprof --alloc writes it, and\n" +
			"the page at / links both.",
		bind: withOptions(func(fs *pflag.FlagSet, o *uiOptions) {
			fs.StringVar(&o.http, "http", "127.0.0.1:0", "listen on this host:port (port 0 picks a free one)")
			fs.StringVar(&o.base, "base", "", "compare with the profile of this earlier snapshot of the same process")
			fs.BoolVar(&o.qualified, "qualified", false, "module-qualified type names")
			fs.BoolVar(&o.noBrowser, "no-browser", false, "do not open a web browser")
		}, runUI),
	})
}

func runUI(c *cmdEnv, o *uiOptions, args []string) error {
	if err := wantArgs(args, "SNAPSHOT"); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(o.http)
	if err != nil {
		return usagef("--http %s: %v; give host:port, as 127.0.0.1:8080", o.http, err)
	}
	opts := objgraph.ProfileOptions{Qualified: o.qualified}
	views := []*uiView{{name: "heap", prefix: "/ui/", profiles: map[string]*profile.Profile{}}}
	heapView := views[0]
	if heapView.profiles["snapshot"], _, err = c.heapProfile(args[0], "", false, opts); err != nil {
		return err
	}
	if o.base != "" {
		if heapView.profiles["base"], _, err = c.heapProfile(o.base, "", false, opts); err != nil {
			return err
		}
	}
	// The allocation view, when the snapshot has allocation tracebacks:
	// a second pprof interface under /alloc/ui/, as objgraph pprof --alloc
	// writes the profile.
	if p, _, err := c.heapProfile(args[0], "", true, opts); err == nil {
		v := &uiView{name: "allocation", prefix: "/alloc/ui/", profiles: map[string]*profile.Profile{"snapshot": p}}
		if o.base != "" {
			if bp, _, err := c.heapProfile(o.base, "", true, opts); err == nil {
				v.profiles["base"] = bp
			} else {
				fmt.Fprintf(c.stderr, "objgraph: the allocation view shows %s alone: %v\n", args[0], err)
			}
		}
		views = append(views, v)
	}
	cleanup, err := c.provideDot()
	if err != nil {
		return err
	}
	defer cleanup()
	ln, err := net.Listen("tcp", o.http)
	if err != nil {
		return err
	}
	defer ln.Close()
	addr := ln.Addr().(*net.TCPAddr)
	if !isLoopback(host) {
		fmt.Fprintf(c.stderr, "objgraph: warning: listening on %s: anyone who can reach it sees the snapshot, strings included\n", addr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Each view is a pprof driver of its own, whose handlers go under the
	// view's prefix of one server; only the first opens a browser.
	mux := http.NewServeMux()
	errs := make(chan error, len(views))
	ready := make(chan struct{}, len(views))
	for i, v := range views {
		pargs := []string{"-http=" + net.JoinHostPort(host, fmt.Sprint(addr.Port))}
		if o.noBrowser || i > 0 {
			pargs = append(pargs, "-no_browser")
		}
		if _, ok := v.profiles["base"]; ok {
			pargs = append(pargs, "-diff_base=base")
		}
		pargs = append(pargs, "snapshot")
		go func() {
			errs <- driver.PProf(&driver.Options{
				Flagset: &pprofFlags{args: pargs},
				Fetch:   profileFetcher(v.profiles),
				UI:      &pprofUI{stderr: c.stderr, browser: !o.noBrowser && i == 0},
				HTTPServer: func(a *driver.HTTPServerArgs) error {
					mux.Handle(v.prefix, http.StripPrefix(strings.TrimSuffix(v.prefix, "/"), handlerMap(a.Handlers)))
					ready <- struct{}{}
					<-ctx.Done()
					return nil
				},
			})
		}()
	}
	for range views {
		select {
		case <-ready:
		case err := <-errs:
			if err == nil {
				err = errors.New("pprof's interface ended before it started")
			}
			return err
		}
	}
	if len(views) > 1 {
		mux.Handle("/{$}", viewIndex(args[0], views))
	} else {
		mux.Handle("/{$}", http.RedirectHandler("/ui/", http.StatusTemporaryRedirect))
	}
	return serveUI(ctx, c, ln, mux, args[0], views)
}

// uiView is one pprof interface of objgraph ui: its profiles by name
// ("snapshot", and "base" with --base) and the path it is served under.
type uiView struct {
	name     string
	prefix   string
	profiles map[string]*profile.Profile
}

// handlerMap serves pprof's handlers by path, as pprof's own server does.
func handlerMap(hs map[string]http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := hs[r.URL.Path]
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// viewIndex is the page at / when there are several views: a link to each.
func viewIndex(name string, views []*uiView) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>objgraph: %s</title></head><body>\n<h1>%s</h1>\n<ul>\n",
			html.EscapeString(name), html.EscapeString(name))
		for _, v := range views {
			fmt.Fprintf(w, "<li><a href=\"%s\">the %s view</a></li>\n", v.prefix, v.name)
		}
		fmt.Fprintf(w, "</ul>\n</body></html>\n")
	})
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serveUI serves mux on ln until ctx ends.
func serveUI(ctx context.Context, c *cmdEnv, ln net.Listener, mux *http.ServeMux, name string, views []*uiView) error {
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Fprintf(c.stderr, "objgraph: serving the profile of %s on http://%s%s (interrupt to stop)\n", name, ln.Addr(), views[0].prefix)
	for _, v := range views[1:] {
		fmt.Fprintf(c.stderr, "objgraph: the %s view is on http://%s%s\n", v.name, ln.Addr(), v.prefix)
	}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// provideDot puts a program named dot that draws with objgraph-render first
// on PATH, for pprof's graph view, and returns what removes it. Without
// objgraph-render it leaves PATH alone and says what the graph view needs.
func (c *cmdEnv) provideDot() (func(), error) {
	render, err := c.findRenderer()
	if err != nil {
		if _, lerr := exec.LookPath("dot"); lerr == nil {
			fmt.Fprintf(c.stderr, "objgraph: objgraph-render not found; the graph view uses the installed graphviz\n")
		} else {
			fmt.Fprintf(c.stderr, "objgraph: the graph view will not work: %v\n", err)
		}
		return func() {}, nil
	}
	dir, err := os.MkdirTemp("", "objgraph-dot-")
	if err != nil {
		return nil, err
	}
	name := filepath.Join(dir, "dot")
	if strings.HasSuffix(render, ".exe") {
		name += ".exe"
	}
	if err := os.Symlink(render, name); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("providing dot for the graph view: %w", err)
	}
	old := os.Getenv("PATH")
	os.Setenv("PATH", dir+string(os.PathListSeparator)+old)
	return func() {
		os.Setenv("PATH", old)
		os.RemoveAll(dir)
	}, nil
}

// profileFetcher hands pprof the profiles by name.
type profileFetcher map[string]*profile.Profile

func (f profileFetcher) Fetch(src string, _, _ time.Duration) (*profile.Profile, string, error) {
	p, ok := f[src]
	if !ok {
		return nil, "", fmt.Errorf("no profile %q", src)
	}
	return p.Copy(), "", nil
}

// pprofFlags gives pprof's driver its command line.
type pprofFlags struct {
	args  []string
	fs    *flag.FlagSet
	extra []string
}

func (f *pprofFlags) set() *flag.FlagSet {
	if f.fs == nil {
		f.fs = flag.NewFlagSet("pprof", flag.ContinueOnError)
		f.fs.SetOutput(io.Discard)
	}
	return f.fs
}

func (f *pprofFlags) Bool(name string, def bool, usage string) *bool {
	return f.set().Bool(name, def, usage)
}

func (f *pprofFlags) Int(name string, def int, usage string) *int {
	return f.set().Int(name, def, usage)
}

func (f *pprofFlags) Float64(name string, def float64, usage string) *float64 {
	return f.set().Float64(name, def, usage)
}

func (f *pprofFlags) String(name string, def string, usage string) *string {
	return f.set().String(name, def, usage)
}

func (f *pprofFlags) StringList(name string, def string, usage string) *[]*string {
	list := &stringList{}
	if def != "" {
		list.Set(def)
	}
	f.set().Var(list, name, usage)
	return &list.values
}

func (f *pprofFlags) ExtraUsage() string { return strings.Join(f.extra, "\n") }

func (f *pprofFlags) AddExtraUsage(eu string) { f.extra = append(f.extra, eu) }

func (f *pprofFlags) Parse(usage func()) []string {
	fs := f.set()
	fs.Usage = usage
	if err := fs.Parse(f.args); err != nil {
		usage()
		return nil
	}
	return fs.Args()
}

// stringList is a repeatable string flag.
type stringList struct{ values []*string }

func (l *stringList) String() string { return "" }

func (l *stringList) Set(v string) error {
	l.values = append(l.values, &v)
	return nil
}

// pprofUI passes pprof's messages on to standard error, but for the one
// that announces the server, which serveUI makes with the real address.
type pprofUI struct {
	stderr  io.Writer
	browser bool
}

func (u *pprofUI) ReadLine(string) (string, error) { return "", io.EOF }

func (u *pprofUI) Print(args ...any) {
	msg := fmt.Sprint(args...)
	if strings.HasPrefix(msg, "Serving web UI on") {
		return
	}
	fmt.Fprintf(u.stderr, "objgraph: pprof: %s\n", strings.TrimSuffix(msg, "\n"))
}

func (u *pprofUI) PrintErr(args ...any) {
	fmt.Fprintf(u.stderr, "objgraph: pprof: %s\n", strings.TrimSuffix(fmt.Sprint(args...), "\n"))
}

func (u *pprofUI) IsTerminal() bool { return false }

func (u *pprofUI) WantBrowser() bool { return u.browser }

func (u *pprofUI) SetAutoComplete(func(string) string) {}
