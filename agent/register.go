package agent

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mycelnet/mycel/api"
	registry "github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/types"
)

// Registration is what Register puts on chain beside the card.
type Registration struct {
	// Deposit is escrowed while the agent is registered (at least the
	// chain's min_deposit).
	Deposit types.Amount
	// Price is what the agent asks per task, as discovery shows it.
	Price types.Amount
}

// submit signs msgs with the owner's key, submits them and waits for
// their block.
func (a *Agent) submit(ctx context.Context, what string, msgs ...tx.Msg) (api.TxResult, error) {
	if a.cfg.Owner == nil {
		return api.TxResult{}, fmt.Errorf("agent: %s needs the owner's key (Config.Owner)", what)
	}
	res, err := a.cfg.Node.Broadcast(ctx, a.cfg.Owner, msgs, client.TxOptions{})
	if err != nil {
		return api.TxResult{}, fmt.Errorf("%s: %w", what, err)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	r, err := a.cfg.Node.WaitTx(wctx, res.Hash)
	if err != nil {
		return r, fmt.Errorf("%s: %w", what, err)
	}
	if !r.OK() {
		return r, fmt.Errorf("%s: transaction %s failed: %s", what, r.Hash, r.Log)
	}
	return r, nil
}

// uploadCard puts the card's bytes in the node's blob store and returns
// the summary a registration carries.
func (a *Agent) uploadCard(ctx context.Context) (types.Hash, uint64, string, string, []registry.Skill, error) {
	b := a.CardJSON()
	if a.cfg.Owner == nil {
		return types.Hash{}, 0, "", "", nil, errors.New("agent: uploading the card needs the owner's key (Config.Owner)")
	}
	if _, err := a.cfg.Node.PutBlob(ctx, b, a.cfg.Owner); err != nil {
		return types.Hash{}, 0, "", "", nil, fmt.Errorf("upload the card: %w", err)
	}
	c := a.Card()
	skills := make([]registry.Skill, 0, len(c.Skills))
	for _, s := range c.Skills {
		skills = append(skills, registry.Skill{ID: s.ID, Name: s.Name, Tags: s.Tags})
	}
	name, desc, sk, err := registry.Summarize(c.Name, c.Description, skills)
	return types.SumHash(b), uint64(len(b)), name, desc, sk, err
}

// Register registers the agent, owned by Config.Owner and signing with
// Config.Key, and sets its id. An agent behind NAT registers twice over:
// its card names the node's relay URL for its id, which only the
// registration gives, so the card is updated once the id is known.
func (a *Agent) Register(ctx context.Context, r Registration) (uint64, error) {
	if a.ID() != 0 {
		return 0, fmt.Errorf("agent: already registered as agent %d", a.ID())
	}
	h, size, name, desc, skills, err := a.uploadCard(ctx)
	if err != nil {
		return 0, err
	}
	var key registry.PublicKey
	copy(key[:], a.cfg.Key.Public().(ed25519.PublicKey))
	m := registry.MsgRegister{SigningKey: key, CardHash: h, CardSize: size, Name: name, Description: desc, Skills: skills,
		Price: r.Price, Endpoint: a.cfg.PublicURL, Deposit: r.Deposit}
	res, err := a.submit(ctx, "register", tx.Msg{Kind: registry.KindRegister, Body: m.Encode()})
	if err != nil {
		return 0, err
	}
	v, ok := client.Event(res, "agent_registered", "id")
	if !ok {
		return 0, fmt.Errorf("register: transaction %s has no agent_registered event", res.Hash)
	}
	id, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("register: agent id %q: %w", v, err)
	}
	a.SetID(id)
	if a.cfg.PublicURL == "" {
		if err := a.UpdateCard(ctx, r.Price); err != nil {
			return id, err
		}
	}
	a.logf("agent %d registered (%s)", id, name)
	return id, nil
}

// UpdateCard uploads the current card and registers it with price.
func (a *Agent) UpdateCard(ctx context.Context, price types.Amount) error {
	h, size, name, desc, skills, err := a.uploadCard(ctx)
	if err != nil {
		return err
	}
	m := registry.MsgUpdate{Agent: a.ID(), CardHash: h, CardSize: size, Name: name, Description: desc, Skills: skills,
		Price: price, Endpoint: a.cfg.PublicURL}
	_, err = a.submit(ctx, "update the card", tx.Msg{Kind: registry.KindUpdate, Body: m.Encode()})
	return err
}

