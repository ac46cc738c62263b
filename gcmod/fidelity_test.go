package gcmod_test

// The differential harness: every scenario of testdata/scenarios.txt runs in
// a fresh CPython (the python3 on PATH) and in a Runtime, and the two logs
// must be identical: gc.collect() results, gc.garbage, get_count(), callback
// infos, finalizer and weakref callback calls, tracking, generations'
// contents, and which objects survive.
//
// Scenarios are written in a small language (one operation a line) that
// translates to Python code and to Runtime calls. For the counts to be
// comparable, the Python side is isolated from the interpreter: it disables
// automatic collection, collects, and freezes every object that exists
// before the scenario starts, so collections see only the scenario's
// objects; and each operation translates to Python code whose allocations
// of gc-aware objects are known exactly (no function calls that build
// argument tuples, no temporaries beyond those the Go side makes too). The
// log is built from strings and ints only, which the collector does not
// track. The Go side makes as many stand-ins for the frozen objects, so the
// permanent generation has the same size.
//
// GCMOD_PYTHONS names more interpreters to compare with (see pythons);
// GCMOD_DUMP=1 logs both whole logs of every scenario.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/objgraph-go/objgraph/gcmod"
	"github.com/objgraph-go/objgraph/internal/testenv"
)

// scenario is one block of testdata/scenarios.txt.
type scenario struct {
	name string
	ops  []op
	line int
}

type op struct {
	name string
	args []string
	line int
	body []op // repeat
	n    int  // repeat count
}

func parseScenarios(t *testing.T, path string) []scenario {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []scenario
	var stack [][]op // open repeat bodies
	var reps []op
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if name, ok := strings.CutPrefix(line, "== "); ok {
			if len(stack) > 0 {
				t.Fatalf("%s:%d: repeat not closed", path, i+1)
			}
			out = append(out, scenario{name: name, line: i + 1})
			continue
		}
		if len(out) == 0 {
			t.Fatalf("%s:%d: operation before the first scenario", path, i+1)
		}
		f := strings.Fields(line)
		o := op{name: f[0], args: f[1:], line: i + 1}
		switch o.name {
		case "repeat":
			n, err := strconv.Atoi(o.args[0])
			if err != nil {
				t.Fatalf("%s:%d: %v", path, i+1, err)
			}
			o.n = n
			reps = append(reps, o)
			stack = append(stack, nil)
			continue
		case "end":
			if len(stack) == 0 {
				t.Fatalf("%s:%d: end without repeat", path, i+1)
			}
			body := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			o = reps[len(reps)-1]
			reps = reps[:len(reps)-1]
			o.body = body
		}
		if len(stack) > 0 {
			stack[len(stack)-1] = append(stack[len(stack)-1], o)
		} else {
			s := &out[len(out)-1]
			s.ops = append(s.ops, o)
		}
	}
	return out
}

// pythonPrologue sets up a Python process for a scenario. The classes'
// finalizers and the callbacks only append strings and ints to LOG, so they
// allocate nothing the collector counts.
const pythonPrologue = `import gc, sys, os, weakref
gc.disable()
from _testcapi import with_tp_del
LOG = []
IDS = {}
RES = []
class Node:
    def m(self): pass
class Fin:
    def m(self): pass
    def __del__(self):
        LOG.append('del'); LOG.append(IDS.get(id(self), '?'))
class Lazarus:
    def m(self): pass
    def __del__(self):
        LOG.append('del'); LOG.append(IDS.get(id(self), '?')); RES.append(self)
class Breaker:
    def m(self): pass
    def __del__(self):
        LOG.append('del'); LOG.append(IDS.get(id(self), '?')); self.p = None
@with_tp_del
class Legacy:
    def m(self): pass
    def __tp_del__(self):
        LOG.append('tpdel'); LOG.append(IDS.get(id(self), '?'))
def WCB(wr):
    LOG.append('wcb'); LOG.append(IDS.get(id(wr), '?'))
def GCCB(phase, info):
    LOG.append('gccb'); LOG.append(phase); LOG.append(info['generation'])
    LOG.append(info['collected']); LOG.append(info['uncollectable'])
T_i = T_c = T_G = T_S = T_pid = T_ = None
T_F = hasattr(gc, 'is_finalized')
T_O = sys.version_info >= (3, 8)
gc.collect()
ST0 = [[s['collections'], s['collected'], s['uncollectable']] for s in gc.get_stats()]
T_n = gc.collect()
ST0[2][0] += 1
ST0[2][1] += T_n
gc.freeze()
BASE = gc.get_freeze_count()
`

