package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mycelnet/mycel/a2a"
	"github.com/mycelnet/mycel/agentmsg"
	"github.com/mycelnet/mycel/client"
)

// TestMain runs this test binary as the agent host process of
// TestReplayRefusedAfterRestart when that test starts it (MYCEL_TEST_NODE
// set), and as the package's tests otherwise.
func TestMain(m *testing.M) {
	if node := os.Getenv("MYCEL_TEST_NODE"); node != "" {
		hostProcess(node, os.Getenv("MYCEL_TEST_STATE"))
		return
	}
	os.Exit(m.Run())
}

// hostProcess serves agent 1 of the parent's fake node, with its replay
// window in dir, printing its URL, until it is killed.
func hostProcess(node, dir string) {
	a, err := New(Config{Node: client.New(node), Key: key(1), ID: 1, StateDir: dir, Card: a2a.Card{Name: "Host"}})
	if err != nil {
		log.Fatal(err)
	}
	a.Handle(a2a.Skill{ID: "echo", Name: "Echo"}, 0, echo("echo: "))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	os.Stdout.WriteString("listening http://" + ln.Addr().String() + "\n")
	log.Fatal(http.Serve(ln, a.Handler()))
}

// An envelope the agent took is refused after the agent's process is
// killed (no clean shutdown) and started again on the same state
// directory; a new envelope is still taken.
func TestReplayRefusedAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	w := newWorld(t)
	dir := t.TempDir()
	start := func() (string, *exec.Cmd) {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "MYCEL_TEST_NODE="+w.node.srv.URL, "MYCEL_TEST_STATE="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				go func() {
					for sc.Scan() {
					}
				}()
				return url, cmd
			}
		}
		t.Fatalf("the host process did not start: %v", sc.Err())
		return "", nil
	}
	pub := w.host.EncryptionKey() // agent 1's key: the process signs with key(1) too
	body := agentmsg.Body{Message: &a2a.Message{MessageID: "m", Role: a2a.RoleUser, Parts: []a2a.Part{a2a.TextPart("once")}}}
	envelope := func() agentmsg.Message {
		m, err := agentmsg.Make(testChain, key(3), agentmsg.Draft{From: 3, To: 1, SealTo: &pub}, body.Encode(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	post := func(url string, m agentmsg.Message) int {
		b, _ := json.Marshal(m)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+EnvelopePath, bytes.NewReader(b))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	m := envelope()
	url, cmd := start()
	if got := post(url, m); got != http.StatusOK {
		t.Fatalf("first delivery: %d", got)
	}
	if got := post(url, m); got != http.StatusConflict {
		t.Fatalf("replay to the same process: %d", got)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	url, _ = start()
	if got := post(url, m); got != http.StatusConflict {
		t.Fatalf("replay after a restart: %d, want 409", got)
	}
	if got := post(url, envelope()); got != http.StatusOK {
		t.Fatalf("a new envelope after the restart: %d", got)
	}
}
