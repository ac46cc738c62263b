package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestJSONEnvelope checks that every command with a JSON form names the
// snapshots it read in one way: a "snapshot" object for one snapshot, a
// "snapshots" array of such objects for several, each with the file and
// its counts, and in no other key.
func TestJSONEnvelope(t *testing.T) {
	s0, s1, s2 := appHeap(t, 0), appHeap(t, 1), appHeap(t, 2)
	dir := t.TempDir()
	for _, tc := range []struct {
		args  []string
		files []string // the snapshots the result names, in order
	}{
		{[]string{"top", s1}, []string{s1}},
		{[]string{"count", s1, "Foo"}, []string{s1}},
		{[]string{"bytype", s1, "Foo"}, []string{s1}},
		{[]string{"at", s1, "0x7f0000004100"}, []string{s1}},
		{[]string{"leaking", s1}, []string{s1}},
		{[]string{"chain", s1, "--type", "Foo"}, []string{s1}},
		{[]string{"dominators", s1}, []string{s1}},
		{[]string{"gc", s1}, []string{s1}},
		{[]string{"cow", s1}, []string{s1}},
		{[]string{"refs", s1, "--type", "Foo", "-o", filepath.Join(dir, "r.dot")}, []string{s1}},
		{[]string{"backrefs", s1, "--type", "Foo", "-o", filepath.Join(dir, "b.dot")}, []string{s1}},
		{[]string{"pprof", s1, "-o", filepath.Join(dir, "p.pb.gz")}, []string{s1}},
		{[]string{"growth", s0, s1, s2}, []string{s0, s1, s2}},
		{[]string{"newids", s0, s1}, []string{s0, s1}},
		{[]string{"newids", "--type", "Foo", s0, s1}, []string{s0, s1}},
		{[]string{"leaks", s0, s1, s2}, []string{s0, s1, s2}},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			out, errOut, code := runCLI(append(tc.args, "--json")...)
			if code != 0 {
				t.Fatalf("%q: exit %d: %s", tc.args, code, errOut)
			}
			var top map[string]json.RawMessage
			if err := json.Unmarshal([]byte(out), &top); err != nil {
				t.Fatalf("%q: %v\n%s", tc.args, err, out)
			}
			type snapshot struct {
				File    string
				Objects int
			}
			var got []snapshot
			if raw, ok := top["snapshot"]; ok {
				var s snapshot
				if err := json.Unmarshal(raw, &s); err != nil {
					t.Fatalf("%q: \"snapshot\" is not an object: %s", tc.args, raw)
				}
				got = append(got, s)
			}
			if raw, ok := top["snapshots"]; ok {
				if got != nil {
					t.Fatalf("%q: both \"snapshot\" and \"snapshots\"", tc.args)
				}
				if err := json.Unmarshal(raw, &got); err != nil {
					t.Fatalf("%q: \"snapshots\" is not an array of objects: %s", tc.args, raw)
				}
			}
			var files []string
			for _, s := range got {
				if s.Objects == 0 {
					t.Errorf("%q: snapshot %s has no object count", tc.args, s.File)
				}
				files = append(files, s.File)
			}
			if !slices.Equal(files, tc.files) {
				t.Errorf("%q: names snapshots %q, want %q", tc.args, files, tc.files)
			}
			for k, raw := range top {
				if k != "snapshot" && k != "snapshots" && strings.Contains(string(raw), `"`+tc.files[0]+`"`) && !strings.Contains(string(raw), `"file"`) {
					t.Errorf("%q: key %q names a snapshot outside the envelope: %s", tc.args, k, raw)
				}
			}
		})
	}
}

// TestJSONFlag checks that --json is a flag of the commands with a JSON
// form only.
func TestJSONFlag(t *testing.T) {
	snap := appHeap(t, 1)
	for _, args := range [][]string{
		{"ui", "--json", snap},
		{"run", "--json", "--", "true"},
		{"convert", "--json", snap},
	} {
		_, errOut, code := runCLI(args...)
		if code != exitUsage || !strings.Contains(errOut, "unknown flag: --json") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and unknown flag: --json", args, code, errOut)
		}
	}
	for _, c := range commands {
		out, _, _ := runCLI(c.name, "--help")
		if has := strings.Contains(out, "--json"); has == c.noJSON {
			t.Errorf("objgraph %s --help lists --json: %v; the command has a JSON form: %v", c.name, has, !c.noJSON)
		}
	}
}
