// Package pybundle joins the modules of a Python package into one module.
//
// A package written as modules by concern (the capture agent's source) can
// be shipped as one file: Bundle puts its modules one after the other, each
// after the modules it imports from, with the package's intra-package
// imports (from .mod import a, b) removed and its standard-library imports
// gathered at the top. The package's __init__.py gives the docstring and
// nothing else: its code is glue for the package form only.
//
// What one module cannot hold is an error, named by file and line: two
// modules binding the same top-level name, an intra-package import that
// cannot be removed (from . import mod, from .mod import *, from .mod import
// a as b, one inside a block or a function, an import of the package by its
// own name), an import cycle. The output depends only on the files.
package pybundle

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Options say what the package is called and what the header says.
type Options struct {
	Package string   // the package's import name, e.g. objgraph_agent; importing it by this name is an error
	Header  []string // comment lines put first, each after "# "
}

// Error is a problem with the package's source, at a file and line.
type Error struct {
	File string // the module's file name, e.g. walk.py
	Line int    // line number from 1; 0 when the problem is not at a line
	Msg  string // what is wrong
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// binding is a top-level name bound by a module.
type binding struct {
	file string
	line int
	imp  string // for an import: what it binds, e.g. "import queue as _queue"; "" for a definition
}

// stdImport is one name a hoisted import binds.
type stdImport struct {
	from  string // module of a from-import; "" for a plain import
	name  string // module (plain) or name (from)
	alias string // "" when none
}

func (s stdImport) binds() string {
	if s.alias != "" {
		return s.alias
	}
	if s.from == "" {
		return strings.SplitN(s.name, ".", 2)[0]
	}
	return s.name
}

func (s stdImport) String() string {
	as := ""
	if s.alias != "" {
		as = " as " + s.alias
	}
	if s.from == "" {
		return "import " + s.name + as
	}
	return "from " + s.from + " import " + s.name + as
}

type module struct {
	file  string
	src   []byte
	lines []logical
	drop  map[int]bool        // indexes of logical lines left out of the bundle
	deps  map[string][]string // module name -> names imported from it
	depAt map[string]int      // module name -> line of the first import from it
	main  int                 // line of a top-level `if __name__ == "__main__":`, 0 if none
}

var (
	identRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	dottedRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)
	defRE    = regexp.MustCompile(`^(?:async\s+def|def|class)\s+([A-Za-z_][A-Za-z0-9_]*)`)
	mainRE   = regexp.MustCompile(`^if\s+__name__\s*==\s*(""|'')\s*:$`)
	blockRE  = regexp.MustCompile(`^(if|elif|else|try|except|finally|while|with|for)\b`)
)

