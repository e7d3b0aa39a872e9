package agent

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	a2ago "github.com/a2aproject/a2a-go/a2a"
	"github.com/a2aproject/a2a-go/a2aclient"
	"github.com/a2aproject/a2a-go/a2aclient/agentcard"

	"github.com/mycelnet/mycel/a2a"
	"github.com/mycelnet/mycel/agentmsg"
	registry "github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/internal/devnet"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

// The SDK against a real single-validator chain, in process: agents
// register (one with its own host, one behind the node's mailbox, whose
// card is updated once its id is known), call each other (paid and
// free), are reached by the A2A Go client through the node, renew, and a
// transfer stops the old signing key at once.
func TestOnChain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	home := t.TempDir()
	net, err := devnet.Start(ctx, devnet.Options{Home: home, APIAddr: "127.0.0.1:0", RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0",
		BlockTime: 100 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Stop()
	if err := net.WaitHeight(ctx, 1); err != nil {
		t.Fatal(err)
	}
	kr := keyring.Open(node.KeyringDir(home))
	alice, _ := kr.Get("alice")
	bob, _ := kr.Get("bob")
	carol, _ := kr.Get("carol")
	nodeURL := net.Nodes[0].APIURL()
	c := client.New(nodeURL)
	chainID, err := c.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, hostKey, _ := ed25519.GenerateKey(nil)
	_, natKey, _ := ed25519.GenerateKey(nil)
	_, userKey, _ := ed25519.GenerateKey(nil)

	// The host agent, owned by alice, charges for its skill.
	payee, err := paywallet.OpenPayee(t.TempDir(), chainID, alice.Address, paywallet.PayeeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer payee.Close()
	srv := httptest.NewUnstartedServer(nil)
	host, _ := New(Config{Node: c, Key: hostKey, Owner: alice.Private, Payee: payee, PublicURL: "http://" + srv.Listener.Addr().String(),
		Card: a2a.Card{Name: "Tide Oracle", Description: "Tide tables for any harbour"}})
	host.Handle(a2a.Skill{ID: "tide-tables", Name: "Tide tables", Tags: []string{"sea"}}, types.MYC(1), echo("tides at "))
	srv.Config.Handler = host.Handler()
	srv.Start()
	defer srv.Close()
	hostID, err := host.Register(ctx, Registration{Deposit: types.MYC(10), Price: types.MYC(1)})
	if err != nil {
		t.Fatal(err)
	}

	// The agent behind NAT, owned by bob.
	nat, _ := New(Config{Node: c, Key: natKey, Owner: bob.Private, Card: a2a.Card{Name: "Night owl", Description: "behind NAT"}})
	nat.Handle(a2a.Skill{ID: "echo", Name: "Echo"}, 0, echo("owl: "))
	natID, err := nat.Register(ctx, Registration{Deposit: types.MYC(10)})
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stopServing := context.WithCancel(ctx)
	defer stopServing()
	served := make(chan error, 1)
	go func() { served <- nat.ServeMailbox(serveCtx) }()

	// The node serves the NAT agent's card, which points A2A clients at
	// the node's relay for its id.
	card, err := agentcard.DefaultResolver.Resolve(ctx, nodeURL+"/agents/"+strconv.FormatUint(natID, 10))
	if err != nil {
		t.Fatal(err)
	}
	if card.URL != nodeURL+"/agents/"+strconv.FormatUint(natID, 10)+"/a2a" {
		t.Fatalf("card URL %s", card.URL)
	}
	ac, err := a2aclient.NewFromCard(ctx, card)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ac.SendMessage(ctx, &a2ago.MessageSendParams{Message: a2ago.NewMessage(a2ago.MessageRoleUser, a2ago.TextPart{Text: "hoot"})})
	if err != nil {
		t.Fatal(err)
	}
	if task, ok := res.(*a2ago.Task); !ok || task.Status.State != a2ago.TaskStateCompleted ||
		task.Status.Message.Parts[0].(a2ago.TextPart).Text != "owl: hoot (paid 0)" {
		t.Fatalf("A2A through the relay: %#v", res)
	}

	// Carol's agent pays the host through a channel to alice whose
	// voucher key is the agent's signing key.
	payer, err := paywallet.OpenPayer(t.TempDir(), chainID, userKey)
	if err != nil {
		t.Fatal(err)
	}
	defer payer.Close()
	user, _ := New(Config{Node: c, Key: userKey, Owner: carol.Private, Payer: payer, Card: a2a.Card{Name: "Sailor", Description: "asks"}})
	if _, err := user.Register(ctx, Registration{Deposit: types.MYC(10)}); err != nil {
		t.Fatal(err)
	}
	ch, err := user.OpenChannel(ctx, hostID, types.MYC(5))
	if err != nil {
		t.Fatal(err)
	}
	ans, err := user.Call(ctx, hostID, Call{Text: "Brest", Pay: types.MYC(1), Channel: ch})
	if err != nil || ans.Err() != nil || ans.Text() != "tides at Brest (paid 1000000)" {
		t.Fatalf("paid call: %+v %v", ans, err)
	}
	ans, err = user.Call(ctx, natID, Call{Text: "who"})
	if err != nil || ans.Text() != "owl: who (paid 0)" {
		t.Fatalf("mailbox call: %+v %v", ans, err)
	}
	// A rating names the request it rates.
	if err := user.Rate(ctx, natID, 5, types.MYC(1)/100, types.Hash(ans.Request)); err != nil {
		t.Fatal(err)
	}

	// Renewal moves the expiry on.
	before, _ := c.Agent(ctx, natID)
	if err := nat.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	after, _ := c.Agent(ctx, natID)
	if after.ExpiresAt <= before.ExpiresAt {
		t.Fatalf("renew: expiry %d -> %d", before.ExpiresAt, after.ExpiresAt)
	}

	// Bob transfers the NAT agent to carol: its signing key is revoked,
	// so its mailbox refuses the old key's fetches and envelopes signed
	// as it are refused.
	m := registry.MsgTransfer{Agent: natID, NewOwner: carol.Address}
	if _, err := nat.submit(ctx, "transfer", tx.Msg{Kind: registry.KindTransfer, Body: m.Encode()}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FetchMailbox(ctx, natKey, agentmsg.FetchRequest{Agent: natID, Limit: 1}); err == nil || !strings.Contains(err.Error(), "no signing key") {
		t.Fatalf("fetch with the revoked key: %v", err)
	}
	forged, _ := agentmsg.Make(chainID, natKey, agentmsg.Draft{From: natID, To: hostID}, []byte("{}"), time.Now())
	if _, err := c.PostMailbox(ctx, forged); err == nil {
		t.Fatal("an envelope signed with a revoked key was stored")
	} else if ce := (*client.Error)(nil); !asClientError(err, &ce) || ce.Status != http.StatusNotFound && ce.Status != http.StatusForbidden {
		t.Fatalf("revoked key: %v", err)
	}
	stopServing()
	<-served
}

func asClientError(err error, out **client.Error) bool {
	e, ok := err.(*client.Error)
	if ok {
		*out = e
	}
	return ok
}
