package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mycelnet/mycel/client"
)

// Garbage sent straight to CometBFT's broadcast_tx_sync gets a non-zero
// code from the application, and the chain goes on making blocks and
// taking transfers.
func TestGarbageOnRPC(t *testing.T) {
	ps := freePorts(t, 3)
	home := filepath.Join(t.TempDir(), "home")
	api := fmt.Sprintf("127.0.0.1:%d", ps[0])
	d := start(t, "devnet", "--home", home, "--api", api, "--rpc", fmt.Sprintf("127.0.0.1:%d", ps[1]),
		"--p2p", fmt.Sprintf("127.0.0.1:%d", ps[2]), "--block-time", "100ms")
	c := client.New("http://" + api)
	waitHeight(t, c, 2, 60*time.Second)

	for _, garbage := range []string{"0xdeadbeef", "0x00", "0x" + strings.Repeat("ff", 300)} {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/broadcast_tx_sync?tx=%s", ps[1], garbage))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "code=2") || !strings.Contains(string(body), "malformed transaction") ||
			!strings.Contains(string(body), "codespace='auth'") {
			t.Fatalf("garbage %s…: want the application's malformed-transaction code, got %s", garbage[:10], body)
		}
	}
	// abci_query answers accounts and raw keys, as CometBFT serves it.
	var key struct{ Address string }
	runJSON(t, &key, "keys", "show", "alice", "--home", home)
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/abci_query?path=%%22/account%%22&data=0x%x", ps[1], key.Address))
	if err != nil {
		t.Fatal(err)
	}
	var q struct {
		Result struct {
			Response struct{ Value []byte }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&q); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(string(q.Result.Response.Value), `"balance": "1000000000000"`) &&
		!strings.Contains(string(q.Result.Response.Value), `"balance":"1000000000000"`) {
		t.Fatalf("abci_query /account: %s", q.Result.Response.Value)
	}

	h := waitHeight(t, c, 1, time.Second)
	waitHeight(t, c, h+3, 30*time.Second)
	run(t, false, "--home", home, "tx", "send", "bob", "1myc", "--from", "alice")
	if err := d.kill(syscall.SIGINT); err != nil {
		t.Fatalf("devnet did not stop cleanly: %v\n%s", err, d.out.String())
	}
}