// Bundle joins the package whose files fsys holds at its root: __init__.py
// and the other *.py files.
func Bundle(fsys fs.FS, opts Options) ([]byte, error) {
	names, err := fs.Glob(fsys, "*.py")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var initDoc []byte
	mods := map[string]*module{}
	var order []string
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		lines, err := scan(src)
		if err != nil {
			err.(*Error).File = name
			return nil, err
		}
		if name == "__init__.py" {
			doc, ok := docstring(src, lines)
			if !ok {
				return nil, &Error{File: name, Msg: "no docstring: the package's docstring is the bundle's"}
			}
			initDoc = doc
			continue
		}
		if name == "__main__.py" {
			continue
		}
		mods[strings.TrimSuffix(name, ".py")] = &module{file: name, src: src, lines: lines}
		order = append(order, strings.TrimSuffix(name, ".py"))
	}
	if initDoc == nil {
		return nil, &Error{File: "__init__.py", Msg: "missing: the package has no __init__.py"}
	}
	bound := map[string]binding{}
	var hoisted []stdImport
	for _, name := range order {
		h, err := analyse(mods[name], opts.Package, bound)
		if err != nil {
			return nil, err
		}
		hoisted = append(hoisted, h...)
	}
	// every intra-package import names a module and names it binds
	for _, name := range order {
		m := mods[name]
		var deps []string
		for dep := range m.deps {
			deps = append(deps, dep)
		}
		sort.Strings(deps)
		for _, dep := range deps {
			imported := m.deps[dep]
			d, ok := mods[dep]
			if !ok {
				return nil, &Error{File: m.file, Line: m.depAt[dep], Msg: fmt.Sprintf("from .%s import: the package has no module %s", dep, dep)}
			}
			for _, n := range imported {
				if b, ok := bound[n]; !ok || b.file != d.file {
					return nil, &Error{File: m.file, Line: m.depAt[dep], Msg: fmt.Sprintf("from .%s import %s: %s binds no top-level %s", dep, n, d.file, n)}
				}
			}
		}
	}
	sorted, err := depOrder(mods, order)
	if err != nil {
		return nil, err
	}
	for i, name := range sorted {
		if m := mods[name]; m.main != 0 && i != len(sorted)-1 {
			return nil, &Error{File: m.file, Line: m.main, Msg: fmt.Sprintf("the __main__ block must come last, but %s comes after this module", mods[sorted[len(sorted)-1]].file)}
		}
	}

	var b bytes.Buffer
	for _, h := range opts.Header {
		b.WriteString(strings.TrimRight("# "+h, " ") + "\n")
	}
	b.Write(initDoc)
	b.WriteString("\n")
	writeImports(&b, hoisted)
	for _, name := range sorted {
		m := mods[name]
		rule := "# --- " + path.Join(opts.Package, m.file) + " "
		b.WriteString("\n\n" + rule + strings.Repeat("-", max(3, 79-len(rule))) + "\n\n")
		writeModule(&b, m)
	}
	return b.Bytes(), nil
}

// docstring returns the source of the module's docstring, newline included.
func docstring(src []byte, lines []logical) ([]byte, bool) {
	for _, l := range lines {
		if l.blank {
			continue
		}
		c := strings.TrimLeft(strings.TrimSpace(l.code), "rRuU")
		if l.indent == 0 && (c == `""""""` || c == `''''''` || c == `""` || c == `''`) {
			return src[l.start:l.end], true
		}
		return nil, false
	}
	return nil, false
}

// scope is an open compound statement: its body is at deeper indents.
type scope struct {
	indent int
	fn     bool // a def or class: its body is not at module level
}

