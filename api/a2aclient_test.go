package api

import (
	"context"
	"testing"
	"time"

	a2ago "github.com/a2aproject/a2a-go/a2a"
	"github.com/a2aproject/a2a-go/a2aclient"
	"github.com/a2aproject/a2a-go/a2aclient/agentcard"

	"github.com/mycelnet/mycel/a2a"
	"github.com/mycelnet/mycel/agentmsg"
	"github.com/mycelnet/mycel/mailbox"
)

// The real A2A Go client (a2a-go v0.3.3, which speaks protocol 0.3) reads
// the card of an agent behind a mailbox from the node, sends it a
// message with message/send through the relay, and gets the agent's
// answer; tasks/get returns the same task.
func TestRelayA2AGoClient(t *testing.T) {
	f := newMsgFixtureCard(t, mailbox.Options{}, true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The agent: fetch with a long poll, answer what comes.
	agentDone := make(chan error, 1)
	go func() {
		agentDone <- func() error {
			for {
				_, got, body := f.fetch(seedKey(1), 1, agentmsg.FetchRequest{Limit: 1, WaitSeconds: 10})
				if len(got.Messages) == 0 {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					_ = body
					continue
				}
				m := got.Messages[0].Message
				plain, err := m.Open(msgChain, agentmsg.DecryptionKey(seedKey(1)))
				if err != nil {
					return err
				}
				req, err := agentmsg.ParseBody(plain)
				if err != nil {
					return err
				}
				ans := agentmsg.Body{State: a2a.StateCompleted, Message: &a2a.Message{MessageID: "a", Role: a2a.RoleAgent,
					Parts: []a2a.Part{a2a.TextPart("echo: " + req.Text())}}}
				if status, body := f.do("POST", "/v1/agents/1/answers", f.make(seedKey(1), agentmsg.Draft{From: 1, ReplyTo: m.Envelope.ID(msgChain)}, ans.Encode())); status != 204 {
					t.Errorf("answer: %d %s", status, body)
				}
				return nil
			}
		}()
	}()

	card, err := agentcard.DefaultResolver.Resolve(ctx, f.srv.URL+"/agents/1")
	if err != nil {
		t.Fatal(err)
	}
	if card.Name != "one" || card.URL != f.srv.URL+"/agents/1/a2a" || card.PreferredTransport != a2ago.TransportProtocolJSONRPC {
		t.Fatalf("card as a2a-go reads it: %+v", card)
	}
	client, err := a2aclient.NewFromCard(ctx, card)
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.SendMessage(ctx, &a2ago.MessageSendParams{Message: a2ago.NewMessage(a2ago.MessageRoleUser, a2ago.TextPart{Text: "ping"})})
	if err != nil {
		t.Fatal(err)
	}
	task, ok := res.(*a2ago.Task)
	if !ok || task.Status.State != a2ago.TaskStateCompleted || task.Status.Message == nil {
		t.Fatalf("result %#v", res)
	}
	if txt, ok := task.Status.Message.Parts[0].(a2ago.TextPart); !ok || txt.Text != "echo: ping" {
		t.Fatalf("answer parts %#v", task.Status.Message.Parts)
	}
	if err := <-agentDone; err != nil {
		t.Fatal(err)
	}
	again, err := client.GetTask(ctx, &a2ago.TaskQueryParams{ID: task.ID})
	if err != nil || again.Status.State != a2ago.TaskStateCompleted || len(again.History) != 2 {
		t.Fatalf("tasks/get: %+v %v", again, err)
	}
}