const pythonEpilogue = `gc.set_debug(0)
gc.unfreeze()
T_G = gc.get_objects()
T_S = sorted(IDS[id(o)] for o in T_G if id(o) in IDS)
sys.stdout.write('\n'.join(map(str, LOG)) + '\nbase ' + str(BASE) + '\nsurvivors ' + ' '.join(T_S) + '\n')
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)
`

var debugNames = map[string]gcmod.DebugFlags{
	"stats": gcmod.DebugStats, "collectable": gcmod.DebugCollectable,
	"uncollectable": gcmod.DebugUncollectable, "saveall": gcmod.DebugSaveAll,
	"leak": gcmod.DebugLeak, "none": 0,
}

var pyDebugNames = map[string]string{
	"stats": "gc.DEBUG_STATS", "collectable": "gc.DEBUG_COLLECTABLE",
	"uncollectable": "gc.DEBUG_UNCOLLECTABLE", "saveall": "gc.DEBUG_SAVEALL",
	"leak": "gc.DEBUG_LEAK", "none": "0",
}

var classes = []string{"Node", "Fin", "Lazarus", "Breaker", "Legacy"}

// python translates a scenario to a Python program.
func python(s scenario) (string, error) {
	var b strings.Builder
	b.WriteString(pythonPrologue)
	if err := pyOps(&b, s.ops, ""); err != nil {
		return "", err
	}
	b.WriteString(pythonEpilogue)
	return b.String(), nil
}

// pySrc is the Python expression of a value: None, a variable or a bound
// method VAR.m; label is the label a bound method gets.
func pySrc(s string) (expr, label string) {
	if v, ok := strings.CutSuffix(s, ".m"); ok {
		return v + ".m", s
	}
	return s, ""
}

// varRE is what scenario variables look like: lower case, so that they
// cannot clash with the prologue's names (LOG, Node, T_c, ...).
var varRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

var reserved = map[string]bool{"gc": true, "sys": true, "os": true, "weakref": true, "with_tp_del": true}

