package cli

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	os.Exit(testscript.RunMain(m, map[string]func() int{
		"mycel": func() int { return Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr) },
	}))
}

// TestScripts runs testdata/script/*.txtar: commands that need no running
// node (tests/e2e drives a real one with the built binary).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
	})
}
