package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/internal/devnet"
)

// TestScripts runs testdata/script/*.txtar: the CLI as a user types it,
// with the built binary on PATH, $HOME in the script's work directory (so
// ~/.mycel is a fresh default home) and free ports in $APIPORT, $RPCPORT
// and $P2PPORT.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			ps, err := devnet.FreePorts(3)
			if err != nil {
				return err
			}
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("APIPORT", strconv.Itoa(ps[0]))
			env.Setenv("RPCPORT", strconv.Itoa(ps[1]))
			env.Setenv("P2PPORT", strconv.Itoa(ps[2]))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitheight": waitHeightCmd,
			"mode":       modeCmd,
		},
	})
}

// waitheight N | +N: wait until the node on $APIPORT has committed height
// N, or N blocks more than now.
func waitHeightCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitheight N|+N")
	}
	c := client.New("http://127.0.0.1:" + ts.Getenv("APIPORT"))
	target, err := strconv.ParseInt(strings.TrimPrefix(args[0], "+"), 10, 64)
	ts.Check(err)
	deadline := time.Now().Add(60 * time.Second)
	relative := strings.HasPrefix(args[0], "+")
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := c.Status(ctx)
		cancel()
		if err == nil {
			if relative {
				target += s.Height
				relative = false
			}
			if s.Height >= target {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	ts.Fatalf("node on port %s did not reach height %d", ts.Getenv("APIPORT"), target)
}

// mode FILE PERM: the file's permission bits are PERM (octal).
func modeCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode FILE PERM")
	}
	st, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	got := uint64(st.Mode().Perm())
	if (got == want) == neg {
		ts.Fatalf("%s has mode %s, want %s%s", args[0], fmt.Sprintf("%o", got), map[bool]string{true: "not ", false: ""}[neg], args[1])
	}
}