func pyOps(b *strings.Builder, ops []op, ind string) error {
	w := func(format string, args ...any) { fmt.Fprintf(b, ind+format+"\n", args...) }
	store := func(loc, src string) {
		expr, label := pySrc(src)
		w("%s = %s", loc, expr)
		if label != "" {
			w("IDS[id(%s)] = %q", loc, label)
		}
	}
	for _, o := range ops {
		a := o.args
		need := func(n int) error {
			if len(a) < n {
				return fmt.Errorf("line %d: %s needs %d arguments", o.line, o.name, n)
			}
			return nil
		}
		switch o.name {
		case "new", "int", "tuple", "weakref", "fromres":
			if err := need(1); err != nil {
				return err
			}
			if !varRE.MatchString(a[0]) || reserved[a[0]] {
				return fmt.Errorf("line %d: %q cannot be a variable", o.line, a[0])
			}
		}
		switch o.name {
		case "new":
			if err := need(2); err != nil {
				return err
			}
			switch a[1] {
			case "list":
				w("%s = []", a[0])
			case "dict":
				w("%s = {}", a[0])
			default:
				if !slices.Contains(classes, a[1]) {
					return fmt.Errorf("line %d: unknown class %s", o.line, a[1])
				}
				w("%s = %s()", a[0], a[1])
			}
			w("IDS[id(%s)] = %q", a[0], a[0])
		case "int":
			w("%s = %d", a[0], 100000+o.line)
		case "tuple":
			w("%s = (%s,)", a[0], strings.Join(a[1:], ", "))
			w("IDS[id(%s)] = %q", a[0], a[0])
		case "set":
			store(a[0], a[1])
		case "item":
			store(fmt.Sprintf("%s[%q]", a[0], a[1]), a[2])
		case "append":
			expr, label := pySrc(a[1])
			w("%s.append(%s)", a[0], expr)
			if label != "" {
				w("IDS[id(%s[-1])] = %q", a[0], label)
			}
		case "delattr":
			w("del %s", a[0])
		case "delitem":
			w("del %s[%q]", a[0], a[1])
		case "remove":
			w("%s.remove(%s)", a[0], a[1])
		case "clear":
			w("%s.clear()", a[0])
		case "del":
			w("del %s", strings.Join(a, ", "))
		case "weakref":
			if len(a) > 2 && a[2] == "cb" {
				w("%s = weakref.ref(%s, WCB)", a[0], a[1])
			} else {
				w("%s = weakref.ref(%s)", a[0], a[1])
			}
			w("IDS[id(%s)] = %q", a[0], a[0])
		case "wtarget":
			w("LOG.append('wtarget'); LOG.append('dead' if %s() is None else IDS.get(id(%s()), '?'))", a[0], a[0])
		case "fromres":
			w("%s = RES.pop()", a[0])
		case "clearres":
			w("RES.clear()")
		case "collect":
			gen := "2"
			if len(a) > 0 {
				gen = a[0]
			}
			w("LOG.append('collect'); LOG.append(gc.collect(%s))", gen)
		case "count":
			w("T_c = gc.get_count()")
			w("LOG.append('count'); LOG.append(T_c[0]); LOG.append(T_c[1]); LOG.append(T_c[2])")
			w("del T_c")
		case "getthreshold":
			w("T_c = gc.get_threshold()")
			w("LOG.append('threshold'); LOG.append(T_c[0]); LOG.append(T_c[1]); LOG.append(T_c[2])")
			w("del T_c")
		case "threshold":
			w("gc.set_threshold(%s)", strings.Join(a, ", "))
		case "garbage":
			w("LOG.append('garbage'); T_i = 0")
			w("while T_i < len(gc.garbage): LOG.append(IDS.get(id(gc.garbage[T_i]), '?')); T_i += 1")
		case "cleargarbage":
			w("gc.garbage.clear()")
		case "tracked":
			w("LOG.append('tracked'); LOG.append(gc.is_tracked(%s))", a[0])
		case "finalized":
			w("if T_F: LOG.append('finalized'); LOG.append(gc.is_finalized(%s))", a[0])
		case "isenabled":
			w("LOG.append('enabled'); LOG.append(gc.isenabled())")
		case "objects", "referrers", "referents":
			in := ""
			switch o.name {
			case "objects":
				w("if T_O:")
				in = "    "
				w(in+"T_G = gc.get_objects(%s)", a[0])
			case "referrers":
				w("T_G = gc.get_referrers(%s)", a[0])
			default:
				w("T_G = gc.get_referents(%s)", a[0])
			}
			w(in+"LOG.append(%q); T_i = 0", o.name)
			w(in + "while T_i < len(T_G):")
			w(in + "    if id(T_G[T_i]) in IDS: LOG.append(IDS[id(T_G[T_i])])")
			w(in + "    T_i += 1")
			w(in + "del T_G")
		case "stats":
			w("T_S = gc.get_stats()")
			w("LOG.append('stats'); T_i = 0")
			w("while T_i < 3: LOG.append(T_S[T_i]['collections'] - ST0[T_i][0]); LOG.append(T_S[T_i]['collected'] - ST0[T_i][1]); LOG.append(T_S[T_i]['uncollectable'] - ST0[T_i][2]); T_i += 1")
			w("del T_S")
		case "freezecount":
			w("LOG.append('freezecount'); LOG.append(gc.get_freeze_count() - BASE)")
		case "enable":
			w("gc.enable()")
		case "disable":
			w("gc.disable()")
		case "freeze":
			w("gc.freeze()")
		case "unfreeze":
			w("gc.unfreeze()")
		case "debug":
			var fl []string
			for _, x := range a {
				f, ok := pyDebugNames[x]
				if !ok {
					return fmt.Errorf("line %d: unknown debug flag %s", o.line, x)
				}
				fl = append(fl, f)
			}
			w("gc.set_debug(%s)", strings.Join(fl, " | "))
		case "callback":
			w("gc.callbacks.append(GCCB)")
		case "clearcallbacks":
			w("gc.callbacks.clear()")
		case "fork":
			w("T_pid = os.fork()")
			w("if T_pid:")
			w("    os.waitpid(T_pid, 0)")
			w("    os._exit(0)")
		case "repeat":
			w("for T_ in range(%d):", o.n)
			if err := pyOps(b, o.body, ind+"    "); err != nil {
				return err
			}
		default:
			return fmt.Errorf("line %d: unknown operation %s", o.line, o.name)
		}
	}
	return nil
}

