package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/a2a"
	sdk "github.com/mycelnet/mycel/agent"
	"github.com/mycelnet/mycel/agentmsg"
	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

// withMessaging adds the messaging commands (send, inbox) to the agent
// command.
func (e *env) withMessaging(cmd *cobra.Command) *cobra.Command {
	cmd.AddCommand(e.agentSendCmd(), e.agentInboxCmd())
	return cmd
}

// sentJSON is what agent send prints.
type sentJSON struct {
	ID       agentmsg.ID        `json:"id"`
	To       uint64             `json:"to,string"`
	From     uint64             `json:"from,string"`
	Mailbox  string             `json:"mailbox,omitempty"`
	Expires  int64              `json:"expires"`
	Answered bool               `json:"answered"`
	State    a2a.State          `json:"state,omitempty"`
	Text     string             `json:"text,omitempty"`
	Error    string             `json:"error,omitempty"`
	Answer   *agentmsg.Envelope `json:"answer_envelope,omitempty"`
}

func (e *env) agentSendCmd() *cobra.Command {
	var text, skill, as, pay, session string
	var channel uint64
	var wait, ttl time.Duration
	cmd := &cobra.Command{
		Use:   "send ID --text TEXT [--skill S] [--as AGENT] [--pay AMOUNT --channel N] [--wait 30s] --from KEY",
		Short: "Send an agent a signed message, straight to its host or through its mailbox",
		Long: `Send agent ID a message signed by --from, sealed to the encryption key in the
agent's card. An agent with its own host answers at once; one behind NAT finds
the message in its mailbox on the node its card names, and --wait waits for its
answer there (the answer is sealed to a key made for this command, so only this
command reads it).

--as names the sending agent, whose registered signing key --from must be;
without it the sender is the account of --from, which needs funds on chain.
--pay pays the agent's owner with a voucher of payment channel --channel (one
from --from's voucher key to the owner; see mycel channel open).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			to, err := parseAgentID("agent", args[0])
			if err != nil {
				return err
			}
			if text == "" {
				return errors.New("--text is required: the message to send")
			}
			key, err := e.signer()
			if err != nil {
				return err
			}
			c := e.client()
			cfg := sdk.Config{Node: c, Key: key.Private}
			if as != "" {
				if cfg.ID, err = parseAgentID("--as", as); err != nil {
					return err
				}
				a, err := e.getAgent(ctx, c, cfg.ID)
				if err != nil {
					return err
				}
				if [32]byte(a.SigningKey) != [32]byte(key.PubKey()) {
					return fmt.Errorf("--as %d: agent %d signs with %s; --from %s is another key", cfg.ID, cfg.ID, a.SigningKey, key.Name)
				}
			}
			call := sdk.Call{Skill: skill, Text: text, Session: session, TTL: ttl}
			if pay != "" {
				if call.Pay, err = parsePositive("--pay", pay); err != nil {
					return err
				}
				if channel == 0 {
					return errors.New("--pay needs --channel: the payment channel to the agent's owner (mycel channel open --to OWNER)")
				}
				chainID, err := c.ChainID(ctx)
				if err != nil {
					return err
				}
				payer, err := paywallet.OpenPayer(e.walletDir(chainID, "payer", key.Address), chainID, key.Private)
				if err != nil {
					return err
				}
				defer payer.Close()
				ch, err := e.getChannel(ctx, c, channel)
				if err != nil {
					return err
				}
				if ch.VoucherKey != paych.KeyOf(key.Private) {
					return fmt.Errorf("--channel %d: its vouchers are signed by %s, not by --from %s", channel, ch.VoucherKey, key.Name)
				}
				if err := payer.Track(*ch); err != nil {
					return err
				}
				cfg.Payer, call.Channel = payer, channel
			}
			a, err := sdk.New(cfg)
			if err != nil {
				return err
			}
			p, err := a.Send(ctx, to, call)
			if err != nil {
				return err
			}
			out := sentJSON{ID: p.ID, To: to, From: cfg.ID, Mailbox: p.Mailbox, Expires: p.Request.Envelope.Expires}
			if p.Mailbox == "" || wait > 0 {
				wctx := ctx
				if p.Mailbox != "" {
					var cancel context.CancelFunc
					wctx, cancel = context.WithTimeout(ctx, wait)
					defer cancel()
				}
				ans, err := p.Wait(wctx)
				if err != nil {
					return fmt.Errorf("sent %s; %w", p.ID, err)
				}
				out.Answered, out.State, out.Text, out.Error, out.Answer = true, ans.State, ans.Text(), ans.Error, &ans.Envelope
			}
			return e.print(out, func(w io.Writer) {
				if p.Mailbox != "" {
					e.progress("left %s in agent %d's mailbox at %s", p.ID, to, p.Mailbox)
				}
				if !out.Answered {
					fmt.Fprintln(w, p.ID)
					return
				}
				if out.State != a2a.StateCompleted {
					fmt.Fprintf(w, "[%s] %s\n", out.State, strings.TrimSpace(out.Error+" "+out.Text))
					return
				}
				fmt.Fprintln(w, out.Text)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&text, "text", "", "the message's text")
	fl.StringVar(&skill, "skill", "", "the skill asked for (default: the agent's first)")
	fl.StringVar(&as, "as", "", "the sending agent's id (--from must be its signing key); default: the account of --from")
	fl.StringVar(&session, "session", "", "a session id grouping messages of one conversation (default: a new one)")
	fl.StringVar(&pay, "pay", "", "pay the agent's owner this much with a voucher, like 0.1myc")
	fl.Uint64Var(&channel, "channel", 0, "the payment channel --pay uses")
	fl.DurationVar(&wait, "wait", 0, "wait this long for the answer of an agent behind a mailbox")
	fl.DurationVar(&ttl, "ttl", agentmsg.DefaultTTL, "the message's lifetime")
	return cmd
}

// inboxJSON is one message agent inbox prints.
type inboxJSON struct {
	Seq      uint64        `json:"seq,string"`
	ID       agentmsg.ID   `json:"id"`
	From     uint64        `json:"from,string"`
	Sender   types.Address `json:"sender"`
	Session  string        `json:"session"`
	Received time.Time     `json:"received"`
	Expires  int64         `json:"expires"`
	Verified bool          `json:"verified"`
	Problem  string        `json:"problem,omitempty"`
	Skill    string        `json:"skill,omitempty"`
	Text     string        `json:"text"`
	Voucher  string        `json:"voucher,omitempty"`
	Answer   bool          `json:"answer_to,omitempty"`
}

func (e *env) agentInboxCmd() *cobra.Command {
	var as string
	var after uint64
	var limit int
	var wait time.Duration
	var ack bool
	cmd := &cobra.Command{
		Use:   "inbox --agent ID [--after SEQ] [--limit N] [--wait 10s] [--ack] --from KEY",
		Short: "Read an agent's mailbox on the node, signed by the agent's signing key",
		Long: `Fetch the messages waiting for agent --agent in the node's mailbox: the node
gives a challenge, --from (the agent's signing key) signs the fetch, and the
sealed payloads are opened with the key derived from it. Each message shows
whether its signature verifies and, for a sender that is an agent, whether it is
signed by that agent's registered key. Messages stay in the mailbox until
acknowledged: --ack deletes those shown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if as == "" {
				return errors.New("--agent is required: the agent whose mailbox to read")
			}
			id, err := parseAgentID("--agent", as)
			if err != nil {
				return err
			}
			key, err := e.signer()
			if err != nil {
				return err
			}
			c := e.client()
			a, err := e.getAgent(ctx, c, id)
			if err != nil {
				return err
			}
			if [32]byte(a.SigningKey) != [32]byte(key.PubKey()) {
				return fmt.Errorf("agent %d signs with %s; --from %s is another key (the agent's signing key reads its mailbox)", id, a.SigningKey, key.Name)
			}
			chainID, err := c.ChainID(ctx)
			if err != nil {
				return err
			}
			res, err := c.FetchMailbox(ctx, key.Private, agentmsg.FetchRequest{Agent: id, After: after, Limit: limit, WaitSeconds: int(wait / time.Second)})
			if err != nil {
				return err
			}
			dec := agentmsg.DecryptionKey(key.Private)
			out := []inboxJSON{}
			var last uint64
			for _, st := range res.Messages {
				m := st.Message
				env := &m.Envelope
				item := inboxJSON{Seq: st.Seq, ID: env.ID(chainID), From: env.From, Sender: env.SenderAddress(), Session: env.Session,
					Received: st.Received.UTC(), Expires: env.Expires, Answer: !env.ReplyTo.IsZero()}
				last = st.Seq
				problem := m.Check(chainID, agentmsg.MaxPayload)
				if problem == nil && env.From != 0 {
					if s, err := c.Agent(ctx, env.From); err != nil {
						problem = fmt.Errorf("sender agent %d: %w", env.From, err)
					} else if [32]byte(s.SigningKey) != env.Key {
						problem = fmt.Errorf("%w: not signed by agent %d's registered key", agentmsg.ErrWrongKey, env.From)
					}
				}
				if problem == nil {
					var plain []byte
					if plain, problem = m.Open(chainID, dec); problem == nil {
						var body agentmsg.Body
						if body, problem = agentmsg.ParseBody(plain); problem == nil {
							item.Skill, item.Text, item.Voucher = body.Skill, body.Text(), body.Voucher
						}
					}
				}
				item.Verified = problem == nil
				if problem != nil {
					item.Problem = problem.Error()
				}
				out = append(out, item)
			}
			if ack && last > 0 {
				if _, err := c.FetchMailbox(ctx, key.Private, agentmsg.FetchRequest{Agent: id, Challenge: res.Next.Challenge, Ack: last, After: last}); err != nil {
					return fmt.Errorf("acknowledge through %d: %w", last, err)
				}
			}
			return e.print(out, func(w io.Writer) {
				for _, it := range out {
					from := fmt.Sprintf("agent %d", it.From)
					if it.From == 0 {
						from = it.Sender.String()
					}
					mark := ""
					if !it.Verified {
						mark = " [NOT VERIFIED: " + it.Problem + "]"
					}
					fmt.Fprintf(w, "%d  %s  from %s%s\n    %s\n", it.Seq, it.Received.Format(time.RFC3339), from, mark, it.Text)
				}
				switch {
				case len(out) == 0:
					e.progress("agent %d's mailbox at %s is empty", id, c.URL())
				case ack:
					e.progress("acknowledged through %d: deleted from the mailbox", last)
				default:
					e.progress("%d waiting; acknowledge with: mycel agent inbox --agent %d --after %d --ack --from %s", res.Waiting, id, after, key.Name)
				}
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&as, "agent", "", "the agent whose mailbox to read")
	fl.Uint64Var(&after, "after", 0, "show messages after this sequence number")
	fl.IntVar(&limit, "limit", 50, "at most this many messages")
	fl.DurationVar(&wait, "wait", 0, "wait up to this long (at most 30s) for a message when there is none")
	fl.BoolVar(&ack, "ack", false, "acknowledge (delete) the messages shown")
	return cmd
}

// cardMessaging is what the CLI did to a card's messaging extension, for
// the commands' output.
type cardMessaging struct {
	// Done is "added", "refreshed", "as-is" (--card-as-is) or
	// "not-in-keyring" (the signing key's private half is not here, so
	// its encryption key cannot be derived).
	Done          string                 `json:"done"`
	EncryptionKey agentmsg.EncryptionKey `json:"encryption_key,omitzero"`
	Mailboxes     []string               `json:"mailboxes,omitempty"`
	EnvelopeURL   string                 `json:"envelope_url,omitempty"`
}

// say reports it on stderr.
func (m cardMessaging) say(e *env, pub agent.PublicKey) {
	switch m.Done {
	case "as-is":
		e.progress("registered the card as it is (--card-as-is): senders seal to the key in its %s extension, if it has one", agentmsg.ExtensionURI)
	case "not-in-keyring":
		e.progress("warning: signing key %s is not in this keyring, so the card's %s extension was left as it is; "+
			"the agent's host (the SDK's EnsureCard) or mycel agent update --card from a home that holds the key must register its encryption key, "+
			"or senders cannot reach it", pub, agentmsg.ExtensionURI)
	default:
		reach := "its host at " + m.EnvelopeURL
		if m.EnvelopeURL == "" {
			reach = "the mailbox at " + strings.Join(m.Mailboxes, ", ")
		}
		e.progress("%s the card's messaging extension (%s): encryption key %s (derived from signing key %s), reached through %s",
			m.Done, agentmsg.ExtensionURI, m.EncryptionKey, pub, reach)
	}
}

// signingPrivate finds the private half of an agent's signing key in the
// keyring: the key named name, else any key whose public half is pub (a
// key given as hex, or the registered key of an agent being updated).
func (e *env) signingPrivate(pub agent.PublicKey, name string) (ed25519.PrivateKey, bool) {
	kr := e.keyring()
	if name != "" {
		if k, err := kr.Get(name); err == nil && [32]byte(k.PubKey()) == [32]byte(pub) {
			return k.Private, true
		}
	}
	keys, err := kr.List()
	if err != nil {
		return nil, false
	}
	for _, k := range keys {
		if [32]byte(k.PubKey()) == [32]byte(pub) {
			return k.Private, true
		}
	}
	return nil, false
}

// addMessaging puts mycel's messaging extension in a card (the SDK's
// Messaging, in agentmsg's JSON form): the encryption key derived from
// the agent's signing key, and where it takes envelopes. That reach is
// what the card's extension says already, when it has one and keepReach;
// else the registration's: ENDPOINT/mycel/envelope (where the SDK's host
// takes them) or the mailbox of the node the CLI talks to. asIs (the
// --card-as-is flag) leaves the card alone, for a card managed by hand.
func (e *env) addMessaging(cf cardFile, maxBytes uint64, pub agent.PublicKey, keyName, nodeURL, endpoint string, keepReach, asIs bool) (cardFile, cardMessaging, error) {
	if asIs {
		return cf, cardMessaging{Done: "as-is"}, nil
	}
	priv, ok := e.signingPrivate(pub, keyName)
	if !ok {
		return cf, cardMessaging{Done: "not-in-keyring"}, nil
	}
	info := sdk.Messaging(agentmsg.EncryptionKeyOf(priv), nodeURL, endpoint)
	done := "added"
	if prev, err := agentmsg.CardInfoOf(cf.card); err == nil {
		done = "refreshed"
		if keepReach && (len(prev.Mailboxes) > 0 || prev.EnvelopeURL != "") {
			info.Mailboxes, info.EnvelopeURL = prev.Mailboxes, prev.EnvelopeURL
		}
	}
	b, err := agentmsg.SetCardInfoJSON(cf.bytes, info)
	if err != nil {
		return cf, cardMessaging{}, err
	}
	out, err := parseCard(b, "with the messaging extension", maxBytes)
	if err != nil {
		return cf, cardMessaging{}, err
	}
	return out, cardMessaging{Done: done, EncryptionKey: info.EncryptionKey, Mailboxes: info.Mailboxes, EnvelopeURL: info.EnvelopeURL}, nil
}