// analyse finds the module's top-level bindings (added to bound, which
// must not have them from another module), its intra-package imports and
// its hoisted imports.
func analyse(m *module, pkg string, bound map[string]binding) ([]stdImport, error) {
	m.drop = map[int]bool{}
	m.deps = map[string][]string{}
	m.depAt = map[string]int{}
	var hoisted []stdImport
	var stack []scope
	bind := func(name string, line int, imp string) error {
		if b, ok := bound[name]; ok {
			if b.file == m.file && b.imp == "" && imp == "" {
				return nil // rebound in the same module: one name in the bundle too
			}
			if imp != "" && imp == b.imp {
				return nil // the same import in two modules: made once
			}
			what := func(b binding) string {
				if b.imp != "" {
					return "by " + b.imp
				}
				return "by a definition"
			}
			return &Error{File: m.file, Line: line, Msg: fmt.Sprintf("%s is bound %s here and %s at %s:%d: one of them must be renamed for the modules to be one",
				name, what(binding{imp: imp}), what(b), b.file, b.line)}
		}
		bound[name] = binding{file: m.file, line: line, imp: imp}
		return nil
	}
	for i, l := range m.lines {
		if l.blank {
			continue
		}
		for len(stack) > 0 && stack[len(stack)-1].indent >= l.indent {
			stack = stack[:len(stack)-1]
		}
		code := strings.TrimSpace(l.code)
		inFn := false
		for _, s := range stack {
			inFn = inFn || s.fn
		}
		isImport := strings.HasPrefix(code, "from ") || strings.HasPrefix(code, "import ")
		if isImport {
			imps, rel, relNames, err := parseImport(code)
			if err != nil {
				return nil, &Error{File: m.file, Line: l.line, Msg: err.Error()}
			}
			if rel != "" || relNames != nil {
				if l.indent != 0 {
					return nil, &Error{File: m.file, Line: l.line, Msg: "an intra-package import must be at the module's top level, where it can be removed"}
				}
				m.drop[i] = true
				if _, ok := m.depAt[rel]; !ok {
					m.depAt[rel] = l.line
				}
				m.deps[rel] = append(m.deps[rel], relNames...)
				continue
			}
			for _, s := range imps {
				top := strings.SplitN(s.name, ".", 2)[0]
				if s.from != "" {
					top = strings.SplitN(s.from, ".", 2)[0]
				}
				if pkg != "" && top == pkg {
					return nil, &Error{File: m.file, Line: l.line, Msg: fmt.Sprintf("%s: the package imported by its own name; use from .module import name", s)}
				}
				if s.from == "__future__" {
					return nil, &Error{File: m.file, Line: l.line, Msg: "from __future__ imports cannot be bundled"}
				}
			}
			if inFn {
				continue
			}
			if l.indent == 0 {
				m.drop[i] = true
				hoisted = append(hoisted, imps...)
			}
			for _, s := range imps {
				if err := bind(s.binds(), l.line, s.String()); err != nil {
					return nil, err
				}
			}
			continue
		}
		if inFn {
			continue
		}
		if d := defRE.FindStringSubmatch(code); d != nil {
			if err := bind(d[1], l.line, ""); err != nil {
				return nil, err
			}
			stack = append(stack, scope{indent: l.indent, fn: true})
			continue
		}
		if strings.HasPrefix(code, "@") {
			continue
		}
		if mainRE.MatchString(code) && l.indent == 0 {
			m.main = l.line
		}
		if kw := blockRE.FindString(code); kw != "" && strings.HasSuffix(code, ":") {
			if kw == "for" {
				if in := strings.Index(code, " in "); in > 0 {
					for _, n := range targets(code[3:in]) {
						if err := bind(n, l.line, ""); err != nil {
							return nil, err
						}
					}
				}
			}
			stack = append(stack, scope{indent: l.indent})
			continue
		}
		for _, n := range assigned(code) {
			if err := bind(n, l.line, ""); err != nil {
				return nil, err
			}
		}
	}
	for dep := range m.deps {
		sort.Strings(m.deps[dep])
	}
	return hoisted, nil
}

// parseImport reads an import statement. For an intra-package import it
// returns the module and the names imported from it; otherwise the names
// the statement binds.
func parseImport(code string) (imps []stdImport, rel string, relNames []string, err error) {
	if rest, ok := strings.CutPrefix(code, "import "); ok {
		for _, part := range splitTop(rest) {
			name, alias, err := asName(part)
			if err != nil || !dottedRE.MatchString(name) {
				return nil, "", nil, fmt.Errorf("%s: cannot read this import", code)
			}
			imps = append(imps, stdImport{name: name, alias: alias})
		}
		return imps, "", nil, nil
	}
	rest := strings.TrimPrefix(code, "from ")
	mod, names, ok := strings.Cut(rest, " import ")
	if !ok {
		return nil, "", nil, fmt.Errorf("%s: cannot read this import", code)
	}
	mod = strings.TrimSpace(mod)
	names = strings.TrimSpace(names)
	if strings.HasPrefix(names, "(") && strings.HasSuffix(names, ")") {
		names = names[1 : len(names)-1]
	}
	parts := splitTop(names)
	if strings.HasPrefix(mod, ".") {
		sub := mod[1:]
		switch {
		case sub == "":
			return nil, "", nil, fmt.Errorf("%s: a module imported whole cannot be bundled; import the names it defines (from .mod import name)", code)
		case strings.HasPrefix(sub, "."):
			return nil, "", nil, fmt.Errorf("%s: an import from outside the package cannot be bundled", code)
		case !identRE.MatchString(sub):
			return nil, "", nil, fmt.Errorf("%s: only modules at the package's top level can be bundled", code)
		}
		for _, p := range parts {
			name, alias, err := asName(p)
			switch {
			case err != nil:
				return nil, "", nil, fmt.Errorf("%s: cannot read this import", code)
			case name == "*":
				return nil, "", nil, fmt.Errorf("%s: a star import cannot be bundled; name what is imported", code)
			case alias != "":
				return nil, "", nil, fmt.Errorf("%s: a renaming import cannot be bundled; use the name itself", code)
			}
			relNames = append(relNames, name)
		}
		if len(relNames) == 0 {
			return nil, "", nil, fmt.Errorf("%s: cannot read this import", code)
		}
		return nil, sub, relNames, nil
	}
	if !dottedRE.MatchString(mod) {
		return nil, "", nil, fmt.Errorf("%s: cannot read this import", code)
	}
	for _, p := range parts {
		name, alias, err := asName(p)
		if err != nil || name == "*" {
			return nil, "", nil, fmt.Errorf("%s: a star import cannot be bundled (what it binds is unknown)", code)
		}
		imps = append(imps, stdImport{from: mod, name: name, alias: alias})
	}
	return imps, "", nil, nil
}