// machine runs a scenario on a Runtime, mirroring what the Python
// translation allocates.
type machine struct {
	r      *gcmod.Runtime
	types  map[string]gcmod.TypeID
	vars   map[string]gcmod.Obj
	labels map[gcmod.Obj]label
	log    []string
	res    []gcmod.Obj
	none   gcmod.Obj
	atom   gcmod.Obj // an int, for the items of argument tuples
	base   int       // stand-ins for the frozen interpreter objects
	stats0 [3]gcmod.GenStats
}

func newMachine(version string, base int, stderr *bytes.Buffer) (*machine, error) {
	r, err := gcmod.NewRuntime(gcmod.Options{Version: version, Stderr: stderr})
	if err != nil {
		return nil, err
	}
	m := &machine{r: r, types: map[string]gcmod.TypeID{}, vars: map[string]gcmod.Obj{},
		labels: map[gcmod.Obj]label{}, base: base}
	logDel := func(r *gcmod.Runtime, o gcmod.Obj) { m.log = append(m.log, "del", m.label(o)) }
	m.types["Node"] = r.NewType(gcmod.Type{Name: "Node"})
	m.types["Fin"] = r.NewType(gcmod.Type{Name: "Fin", Del: logDel})
	m.types["Lazarus"] = r.NewType(gcmod.Type{Name: "Lazarus", Del: func(r *gcmod.Runtime, o gcmod.Obj) {
		logDel(r, o)
		r.Incref(o)
		m.res = append(m.res, o)
	}})
	m.types["Breaker"] = r.NewType(gcmod.Type{Name: "Breaker", Del: func(r *gcmod.Runtime, o gcmod.Obj) {
		logDel(r, o)
		r.SetRef(o, "p", m.none)
	}})
	m.types["Legacy"] = r.NewType(gcmod.Type{Name: "Legacy", LegacyDel: func(r *gcmod.Runtime, o gcmod.Obj) {
		m.log = append(m.log, "tpdel", m.label(o))
	}})
	m.none = r.New(gcmod.TypeObject)
	r.SetImmortal(m.none)
	m.atom = r.New(gcmod.TypeObject)
	// Stand-ins for the objects the Python side froze before the scenario.
	// The Python side collects just before it freezes, so the long-lived
	// total is the number of frozen objects, and its statistics are logged
	// relative to that point.
	filler := r.NewType(gcmod.Type{Name: "interpreter"})
	r.Disable()
	for range base {
		r.New(filler)
	}
	if _, _, err := r.Collect(2); err != nil {
		return nil, err
	}
	m.stats0 = r.GetStats()
	r.Freeze()
	return m, nil
}

