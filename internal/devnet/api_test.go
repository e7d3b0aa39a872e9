package devnet

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mycelnet/mycel/api"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/types"
)

// The HTTP API of a real node: blobs with their limits, JSON errors with
// fitting statuses, metrics.
func TestAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	home := t.TempDir()
	o := Options{Home: home, APIAddr: "127.0.0.1:0", RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0",
		BlockTime: 100 * time.Millisecond, Logger: quiet()}
	net, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	net.Stop()
	// Small blob limits, to reach them.
	cfg, err := node.LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Blobs.MaxBlobBytes, cfg.Blobs.QuotaBytes = 1000, 1500
	cfg.API.Listen = "127.0.0.1:0"
	if err := node.SaveConfig(home, cfg); err != nil {
		t.Fatal(err)
	}
	net, err = Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Stop()
	if err := net.WaitHeight(ctx, 1); err != nil {
		t.Fatal(err)
	}
	base := net.Nodes[0].APIURL()
	c := client.New(base)
	alice, _ := keyring.Open(node.KeyringDir(home)).Get("alice")

	data := bytes.Repeat([]byte("m"), 800)
	res, err := c.PutBlob(ctx, data, alice.Private)
	if err != nil || res.SHA256 != types.SumHash(data) || res.Size != 800 {
		t.Fatalf("put: %+v %v", res, err)
	}
	got, err := c.GetBlob(ctx, res.SHA256)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get: %v", err)
	}
	status := func(err error) int {
		var e *client.Error
		if errors.As(err, &e) {
			return e.Status
		}
		t.Fatalf("not an API error: %v", err)
		return 0
	}
	if _, err := c.PutBlob(ctx, bytes.Repeat([]byte("x"), 1001), alice.Private); status(err) != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized blob: %v", err)
	}
	if _, err := c.PutBlob(ctx, bytes.Repeat([]byte("y"), 900), alice.Private); status(err) != http.StatusTooManyRequests {
		t.Fatalf("over quota: %v", err)
	}
	stranger := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	if _, err := c.PutBlob(ctx, []byte("hi"), stranger); status(err) != http.StatusForbidden {
		t.Fatalf("unfunded uploader: %v", err)
	}
	// A signature for other content.
	req, _ := http.NewRequest(http.MethodPut, base+"/v1/blobs", strings.NewReader("tampered"))
	sig := ed25519.Sign(alice.Private, types.BlobUploadSignBytes(net.Nodes[0].ChainID(), types.SumHash([]byte("original")), 8, time.Now().Add(time.Minute).Unix()))
	req.Header.Set(api.HeaderPubKey, hex.EncodeToString(alice.PubKey()))
	req.Header.Set(api.HeaderExpires, strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10))
	req.Header.Set(api.HeaderSignature, hex.EncodeToString(sig))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	checkError(t, resp, http.StatusUnauthorized, "unauthorized")

	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/v1/blobs/" + strings.Repeat("0", 64), http.StatusNotFound, "not_found"},
		{"/v1/blobs/xyz", http.StatusBadRequest, "bad_request"},
		{"/v1/accounts/myc1nothing", http.StatusBadRequest, "bad_request"},
		{"/v1/txs/" + strings.Repeat("a", 64), http.StatusNotFound, "not_found"},
		{"/v1/blocks/999999", http.StatusNotFound, "not_found"},
		{"/v1/nowhere", http.StatusNotFound, "not_found"},
	} {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		checkError(t, resp, tc.status, tc.code)
	}
	resp, err = http.Post(base+"/v1/txs", "application/octet-stream", strings.NewReader("garbage"))
	if err != nil {
		t.Fatal(err)
	}
	checkError(t, resp, http.StatusUnprocessableEntity, "tx_refused")

	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"mycel_app_height", "mycel_app_checktx_total", "mycel_api_requests_total", "go_goroutines"} {
		if !strings.Contains(string(body), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

func checkError(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	defer resp.Body.Close()
	var eb api.ErrorBody
	if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
		t.Fatalf("%s: body is not a JSON error: %v", resp.Request.URL.Path, err)
	}
	if resp.StatusCode != status || eb.Error.Code != code || eb.Error.Message == "" {
		t.Fatalf("%s %s: %d %+v, want %d %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, eb.Error, status, code)
	}
}
