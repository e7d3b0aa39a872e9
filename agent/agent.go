package agent

import (
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mycelnet/mycel/a2a"
	"github.com/mycelnet/mycel/agentmsg"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

// Config configures an agent.
type Config struct {
	// Node is the node the agent reads the chain through, submits its
	// transactions to, and (behind NAT) keeps its mailbox on.
	Node *client.Client
	// ID is the agent's registered id; 0 until Register sets it.
	ID uint64
	// Key is the agent's signing key: it signs envelopes and mailbox
	// fetches, and its seed derives the key payloads are sealed to. Keep
	// it apart from the owner's account key.
	Key ed25519.PrivateKey
	// Owner is the owner's account key, for Register, Renew, Rate and the
	// payment watcher; nil for a host that only serves.
	Owner ed25519.PrivateKey
	// Card is the agent's A2A Agent Card as far as the author writes it
	// (name, description, version, provider); Card() adds the skills, the
	// interfaces and the messaging extension.
	Card a2a.Card
	// PublicURL is the base URL of the agent's own host (Handler's
	// routes); empty for an agent behind NAT that polls its mailbox.
	PublicURL string
	// Payee is the owner's payee wallet, which checks the vouchers of
	// paid skills; nil takes no payment (paid skills refuse).
	Payee *paywallet.Payee
	// Payer is the wallet of the voucher key that pays other agents; nil
	// pays nobody.
	Payer *paywallet.Payer
	// Timeout bounds a handler's run (default one minute).
	Timeout time.Duration
	// Logf reports what the agent does; nil for nothing.
	Logf func(format string, args ...any)
	// Now is the clock (default time.Now).
	Now func() time.Time
	// StateDir is where the agent keeps its replay window
	// (StateDir/replay.window, written before a request runs), so that
	// an envelope taken before a restart is still refused after it. Empty
	// keeps the window in memory only: after a restart an envelope could
	// run again until it expires. One running agent per directory.
	StateDir string
}

// Request is a request a handler answers.
type Request struct {
	// From is the sending agent's id; 0 for a sender that is no agent
	// (an account, an A2A client, or a node relaying one).
	From uint64
	// Sender is the account address of the key that signed the request
	// (zero for an A2A call to the agent's own host, which is unsigned).
	Sender  types.Address
	Session string
	Skill   string
	Message a2a.Message
	// Paid is what the request's voucher paid the owner (0 for a free
	// skill); Voucher is that voucher.
	Paid    types.Amount
	Voucher *paych.Voucher
	// ID is the request envelope's id (zero for an unsigned A2A call):
	// what a rating of the task names.
	ID agentmsg.ID
}

// Text is the text of the request's message.
func (r *Request) Text() string { return r.Message.Text() }

// Reply is a handler's answer.
type Reply struct {
	// State is the task's state; completed when empty.
	State     a2a.State
	Message   *a2a.Message
	Artifacts []a2a.Artifact
}

// Text returns a completed reply of one text part.
func Text(s string) *Reply {
	return &Reply{State: a2a.StateCompleted, Message: &a2a.Message{Role: a2a.RoleAgent, Parts: []a2a.Part{a2a.TextPart(s)}}}
}

// Handler answers the requests for a skill. An error fails the task with
// its message.
type Handler func(ctx context.Context, r *Request) (*Reply, error)

type skill struct {
	card    a2a.Skill
	price   types.Amount
	handler Handler
}

// Agent is a running agent. Its methods are safe for concurrent use.
type Agent struct {
	cfg     Config
	dec     *ecdh.PrivateKey
	window  *agentmsg.Window
	dir     *directory
	mu      sync.Mutex
	id      uint64
	skills  []*skill
	chainID string
	tasks   map[string]a2a.Task
	order   []string
}

// New returns an agent; add skills with Handle.
func New(cfg Config) (*Agent, error) {
	if cfg.Node == nil {
		return nil, errors.New("agent: a node is required (Config.Node)")
	}
	if len(cfg.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("agent: a signing key is required (Config.Key)")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	window := agentmsg.NewWindow(0)
	if cfg.StateDir != "" {
		var err error
		if window, err = agentmsg.OpenWindow(filepath.Join(cfg.StateDir, WindowFile), 0, cfg.Now()); err != nil {
			return nil, fmt.Errorf("agent: %w", err)
		}
	}
	return &Agent{cfg: cfg, id: cfg.ID, dec: agentmsg.DecryptionKey(cfg.Key), window: window,
		dir: newDirectory(cfg.Node), tasks: map[string]a2a.Task{}}, nil
}

// WindowFile is the replay window's file in Config.StateDir.
const WindowFile = "replay.window"

// Close closes the replay window's file (Config.StateDir); the agent
// refuses envelopes afterwards. Stop serving first.
func (a *Agent) Close() error { return a.window.Close() }

func (a *Agent) logf(format string, args ...any) {
	if a.cfg.Logf != nil {
		a.cfg.Logf(format, args...)
	}
}

// ID returns the agent's registered id (0 before Register).
func (a *Agent) ID() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.id
}

// SetID sets the agent's id, for an agent registered elsewhere (say with
// the CLI).
func (a *Agent) SetID(id uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.id = id
}

// EncryptionKey is the key the agent's card publishes.
func (a *Agent) EncryptionKey() agentmsg.EncryptionKey { return agentmsg.PublicOf(a.dec) }

// Handle adds a skill: what the card lists, the price a request for it
// pays the owner (0 for free), and its handler. The first skill added
// answers requests that name none.
func (a *Agent) Handle(s a2a.Skill, price types.Amount, h Handler) {
	if s.Tags == nil {
		s.Tags = []string{}
	}
	if s.Description == "" {
		s.Description = s.Name
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.skills = append(a.skills, &skill{card: s, price: price, handler: h})
}

// Skills returns the skills' cards.
func (a *Agent) Skills() []a2a.Skill {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]a2a.Skill, 0, len(a.skills))
	for _, s := range a.skills {
		out = append(out, s.card)
	}
	return out
}

