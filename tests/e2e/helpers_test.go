package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/internal/devnet"
)

// proc is a mycel process started by a test.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs mycel with args in the background. The test stops it at the
// end if it is still running.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, cmd: exec.Command(mycelBin(), args...), out: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.kill(syscall.SIGKILL) })
	return p
}

// kill sends sig and waits for the process to end.
func (p *proc) kill(sig syscall.Signal) error {
	select {
	case err := <-p.done:
		p.done <- err
		return err
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		p.t.Errorf("mycel %v did not stop after %v; output:\n%s", p.cmd.Args[1:], sig, p.out.String())
		return <-p.done
	}
}

// run runs mycel with args to completion and returns its stdout; it fails
// the test on a non-zero exit unless wantFail.
func run(t *testing.T, wantFail bool, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, mycelBin(), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if wantFail && err == nil {
		t.Fatalf("mycel %s succeeded, want failure; stdout:\n%s", strings.Join(args, " "), stdout.String())
	}
	if !wantFail && err != nil {
		t.Fatalf("mycel %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// runJSON runs mycel with -o json and decodes its output into v.
func runJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out, _ := run(t, false, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("mycel %s -o json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// waitHeight waits until the node's API answers with at least height h
// and the node has left block sync (a node still catching up refuses
// transactions).
func waitHeight(t *testing.T, c *client.Client, h int64, within time.Duration) int64 {
	t.Helper()
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := c.Status(ctx)
		cancel()
		if err == nil && s.Height >= h && !s.CatchingUp {
			return s.Height
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("node %s did not reach height %d, caught up, within %v (last error: %v)", c.URL(), h, within, last)
	return 0
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ps, err := devnet.FreePorts(n)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// testnet lays out a network with the CLI on free ports and returns the
// node homes and their API clients.
func testnet(t *testing.T, validators, fullNodes int, blockTime string) ([]string, []*client.Client) {
	t.Helper()
	dir := t.TempDir()
	n := validators + fullNodes
	// Ports: node i uses base+10i and base+10i+1; find a base whose
	// ports are all free.
	// The APIs go on base+5, base+6, ...
	if n > 5 {
		t.Fatal("testnet helper lays out at most 5 nodes")
	}
	var base int
	for try := 0; ; try++ {
		ps := freePorts(t, 1)
		base = ps[0] - ps[0]%10
		if base+10*n+2 < 65000 && portsFree(base, n) {
			break
		}
		if try == 50 {
			t.Fatal("no free range of ports")
		}
	}
	api := base + 5
	run(t, false, "testnet", "init", "--validators", fmt.Sprint(validators), "--full-nodes", fmt.Sprint(fullNodes),
		"--out", dir, "--base-port", fmt.Sprint(base), "--api-port", fmt.Sprint(api), "--block-time", blockTime,
		"--chain-id", "e2e-"+fmt.Sprint(os.Getpid()))
	var homes []string
	var clients []*client.Client
	for i := 0; i < n; i++ {
		homes = append(homes, filepath.Join(dir, fmt.Sprintf("node%d", i)))
		clients = append(clients, client.New(fmt.Sprintf("http://127.0.0.1:%d", api+i)))
	}
	return homes, clients
}

func portsFree(base, n int) bool {
	for i := 0; i < n; i++ {
		for _, p := range []int{base + 10*i, base + 10*i + 1, base + 5 + i} {
			if !portFree(p) {
				return false
			}
		}
	}
	return true
}
