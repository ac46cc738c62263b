package objgraph

import (
	"fmt"
	"testing"
)

func TestParseGrowthLimit(t *testing.T) {
	for _, tc := range []struct {
		spec, want string
	}{
		{"10", "{Type: Count:10 Bytes:0 Percent:-1}"},
		{"Session=0", "{Type:Session Count:0 Bytes:0 Percent:-1}"},
		{"dict=5%", "{Type:dict Count:-1 Bytes:0 Percent:5}"},
		{"10MiB", "{Type: Count:-1 Bytes:10485760 Percent:-1}"},
		{"bytes = 1.5KB", "{Type:bytes Count:-1 Bytes:1500 Percent:-1}"},
		{"app.Session=512K", "{Type:app.Session Count:-1 Bytes:524288 Percent:-1}"},
	} {
		l, err := ParseGrowthLimit(tc.spec)
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		if got := fmt.Sprintf("{Type:%s Count:%d Bytes:%d Percent:%g}", l.Type, l.Count, l.Bytes, l.Percent); got != tc.want {
			t.Errorf("%q = %s, want %s", tc.spec, got, tc.want)
		}
	}
	for _, bad := range []string{"", "=3", "-1", "5x", "x%", "Session=", "1e400MB", "-2KiB"} {
		if _, err := ParseGrowthLimit(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestCheckGrowth(t *testing.T) {
	rep := &LeakReport{
		Types: []LeakType{{Type: "Session", Bytes: 3000}, {Type: "dict", Bytes: 500}},
		Growth: []TypeCount{
			{Type: "Session", Counts: []int{0, 10, 30}, Delta: 30},
			{Type: "dict", Counts: []int{1000, 1020, 1040}, Delta: 40},
			{Type: "Pool", Counts: []int{0, 50, 50}, Delta: 50}, // filled once: a warm-up
		},
	}
	check := func(specs ...string) []string {
		var limits []GrowthLimit
		for _, s := range specs {
			l, err := ParseGrowthLimit(s)
			if err != nil {
				t.Fatal(err)
			}
			limits = append(limits, l)
		}
		v, w := rep.CheckGrowth(limits)
		if len(w) != 1 || w[0].Type != "Pool" {
			t.Errorf("warm-ups %+v, want Pool", w)
		}
		var out []string
		for _, x := range v {
			out = append(out, x.Limit.Spec+":"+x.Type)
		}
		return out
	}
	for _, tc := range []struct {
		specs []string
		want  string
	}{
		{[]string{"45"}, "[]"},        // Pool's 50 is a warm-up
		{[]string{"30"}, "[30:dict]"}, // Session grew by exactly 30
		{[]string{"Session=0"}, "[Session=0:Session]"},
		{[]string{"dict=5%"}, "[]"}, // 40 of 1000 is 4%
		{[]string{"dict=3%"}, "[dict=3%:dict]"},
		{[]string{"3KB"}, "[3KB:]"}, // 3,500 bytes of new objects in all
		{[]string{"4KB", "Session=2KB"}, "[Session=2KB:Session]"},
		{[]string{"app.Session=0"}, "[]"}, // a qualified rule needs qualified names
	} {
		if got := fmt.Sprint(check(tc.specs...)); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.specs, got, tc.want)
		}
	}
}