// label is a scenario object's label and type. A handle is reused once its
// object is freed, also for objects the scenario does not label (a
// __dict__ before 3.11): a label is valid only for an object of its type.
type label struct {
	name string
	typ  gcmod.TypeID
}

func (m *machine) setLabel(o gcmod.Obj, name string) {
	m.labels[o] = label{name, m.r.TypeOf(o)}
}

// lookup is o's label, if o, a live object, has one.
func (m *machine) lookup(o gcmod.Obj) (string, bool) {
	l, ok := m.labels[o]
	if !ok || l.typ != m.r.TypeOf(o) {
		return "", false
	}
	return l.name, true
}

// before reports whether the Runtime follows a version before major.minor.
func (m *machine) before(major, minor int) bool {
	v := m.r.Version()
	return v.Major < major || v.Major == major && v.Minor < minor
}

func (m *machine) label(o gcmod.Obj) string {
	if l, ok := m.lookup(o); ok {
		return l
	}
	return "?"
}

func (m *machine) logf(vals ...any) {
	for _, v := range vals {
		switch v := v.(type) {
		case bool:
			if v {
				m.log = append(m.log, "True")
			} else {
				m.log = append(m.log, "False")
			}
		default:
			m.log = append(m.log, fmt.Sprint(v))
		}
	}
}

// bind stores o in a variable, giving up what the variable held.
func (m *machine) bind(name string, o gcmod.Obj) {
	old, had := m.vars[name]
	m.vars[name] = o
	if had {
		m.r.Decref(old)
	}
}

func (m *machine) v(name string) gcmod.Obj {
	o, ok := m.vars[name]
	if !ok {
		panic("unbound variable " + name)
	}
	return o
}

// src evaluates a value; a bound method is new and must be released.
func (m *machine) src(s string) (o gcmod.Obj, fresh bool) {
	if s == "None" {
		return m.none, false
	}
	if v, ok := strings.CutSuffix(s, ".m"); ok {
		o := m.r.NewMethod(m.v(v))
		m.setLabel(o, s)
		return o, true
	}
	return m.v(s), false
}

// argTuple stands for the argument tuple a call to a METH_VARARGS function
// or a type builds.
func (m *machine) argTuple(items ...gcmod.Obj) gcmod.Obj { return m.r.NewTuple(items...) }

func (m *machine) atoms(n int) []gcmod.Obj {
	a := make([]gcmod.Obj, n)
	for i := range a {
		a[i] = m.atom
	}
	return a
}