// asName splits "name as alias".
func asName(s string) (name, alias string, err error) {
	f := strings.Fields(s)
	switch {
	case len(f) == 1 && (identRE.MatchString(f[0]) || dottedRE.MatchString(f[0]) || f[0] == "*"):
		return f[0], "", nil
	case len(f) == 3 && f[1] == "as" && identRE.MatchString(f[2]):
		return f[0], f[2], nil
	}
	return "", "", fmt.Errorf("cannot read %q", s)
}

// splitTop splits s at the commas outside brackets, leaving out empty parts
// (a trailing comma).
func splitTop(s string) []string {
	var out []string
	depth, last := 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || (s[i] == ',' && depth == 0) {
			if p := strings.TrimSpace(s[last:i]); p != "" {
				out = append(out, p)
			}
			last = i + 1
			continue
		}
		switch s[i] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		}
	}
	return out
}

// targets returns the names a target list binds: `a`, `a, b`, `(a, b)`,
// `[a, *b]`; nil when it is not a list of plain names (an attribute or an
// item is set).
func targets(s string) []string {
	s = strings.TrimSpace(s)
	for len(s) > 1 && (s[0] == '(' && s[len(s)-1] == ')' || s[0] == '[' && s[len(s)-1] == ']') {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	var out []string
	for _, p := range splitTop(s) {
		p = strings.TrimPrefix(p, "*")
		if len(p) > 1 && (p[0] == '(' && p[len(p)-1] == ')' || p[0] == '[' && p[len(p)-1] == ']') {
			sub := targets(p)
			if sub == nil {
				return nil
			}
			out = append(out, sub...)
			continue
		}
		if !identRE.MatchString(p) {
			return nil
		}
		out = append(out, p)
	}
	return out
}

// assigned returns the names an assignment statement binds (nil for other
// statements): every target of `a = b = value`, the name of `a: T = v`.
func assigned(code string) []string {
	var parts []string
	depth, last := 0, 0
	for i := 0; i < len(code); i++ {
		switch c := code[i]; c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case '=':
			if depth != 0 {
				continue
			}
			if i+1 < len(code) && code[i+1] == '=' {
				i++
				continue
			}
			if i > 0 && strings.IndexByte("=!<>+-*/%&|^@:", code[i-1]) >= 0 {
				continue
			}
			parts = append(parts, code[last:i])
			last = i + 1
		}
	}
	var out []string
	for _, p := range parts {
		if name, _, ok := strings.Cut(p, ":"); ok && len(parts) == 1 {
			if n := strings.TrimSpace(name); identRE.MatchString(n) {
				out = append(out, n)
			}
			break
		}
		t := targets(p)
		if t == nil {
			break
		}
		out = append(out, t...)
	}
	return out
}

