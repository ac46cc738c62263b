package agent

import (
	"bytes"
	"testing"
)

func TestSourceEmbedded(t *testing.T) {
	if len(Source) == 0 {
		t.Fatal("Source is empty")
	}
	for _, want := range []string{"def snapshot(", "def install(", "def _autostart_from_env(", EnvDir, EnvSignal, EnvEvery, EnvAtExit, EnvRedact, EnvFork, ForkRequestFile} {
		if !bytes.Contains(Source, []byte(want)) {
			t.Errorf("Source lacks %q", want)
		}
	}
}