// Renew extends the registration by the chain's registration period from
// now.
func (a *Agent) Renew(ctx context.Context) error {
	m := registry.MsgRenew{Agent: a.ID()}
	_, err := a.submit(ctx, "renew", tx.Msg{Kind: registry.KindRenew, Body: m.Encode()})
	return err
}

// KeepRegistered renews the registration whenever fewer than margin
// blocks are left before it expires, checking every `every`, until ctx
// ends.
func (a *Agent) KeepRegistered(ctx context.Context, margin int64, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := a.renewIfDue(ctx, margin); err != nil && ctx.Err() == nil {
			a.logf("agent %d: renew: %v", a.ID(), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (a *Agent) renewIfDue(ctx context.Context, margin int64) error {
	info, err := a.dir.info(ctx, a.ID(), true)
	if err != nil {
		return err
	}
	st, err := a.cfg.Node.Status(ctx)
	if err != nil {
		return err
	}
	if info.ExpiresAt-st.Height >= margin {
		return nil
	}
	a.logf("agent %d expires at height %d (now %d): renewing", a.ID(), info.ExpiresAt, st.Height)
	return a.Renew(ctx)
}

// Rate rates another agent's task, paying amount to its owner from the
// owner's account: the rating and its payment are one transaction.
func (a *Agent) Rate(ctx context.Context, agent uint64, stars uint8, amount types.Amount, task types.Hash) error {
	m := registry.MsgRate{Agent: agent, Stars: stars, Amount: amount, Task: task}
	_, err := a.submit(ctx, "rate", tx.Msg{Kind: registry.KindRate, Body: m.Encode()})
	return err
}

// OpenChannel opens a payment channel from the owner's account to the
// owner of agent `to`, with this agent's signing key as its voucher key
// (so the agent pays while the owner's key stays cold), tracks it in the
// payer wallet, and returns its id.
func (a *Agent) OpenChannel(ctx context.Context, to uint64, deposit types.Amount) (uint64, error) {
	if a.cfg.Payer == nil {
		return 0, errors.New("agent: opening a channel needs a payer wallet (Config.Payer)")
	}
	target, err := a.dir.info(ctx, to, true)
	if err != nil {
		return 0, err
	}
	m := paych.MsgOpen{Payee: target.Owner, VoucherKey: a.cfg.Payer.Key(), Amount: deposit}
	res, err := a.submit(ctx, "open a channel", tx.Msg{Kind: paych.KindOpen, Body: m.Encode()})
	if err != nil {
		return 0, err
	}
	v, ok := client.Event(res, "channel_opened", "id")
	if !ok {
		return 0, fmt.Errorf("open a channel: transaction %s has no channel_opened event", res.Hash)
	}
	id, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, err
	}
	ch, err := a.cfg.Node.Channel(ctx, id)
	if err != nil {
		return id, err
	}
	return id, a.cfg.Payer.Track(*ch)
}

// PayCollective pays amount from the owner's account to the members of
// a collective, by the split its members agreed to: how a manager shares
// what its tasks earned.
func (a *Agent) PayCollective(ctx context.Context, collective uint64, amount types.Amount) error {
	m := registry.MsgPayCollective{Collective: collective, Amount: amount}
	_, err := a.submit(ctx, "pay the collective", tx.Msg{Kind: registry.KindPayCollective, Body: m.Encode()})
	return err
}

// EnsureCard updates the registered card when it is not the one the agent
// would serve now (another encryption key after a new signing key, a
// skill added, another URL), keeping the registered price. An agent that
// starts under a new owner's signing key calls it first: senders seal to
// the key in the registered card.
func (a *Agent) EnsureCard(ctx context.Context) error {
	info, err := a.dir.info(ctx, a.ID(), true)
	if err != nil {
		return err
	}
	if info.CardHash == types.SumHash(a.CardJSON()) {
		return nil
	}
	a.logf("agent %d: the registered card is not this host's; updating it", a.ID())
	return a.UpdateCard(ctx, info.Price)
}