// depOrder sorts the modules so that each comes after those it imports
// from, in name order where the imports leave a choice.
func depOrder(mods map[string]*module, names []string) ([]string, error) {
	indeg := map[string]int{}
	users := map[string][]string{}
	for _, n := range names {
		indeg[n] += 0
		for dep := range mods[n].deps {
			indeg[n]++
			users[dep] = append(users[dep], n)
		}
	}
	var ready, out []string
	for _, n := range names {
		if indeg[n] == 0 {
			ready = append(ready, n)
		}
	}
	for len(ready) > 0 {
		sort.Strings(ready)
		n := ready[0]
		ready = ready[1:]
		out = append(out, n)
		for _, u := range users[n] {
			if indeg[u]--; indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(out) == len(names) {
		return out, nil
	}
	// a cycle: follow imports from a module left over till one repeats
	var left []string
	for _, n := range names {
		if indeg[n] > 0 {
			left = append(left, n)
		}
	}
	seen := map[string]int{}
	var walk []string
	for n := left[0]; ; {
		if at, ok := seen[n]; ok {
			walk = append(walk[at:], n)
			break
		}
		seen[n] = len(walk)
		walk = append(walk, n)
		var next []string
		for dep := range mods[n].deps {
			if indeg[dep] > 0 {
				next = append(next, dep)
			}
		}
		sort.Strings(next)
		n = next[0]
	}
	m := mods[walk[0]]
	return nil, &Error{File: m.file, Line: m.depAt[walk[1]], Msg: "import cycle: " + strings.Join(walk, " -> ")}
}

// writeImports writes the hoisted imports, each once: plain imports, then
// from-imports, one statement per module.
func writeImports(b *bytes.Buffer, imps []stdImport) {
	seen := map[stdImport]bool{}
	var plain []string
	from := map[string][]string{}
	for _, s := range imps {
		if seen[s] {
			continue
		}
		seen[s] = true
		if s.from == "" {
			plain = append(plain, s.String())
			continue
		}
		n := s.name
		if s.alias != "" {
			n += " as " + s.alias
		}
		from[s.from] = append(from[s.from], n)
	}
	sort.Strings(plain)
	for _, p := range plain {
		b.WriteString(p + "\n")
	}
	var mods []string
	for m := range from {
		mods = append(mods, m)
	}
	sort.Strings(mods)
	for _, m := range mods {
		names := from[m]
		sort.Strings(names)
		line := "from " + m + " import " + strings.Join(names, ", ")
		if len(line) <= 110 {
			b.WriteString(line + "\n")
			continue
		}
		b.WriteString("from " + m + " import (\n")
		cur := "   "
		for i, n := range names {
			sep := ","
			if i == len(names)-1 {
				sep = ")"
			}
			if len(cur)+1+len(n)+1 > 100 {
				b.WriteString(cur + "\n")
				cur = "   "
			}
			cur += " " + n + sep
		}
		b.WriteString(cur + "\n")
	}
}

// writeModule writes the module's lines but those dropped, with at most two
// blank lines in a row and none at either end.
func writeModule(b *bytes.Buffer, m *module) {
	var chunks [][]byte
	blanks := 0
	for i, l := range m.lines {
		if m.drop[i] {
			continue
		}
		text := m.src[l.start:l.end]
		if l.blank && len(bytes.TrimSpace(text)) == 0 {
			blanks++
			continue
		}
		if len(chunks) > 0 {
			for k := 0; k < min(blanks, 2); k++ {
				chunks = append(chunks, []byte("\n"))
			}
		}
		blanks = 0
		if !bytes.HasSuffix(text, []byte("\n")) {
			text = append(append([]byte{}, text...), '\n')
		}
		chunks = append(chunks, text)
	}
	for _, c := range chunks {
		b.Write(c)
	}
}