func (m *machine) run(ops []op) error {
	r := m.r
	for _, o := range ops {
		a := o.args
		switch o.name {
		case "new":
			var x gcmod.Obj
			switch a[1] {
			case "list":
				x = r.New(gcmod.TypeList)
			case "dict":
				x = r.New(gcmod.TypeDict)
			default:
				x = r.New(m.types[a[1]])
			}
			m.bind(a[0], x)
			m.setLabel(x, a[0])
		case "int":
			r.Incref(m.atom)
			m.bind(a[0], m.atom)
		case "tuple":
			items := make([]gcmod.Obj, 0, len(a)-1)
			for _, x := range a[1:] {
				items = append(items, m.v(x))
			}
			x := r.NewTuple(items...)
			m.bind(a[0], x)
			m.setLabel(x, a[0])
		case "set", "item":
			from, name, src := "", "", ""
			if o.name == "set" {
				var ok bool
				from, name, ok = strings.Cut(a[0], ".")
				if !ok {
					return fmt.Errorf("line %d: set wants VAR.ATTR", o.line)
				}
				src = a[1]
			} else {
				from, name, src = a[0], a[1], a[2]
			}
			x, fresh := m.src(src)
			r.SetRef(m.v(from), name, x)
			if fresh {
				r.Decref(x)
			}
		case "append":
			x, fresh := m.src(a[1])
			r.AddRef(m.v(a[0]), x, "")
			if fresh {
				r.Decref(x)
			}
		case "delattr":
			from, name, _ := strings.Cut(a[0], ".")
			if !r.DelRef(m.v(from), name) {
				return fmt.Errorf("line %d: no attribute %s", o.line, a[0])
			}
		case "delitem":
			if !r.DelRef(m.v(a[0]), a[1]) {
				return fmt.Errorf("line %d: no item %s", o.line, a[1])
			}
		case "remove":
			r.RemoveRef(m.v(a[0]), m.v(a[1]))
		case "clear":
			r.ClearRefs(m.v(a[0]))
		case "del":
			for _, name := range a {
				x := m.v(name)
				delete(m.vars, name)
				r.Decref(x)
			}
		case "weakref":
			target := m.v(a[1])
			var cb func(*gcmod.Runtime, gcmod.Obj)
			var args gcmod.Obj
			if len(a) > 2 && a[2] == "cb" {
				args = m.argTuple(target, m.atom)
				cb = func(r *gcmod.Runtime, wr gcmod.Obj) { m.log = append(m.log, "wcb", m.label(wr)) }
			} else {
				args = m.argTuple(target)
			}
			wr := r.NewWeakref(target, cb)
			r.Decref(args)
			m.bind(a[0], wr)
			m.setLabel(wr, a[0])
		case "wtarget":
			m.logf("wtarget")
			if t, ok := r.WeakTarget(m.v(a[0])); ok {
				m.logf(m.label(t))
			} else {
				m.logf("dead")
			}
		case "fromres":
			x := m.res[len(m.res)-1]
			m.res = m.res[:len(m.res)-1]
			m.bind(a[0], x)
		case "clearres":
			res := m.res
			m.res = nil
			for i := len(res) - 1; i >= 0; i-- {
				r.Decref(res[i])
			}
		case "collect":
			gen := 2
			if len(a) > 0 {
				gen, _ = strconv.Atoi(a[0])
			}
			m.logf("collect")
			c, u, err := r.Collect(gen)
			if err != nil {
				return err
			}
			m.logf(c + u)
		case "count":
			cnt := r.GetCount()
			t := m.argTuple(m.atoms(3)...)
			m.logf("count", cnt[0], cnt[1], cnt[2])
			r.Decref(t)
		case "getthreshold":
			th := r.GetThreshold()
			t := m.argTuple(m.atoms(3)...)
			m.logf("threshold", th[0], th[1], th[2])
			r.Decref(t)
		case "threshold":
			var th []int
			for _, x := range a {
				n, _ := strconv.Atoi(x)
				th = append(th, n)
			}
			args := m.argTuple(m.atoms(len(th))...)
			if err := r.SetThreshold(th...); err != nil {
				return err
			}
			r.Decref(args)
		case "garbage":
			m.logf("garbage")
			for _, g := range r.Garbage() {
				m.logf(m.label(g))
			}
		case "cleargarbage":
			r.ClearGarbage()
		case "tracked":
			m.logf("tracked", r.IsTracked(m.v(a[0])))
		case "finalized":
			if !m.before(3, 9) { // gc.is_finalized is new in 3.9
				m.logf("finalized", r.IsFinalized(m.v(a[0])))
			}
		case "isenabled":
			m.logf("enabled", r.IsEnabled())
		case "objects":
			if m.before(3, 8) { // gc.get_objects takes a generation from 3.8
				break
			}
			gen, _ := strconv.Atoi(a[0])
			l := r.New(gcmod.TypeList)
			objs, err := r.GetObjects(gen)
			if err != nil {
				return err
			}
			m.logf("objects")
			m.logLabelled(objs, l)
			r.Decref(l)
		case "referrers", "referents":
			x := m.v(a[0])
			args := m.argTuple(x)
			l := r.New(gcmod.TypeList)
			var objs []gcmod.Obj
			if o.name == "referrers" {
				objs = r.GetReferrers(x)
			} else {
				objs = r.GetReferents(x)
			}
			r.Decref(args)
			m.logf(o.name)
			m.logLabelled(objs, l, args)
			r.Decref(l)
		case "stats":
			st := r.GetStats()
			l := r.New(gcmod.TypeList)
			for range 3 {
				d := r.New(gcmod.TypeDict)
				r.AddRef(l, d, "")
				r.Decref(d)
			}
			m.logf("stats")
			for g, s := range st {
				s0 := m.stats0[g]
				m.logf(s.Collections-s0.Collections, s.Collected-s0.Collected, s.Uncollectable-s0.Uncollectable)
			}
			r.Decref(l)
		case "freezecount":
			m.logf("freezecount", r.GetFreezeCount()-m.base)
		case "enable":
			r.Enable()
		case "disable":
			r.Disable()
		case "freeze":
			r.Freeze()
		case "unfreeze":
			r.Unfreeze()
		case "debug":
			var f gcmod.DebugFlags
			for _, x := range a {
				f |= debugNames[x]
			}
			r.SetDebug(f)
		case "callback":
			r.AddCallback(func(r *gcmod.Runtime, phase string, info gcmod.CallbackInfo) {
				m.logf("gccb", phase, info.Generation, info.Collected, info.Uncollectable)
			})
		case "clearcallbacks":
			r.ClearCallbacks()
		case "fork":
		case "repeat":
			if m.before(3, 9) {
				// range(N) is called through an argument tuple: range has
				// no vectorcall before 3.9.
				r.Decref(m.argTuple(m.atom))
			}
			for range o.n {
				if err := m.run(o.body); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("line %d: unknown operation %s", o.line, o.name)
		}
	}
	return nil
}

// logLabelled logs the labels of the labelled objects among objs, leaving
// out the given temporaries.
func (m *machine) logLabelled(objs []gcmod.Obj, skip ...gcmod.Obj) {
	for _, x := range objs {
		if slices.Contains(skip, x) {
			continue
		}
		if l, ok := m.lookup(x); ok {
			m.logf(l)
		}
	}
}

// survivors are the sorted labels of the live tracked objects.
func (m *machine) survivors() []string {
	m.r.Unfreeze()
	objs, _ := m.r.GetObjects(-1)
	var s []string
	for _, o := range objs {
		if l, ok := m.lookup(o); ok {
			s = append(s, l)
		}
	}
	sort.Strings(s)
	return s
}

// pythonRun is the result of running a scenario in Python.
type pythonRun struct {
	log    []string
	base   int
	stderr string
}

func runPython(ctx context.Context, python, code string) (*pythonRun, error) {
	cmd := exec.CommandContext(ctx, python, "-I", "-S", "-u", "-c", code)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v\n%s", err, errb.String())
	}
	pr := &pythonRun{stderr: errb.String()}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		line := sc.Text()
		if b, ok := strings.CutPrefix(line, "base "); ok {
			pr.base, _ = strconv.Atoi(b)
			continue
		}
		pr.log = append(pr.log, line)
	}
	return pr, nil
}

