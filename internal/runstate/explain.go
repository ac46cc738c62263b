package runstate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/objgraph-go/objgraph/internal/agent"
	"github.com/objgraph-go/objgraph/internal/proc"
)

// Explain says why no capture agent of run r (whose directory is d) has
// published its pid: the program is not Python, or Python has not got as
// far as starting the agent, or it was started in a way that leaves the
// agent out.
func Explain(d *Dir, r Run) error {
	if !proc.Alive(r.PID) {
		return fmt.Errorf("the program (pid %d) has exited", r.PID)
	}
	tree, err := proc.Tree(r.PID)
	if err != nil {
		return fmt.Errorf("no capture agent has started in pid %d (%s) or under it: the command is not Python, "+
			"Python has not started the agent yet, or it was started without it", r.PID, r.Command)
	}
	var py []proc.Process
	for _, p := range tree {
		if p.IsPython() {
			py = append(py, p)
		}
	}
	if len(py) == 0 {
		return fmt.Errorf("no capture agent: pid %d (%s) runs no Python process: the command is not Python, "+
			"or has not started Python yet", r.PID, tree[0].Name)
	}
	p := py[0]
	if flag := agentlessFlag(p.Args); flag != "" {
		return fmt.Errorf("no capture agent: Python process %d was started with %s, which ignores PYTHONPATH, "+
			"so the agent was not loaded; run it without %s", p.PID, flag, flag)
	}
	if env, err := proc.Environ(p.PID); err == nil && !slices.Contains(env, agent.EnvState+"="+d.Path) {
		return fmt.Errorf("no capture agent: Python process %d was started without the agent: its environment "+
			"lacks %s (something between objgraph run and Python cleared or replaced it)", p.PID, agent.EnvState)
	}
	return fmt.Errorf("no capture agent yet: Python process %d has not started it; it is still starting up "+
		"(try again), or the agent failed to start (the program's standard error says why)", p.PID)
}

// agentlessFlag returns the Python option in args, a command line, that
// keeps the agent from loading (-I, -E or -S: no PYTHONPATH or no
// sitecustomize), or "".
func agentlessFlag(args []string) string {
args:
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" || a == "-" || !strings.HasPrefix(a, "-") || strings.HasPrefix(a, "--") {
			return ""
		}
		for j, c := range a[1:] {
			switch c {
			case 'c', 'm':
				return ""
			case 'W', 'X': // the option's value follows, here or as the next argument
				if j == len(a)-2 {
					i++
				}
				continue args
			case 'I', 'E', 'S':
				return "-" + string(c)
			}
		}
	}
	return ""
}