func (a *Agent) skill(id string) *skill {
	a.mu.Lock()
	defer a.mu.Unlock()
	if id == "" && len(a.skills) > 0 {
		return a.skills[0]
	}
	for _, s := range a.skills {
		if strings.EqualFold(s.card.ID, id) {
			return s
		}
	}
	return nil
}

// ChainID returns the chain's id, asking the node once.
func (a *Agent) ChainID(ctx context.Context) (string, error) {
	a.mu.Lock()
	id := a.chainID
	a.mu.Unlock()
	if id != "" {
		return id, nil
	}
	id, err := a.cfg.Node.ChainID(ctx)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	a.chainID = id
	a.mu.Unlock()
	return id, nil
}

// Card returns the agent's A2A Agent Card: the configured card with the
// skills, default modes, the JSON-RPC interface (its own host's /a2a, or
// for an agent behind NAT the node's relay for its id) and the messaging
// extension with its encryption key.
func (a *Agent) Card() a2a.Card {
	c := a.cfg.Card
	c.Skills = a.Skills()
	if c.Version == "" {
		c.Version = "1.0.0"
	}
	if c.Description == "" {
		c.Description = c.Name
	}
	if c.DefaultInputModes == nil {
		c.DefaultInputModes = []string{"text/plain"}
	}
	if c.DefaultOutputModes == nil {
		c.DefaultOutputModes = []string{"text/plain"}
	}
	if a.cfg.PublicURL != "" {
		c.SetJSONRPC(a.cfg.PublicURL + "/a2a")
	} else {
		node := strings.TrimRight(a.cfg.Node.URL(), "/")
		c.SetJSONRPC(node + "/agents/" + strconv.FormatUint(a.ID(), 10) + "/a2a")
	}
	agentmsg.SetCardInfo(&c, Messaging(a.EncryptionKey(), a.cfg.Node.URL(), a.cfg.PublicURL))
	return c
}

// Messaging is the messaging extension of an agent whose signing key
// derives enc (agentmsg.EncryptionKeyOf): where it takes envelopes, its
// own host's EnvelopePath under publicURL, or when publicURL is empty the
// mailbox of the node at nodeURL. Card publishes it; the CLI puts it in
// the cards it registers.
func Messaging(enc agentmsg.EncryptionKey, nodeURL, publicURL string) agentmsg.CardInfo {
	info := agentmsg.CardInfo{EncryptionKey: enc}
	if publicURL = strings.TrimRight(publicURL, "/"); publicURL != "" {
		info.EnvelopeURL = publicURL + EnvelopePath
	} else {
		info.Mailboxes = []string{strings.TrimRight(nodeURL, "/")}
	}
	return info
}

// CardJSON returns Card as the bytes registered and served.
func (a *Agent) CardJSON() []byte {
	b, err := json.MarshalIndent(a.Card(), "", "  ")
	if err != nil {
		panic(err) // a card always marshals
	}
	return b
}

// EnvelopePath is where an agent's own host takes signed envelopes.
const EnvelopePath = "/mycel/envelope"

// Answer is another agent's answer to a Call.
type Answer struct {
	State     a2a.State
	Message   *a2a.Message
	Artifacts []a2a.Artifact
	Error     string
	// Request is the id of the request envelope (what a rating names);
	// Envelope is the answer's signed envelope, evidence of what the
	// agent said.
	Request  agentmsg.ID
	Envelope agentmsg.Envelope
}

// Text is the text of the answer's message, else of its artifacts.
func (ans *Answer) Text() string {
	if t := ans.Message.Text(); t != "" {
		return t
	}
	var b strings.Builder
	for _, ar := range ans.Artifacts {
		for _, p := range ar.Parts {
			if p.Kind() == "text" {
				b.WriteString(p.Text)
			}
		}
	}
	return b.String()
}

// Err is the answer as an error when it did not complete, else nil.
func (ans *Answer) Err() error {
	if ans.State == a2a.StateCompleted || ans.State == "" {
		return nil
	}
	msg := ans.Error
	if msg == "" {
		msg = ans.Text()
	}
	return fmt.Errorf("agent answered %s: %s", ans.State, msg)
}