func runGo(s scenario, version string, base int) (log []string, stderr string, err error) {
	var errb bytes.Buffer
	m, err := newMachine(version, base, &errb)
	if err != nil {
		return nil, "", err
	}
	if err := m.run(s.ops); err != nil {
		return nil, "", err
	}
	m.r.SetDebug(0)
	log = append(m.log, "survivors "+strings.Join(m.survivors(), " "))
	return log, errb.String(), nil
}

var (
	addrRE    = regexp.MustCompile(`0x[0-9a-f]+`)
	elapsedRE = regexp.MustCompile(`[0-9.]+s elapsed`)
)

func normalizeStderr(s string) string {
	s = addrRE.ReplaceAllString(s, "0xADDR")
	return elapsedRE.ReplaceAllString(s, "Ts elapsed")
}

// pythons are the interpreters to compare with: python3, and those named in
// GCMOD_PYTHONS (paths separated by spaces or commas), e.g.
//
//	GCMOD_PYTHONS="$(ls -d ~/.pyenv/versions/3.*/bin/python3 | tr '\n' ' ') /usr/bin/python3" go test ./gcmod -run TestFidelity
func pythons(t *testing.T) []string {
	t.Helper()
	ps := []string{testenv.LookPath(t, "python3", "the differential tests against CPython need it")}
	return append(ps, strings.FieldsFunc(os.Getenv("GCMOD_PYTHONS"), func(c rune) bool {
		return c == ',' || c == ' ' || c == '\t' || c == '\n'
	})...)
}

