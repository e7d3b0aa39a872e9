package devnet

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/models"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/types"
)

// The model registry through a real node and the typed client: register,
// read back by hash, name and owner; an unknown hash is a 404; the same
// hash again is refused by the mempool's check with the registry's code.
func TestModelRegistryAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	home := t.TempDir()
	net, err := Start(ctx, Options{Home: home, APIAddr: "127.0.0.1:0", RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0",
		BlockTime: 100 * time.Millisecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Stop()
	if err := net.WaitHeight(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c := client.New(net.Nodes[0].APIURL())
	kr := keyring.Open(node.KeyringDir(home))
	alice, _ := kr.Get("alice")
	bob, _ := kr.Get("bob")

	file := []byte("GGUF, pretend")
	msg := model.MsgRegisterModel{Hash: types.SumHash(file), Name: "pretend", Format: model.FormatGGUF, Size: uint64(len(file)), License: "MIT"}
	res, err := c.RegisterModel(ctx, alice.Private, msg, client.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.WaitTx(ctx, res.Hash)
	if err != nil || !r.OK() {
		t.Fatalf("register: %+v %v", r, err)
	}
	if h, _ := client.Event(r, "model_registered", "hash"); h != msg.Hash.String() {
		t.Fatalf("event hash %q", h)
	}
	m, err := c.RegistryModel(ctx, msg.Hash)
	if err != nil || m.Owner != alice.Address || m.Name != "pretend" || m.Registered != r.Height {
		t.Fatalf("model %+v %v", m, err)
	}
	for _, f := range []model.Filter{{Name: "pretend"}, {Owner: &alice.Address}} {
		ms, err := c.RegistryModels(ctx, f)
		if err != nil || len(ms) != 1 || ms[0].Hash != msg.Hash {
			t.Fatalf("list %+v: %v %v", f, ms, err)
		}
	}
	// Everything: this one and mycel's own model, registered at genesis
	// under an owner nobody holds the key of.
	ms, err := c.RegistryModels(ctx, model.Filter{})
	if err != nil || len(ms) != 2 {
		t.Fatalf("all models: %v %v", ms, err)
	}
	kjv, err := c.RegistryModel(ctx, types.SumHash(models.KJV()))
	if err != nil || kjv.Name != models.KJVName || kjv.Owner != models.Owner || kjv.Registered != 0 || kjv.Size != uint64(len(models.KJV())) {
		t.Fatalf("genesis model %+v %v", kjv, err)
	}
	if ms, err := c.RegistryModels(ctx, model.Filter{Owner: &bob.Address}); err != nil || len(ms) != 0 {
		t.Fatalf("bob's models: %v %v", ms, err)
	}
	_, err = c.RegistryModel(ctx, types.SumHash([]byte("absent")))
	if !client.IsNotFound(err) || !strings.Contains(err.Error(), "is not registered") {
		t.Fatalf("unknown model: %v", err)
	}
	_, err = c.RegisterModel(ctx, bob.Private, msg, client.TxOptions{})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusUnprocessableEntity || ce.Codespace != model.Codespace ||
		ce.ABCICode != model.ErrModelExists.Code {
		t.Fatalf("duplicate: %v", err)
	}
}