// pythonVersion is the version of python and the path of its executable:
// python3 may be a wrapper script (pyenv's shims are) that costs more to
// start than the interpreter.
func pythonVersion(t *testing.T, python string) (version, executable string) {
	t.Helper()
	out, err := exec.Command(python, "-I", "-S", "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)").Output()
	if err != nil {
		t.Fatalf("%s: %v", python, err)
	}
	version, executable, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	if executable == "" {
		executable = python
	}
	return version, executable
}

// TestFidelity runs every scenario in CPython and in a Runtime and compares.
func TestFidelity(t *testing.T) {
	scens := parseScenarios(t, filepath.Join("testdata", "scenarios.txt"))
	if len(scens) < 40 {
		t.Errorf("%d scenarios, want at least 40", len(scens))
	}
	seen := map[string]bool{}
	for _, py := range pythons(t) {
		version, py := pythonVersion(t, py)
		if seen[py] {
			continue // python3 is often one of GCMOD_PYTHONS too
		}
		seen[py] = true
		t.Run(version, func(t *testing.T) {
			if _, err := gcmod.NewRuntime(gcmod.Options{Version: version}); err != nil {
				// A version the Runtime refuses must be refused for being
				// unverified, and by name; its scenarios are not run.
				var ue *gcmod.UnverifiedError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), "CPython "+version+" ") {
					t.Fatalf("%s: %v", py, err)
				}
				t.Logf("%s: refused: %v", py, err)
				return
			}
			if _, err := exec.Command(py, "-I", "-S", "-c", "from _testcapi import with_tp_del").CombinedOutput(); err != nil {
				testenv.Missing(t, "%s has no _testcapi.with_tp_del, which the scenarios need (a CPython build with its test modules)", py)
			}
			for _, s := range scens {
				t.Run(s.name, func(t *testing.T) {
					t.Parallel()
					code, err := python(s)
					if err != nil {
						t.Fatalf("scenarios.txt: %v", err)
					}
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					pr, err := runPython(ctx, py, code)
					if err != nil {
						t.Fatalf("python: %v\n--- program\n%s", err, code)
					}
					golog, gostderr, err := runGo(s, version, pr.base)
					if err != nil {
						t.Fatalf("runtime: %v", err)
					}
					if os.Getenv("GCMOD_DUMP") != "" {
						t.Logf("python:  %s\nruntime: %s", strings.Join(pr.log, " "), strings.Join(golog, " "))
					}
					if d := firstDiff(pr.log, golog); d != "" {
						t.Errorf("scenarios.txt:%d: logs differ (python, then runtime):\n%s\n--- program after the prologue\n%s", s.line, d, strings.TrimPrefix(code, pythonPrologue))
					}
					if ps, gs := normalizeStderr(pr.stderr), normalizeStderr(gostderr); ps != gs {
						t.Errorf("scenarios.txt:%d: debug output differs:\n--- python\n%s--- runtime\n%s", s.line, ps, gs)
					}
				})
			}
		})
	}
}

// firstDiff shows where two logs first differ, with some context.
func firstDiff(a, b []string) string {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	if i == len(a) && i == len(b) {
		return ""
	}
	lo := max(0, i-6)
	show := func(s []string) string {
		hi := min(len(s), i+6)
		if lo >= hi {
			return "(end)"
		}
		return strings.Join(s[lo:hi], " | ")
	}
	return fmt.Sprintf("at entry %d:\n  python:  %s\n  runtime: %s", i, show(a), show(b))
}
