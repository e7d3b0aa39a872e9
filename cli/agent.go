package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/a2a"
	"github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/discovery"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/types"
)

func (e *env) agentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "AI agents: register them with an A2A card and a deposit, find, rate, transfer and deregister them",
		Long: `The agent registry (docs/agents.md). An agent is registered by its owner (--from)
with an A2A Agent Card (uploaded to the node's blob store; the chain keeps its
hash), a deposit, a price per task, an endpoint or the nodes' mailboxes, and a
signing key of its own that its host signs messages with. A registration lasts
a week of blocks and is renewed; a deregistered agent's deposit comes back
after the unbonding period. Discovery ranks the listed agents by reputation,
deposit, price and match; any node serves a registered card at
/agents/ID/.well-known/agent-card.json.`,
	}
	cmd.AddCommand(e.agentRegisterCmd(), e.agentUpdateCmd(), e.agentRenewCmd(), e.agentShowCmd(), e.agentListCmd(),
		e.agentFindCmd(), e.agentTransferCmd(), e.agentSetKeyCmd(), e.agentDeregisterCmd(), e.agentRateCmd(),
		e.agentReportCmd(), e.agentWithdrawReportCmd(), e.agentReportsCmd())
	vote, reveal := e.agentBallotCmds()
	cmd.AddCommand(vote, reveal)
	return cmd
}

// parseAgentID reads an agent id argument.
func parseAgentID(what, s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("%s %q: want an agent id, a number from 1 (see mycel agent find or mycel agent list)", what, s)
	}
	return id, nil
}

// getAgent reads an agent, with an error that says what to do when there
// is none.
func (e *env) getAgent(ctx context.Context, c *client.Client, id uint64) (agent.Info, error) {
	a, err := c.Agent(ctx, id)
	if client.IsNotFound(err) {
		return a, fmt.Errorf("no agent %d on this chain (see mycel agent find, or mycel agent list --owner KEY)", id)
	}
	return a, err
}

// ownedAgent reads an agent that --from must own, refusing early with an
// error that names both addresses.
func (e *env) ownedAgent(ctx context.Context, c *client.Client, id uint64) (agent.Info, keyring.Key, error) {
	key, err := e.signer()
	if err != nil {
		return agent.Info{}, key, err
	}
	a, err := e.getAgent(ctx, c, id)
	if err != nil {
		return a, key, err
	}
	if a.Owner != key.Address {
		return a, key, fmt.Errorf("agent %d belongs to %s; --from %s is %s: only the owner can do this", id, a.Owner, key.Name, key.Address)
	}
	return a, key, nil
}

// agentParams reads the registry's rules from the node.
func (e *env) agentParams(ctx context.Context, c *client.Client) (agent.Params, error) {
	p, err := c.Params(ctx)
	if err != nil {
		return agent.Params{}, err
	}
	if p.Agent.MinDeposit == 0 {
		return agent.Params{}, errors.New("this node's chain has no agent registry (it started before the registry existed): use a newer network")
	}
	return p.Agent, nil
}

// cardFile reads and checks an A2A Agent Card and the summary the chain
// keeps of it.
type cardFile struct {
	bytes      []byte
	hash       types.Hash
	card       *a2a.Card
	name, desc string
	skills     []agent.Skill
}

func readCardFile(path string, maxBytes uint64) (cardFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return cardFile{}, fmt.Errorf("--card: %w", err)
	}
	return parseCard(b, path, maxBytes)
}

// parseCard checks a card's bytes (from the file path, or as the
// registered card is, or as the CLI rewrote it) like readCardFile.
func parseCard(b []byte, path string, maxBytes uint64) (cardFile, error) {
	var cf cardFile
	if uint64(len(b)) > maxBytes {
		return cf, fmt.Errorf("--card %s: %d bytes; the chain takes cards of at most %d", path, len(b), maxBytes)
	}
	card, err := a2a.ValidateCard(b)
	if err != nil {
		return cf, fmt.Errorf("--card %s: %w (see docs/agents.md for a card to start from)", path, err)
	}
	cf.card = card
	skills := make([]agent.Skill, len(card.Skills))
	for i, s := range card.Skills {
		skills[i] = agent.Skill{ID: s.ID, Name: s.Name, Tags: s.Tags}
	}
	cf.name, cf.desc, cf.skills, err = agent.Summarize(card.Name, card.Description, skills)
	if err != nil {
		return cf, fmt.Errorf("--card %s: %w", path, err)
	}
	cf.bytes, cf.hash = b, types.SumHash(b)
	return cf, nil
}

// upload puts a card in the node's blob store, signed by key.
func (e *env) upload(ctx context.Context, c *client.Client, cf cardFile, key keyring.Key) error {
	res, err := c.PutBlob(ctx, cf.bytes, key.Private)
	if err != nil {
		return fmt.Errorf("upload the card: %w", err)
	}
	if res.SHA256 != cf.hash {
		return fmt.Errorf("upload the card: the node stored sha256 %s, the card hashes to %s", res.SHA256, cf.hash)
	}
	return nil
}

// registeredCard reads the card registered for an agent (checked against
// the chain's hash), to refresh its messaging extension.
func (e *env) registeredCard(ctx context.Context, c *client.Client, id uint64, maxBytes uint64) (cardFile, error) {
	b, err := c.AgentCard(ctx, id)
	if err != nil {
		return cardFile{}, fmt.Errorf("read agent %d's registered card: %w", id, err)
	}
	return parseCard(b, fmt.Sprintf("registered for agent %d", id), maxBytes)
}

// keyName makes a keyring name from parts: letters, digits, . _ -.
func keyName(parts ...string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.Join(parts, "-")) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "-")
	}
	return s
}

// signingKey resolves --signing-key: 64 hex digits of a public key, or
// the name of a key in the keyring. Empty makes (or reuses) the keyring
// key def, so the agent's host never needs the owner's key.
func (e *env) signingKey(flag, def string) (agent.PublicKey, string, error) {
	if len(flag) == 64 {
		if k, err := agent.ParsePublicKey(flag); err == nil {
			return k, "", nil
		}
	}
	name := flag
	if name == "" {
		name = def
	}
	k, err := e.keyring().Get(name)
	if errors.Is(err, keyring.ErrNotFound) && flag == "" {
		if k, err = e.keyring().Add(name); err == nil {
			e.progress("made the agent's signing key %q in %s (its host signs with it; keep it apart from the owner's key)", name, e.keyring().Dir())
		}
	}
	if err != nil {
		return agent.PublicKey{}, "", fmt.Errorf("--signing-key %q: %w (a key name in the keyring, or 64 hex digits of an ed25519 public key; make one with mycel keys add NAME)", name, err)
	}
	var pk agent.PublicKey
	copy(pk[:], k.Private.Public().(ed25519.PublicKey))
	return pk, name, nil
}

func (e *env) agentRegisterCmd() *cobra.Command {
	var f txFlags
	var cardPath, deposit, price, endpoint, signing string
	var asIs bool
	cmd := &cobra.Command{
		Use:   "register --card CARD.json --deposit AMOUNT [--price AMOUNT] [--endpoint URL] [--signing-key KEY] [--card-as-is] --from KEY",
		Short: "Register an agent with its A2A Agent Card and a deposit; prints the agent's id",
		Long: `Register an agent owned by --from. The card must be an A2A Agent Card (version
1.0 with supportedInterfaces, or 0.3 with url); it is uploaded to the node's blob
store, and the chain keeps its sha256 with its name, description and skills
(ids, names, tags) for discovery. --deposit (at least the chain's minimum) is
escrowed until the agent is deregistered. --price is what the agent asks per
task. --endpoint is the URL the agent takes messages at; without it the agent is
reached through the nodes' mailboxes.

--signing-key is the key the agent's host signs messages with: a key in the
keyring or 64 hex digits of a public key. By default a key named
FROM-agent-NAME is made in the keyring (or reused).

So that others can message the agent, the card registered carries mycel's
messaging extension (urn:mycel:a2a:agentmsg:v1): the encryption key derived from
the signing key, and where the agent takes envelopes (what the card's extension
says already, else ENDPOINT/mycel/envelope, or this node's mailbox). The CLI adds
it (or refreshes its key) when the keyring holds the signing key; --card-as-is
registers the file unchanged, for a card whose extension you manage by hand.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if cardPath == "" {
				return errors.New("--card is required: the agent's A2A Agent Card (JSON)")
			}
			key, err := e.signer()
			if err != nil {
				return err
			}
			dep, err := parsePositive("--deposit", deposit)
			if err != nil {
				return err
			}
			var pr types.Amount
			if price != "" {
				if pr, err = types.ParseAmount(price); err != nil {
					return fmt.Errorf("--price: %w", err)
				}
			}
			if err := agent.ValidateEndpoint(endpoint); err != nil {
				return fmt.Errorf("--endpoint: %w", err)
			}
			c := e.client()
			p, err := e.agentParams(ctx, c)
			if err != nil {
				return err
			}
			if dep < p.MinDeposit {
				return fmt.Errorf("--deposit %s is below the chain's minimum of %s", dep, p.MinDeposit)
			}
			cf, err := readCardFile(cardPath, p.MaxCardBytes)
			if err != nil {
				return err
			}
			sk, skName, err := e.signingKey(signing, keyName(key.Name, "agent", cf.name))
			if err != nil {
				return err
			}
			cf, msging, err := e.addMessaging(cf, p.MaxCardBytes, sk, skName, c.URL(), endpoint, true, asIs)
			if err != nil {
				return err
			}
			if err := e.upload(ctx, c, cf, key); err != nil {
				return err
			}
			m := agent.MsgRegister{SigningKey: sk, CardHash: cf.hash, CardSize: uint64(len(cf.bytes)), Name: cf.name,
				Description: cf.desc, Skills: cf.skills, Price: pr, Endpoint: endpoint, Deposit: dep}
			sub := f
			sub.async = false
			r, err := e.submit(ctx, &sub, []tx.Msg{{Kind: agent.KindRegister, Body: m.Encode()}}, fmt.Sprintf("register agent %q", cf.name))
			if err != nil {
				return err
			}
			id, err := eventValue(r, "agent_registered", "id")
			if err != nil {
				return err
			}
			exp, _ := client.Event(r, "agent_registered", "expires_at")
			out := map[string]any{"id": id, "name": cf.name, "owner": key.Address, "signing_key": sk, "signing_key_name": skName,
				"card_hash": cf.hash, "deposit": dep, "price": pr, "endpoint": endpoint, "mailbox": endpoint == "",
				"expires_at": exp, "tx": r.Hash, "height": r.Height, "messaging": msging}
			msging.say(e, sk)
			return e.print(out, func(w io.Writer) {
				e.progress("registered agent %s, %q, in block %d (transaction %s); listed until height %s, renew with: mycel agent renew %s --from %s",
					id, cf.name, r.Height, r.Hash, exp, id, key.Name)
				e.progress("its card: %s/agents/%s%s", c.URL(), id, a2a.WellKnownPath)
				fmt.Fprintln(w, id)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cardPath, "card", "", "the agent's A2A Agent Card, a JSON file")
	fl.StringVar(&deposit, "deposit", "", "the deposit to escrow, like 100myc")
	fl.StringVar(&price, "price", "", "the price per task, like 0.1myc (default: free)")
	fl.StringVar(&endpoint, "endpoint", "", "the URL the agent takes messages at (default: the nodes' mailboxes)")
	fl.StringVar(&signing, "signing-key", "", "the agent's signing key: a keyring name or 64 hex digits (default: a key made for it)")
	fl.BoolVar(&asIs, "card-as-is", false, "register the card file unchanged (no messaging extension added or refreshed)")
	f.register(cmd)
	return cmd
}

func (e *env) agentUpdateCmd() *cobra.Command {
	var f txFlags
	var cardPath, price, endpoint string
	var mailbox, asIs bool
	cmd := &cobra.Command{
		Use:   "update ID [--card CARD.json] [--price AMOUNT] [--endpoint URL | --mailbox] [--card-as-is] --from KEY",
		Short: "Change an agent's card, price or endpoint (the owner only)",
		Long: `Change an agent's card, price or endpoint (the owner only). Like register, the
card registered carries mycel's messaging extension with the encryption key of
the agent's registered signing key (when this keyring holds it); a new endpoint
or --mailbox refreshes the registered card's extension to match. --card-as-is
registers the card unchanged.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseAgentID("agent", args[0])
			if err != nil {
				return err
			}
			if cardPath == "" && price == "" && endpoint == "" && !mailbox {
				return errors.New("nothing to change: pass --card, --price, --endpoint or --mailbox")
			}
			if endpoint != "" && mailbox {
				return errors.New("--endpoint and --mailbox: choose one (--mailbox drops the endpoint)")
			}
			c := e.client()
			a, key, err := e.ownedAgent(ctx, c, id)
			if err != nil {
				return err
			}
			m := agent.MsgUpdate{Agent: id, CardHash: a.CardHash, CardSize: a.CardSize, Name: a.Name, Description: a.Description,
				Skills: a.Skills, Price: a.Price, Endpoint: a.Endpoint}
			if price != "" {
				if m.Price, err = types.ParseAmount(price); err != nil {
					return fmt.Errorf("--price: %w", err)
				}
			}
			if mailbox {
				m.Endpoint = ""
			} else if endpoint != "" {
				if err := agent.ValidateEndpoint(endpoint); err != nil {
					return fmt.Errorf("--endpoint: %w", err)
				}
				m.Endpoint = endpoint
			}
			// A new reach makes the extension's (where envelopes go) stale.
			reachChanged := m.Endpoint != a.Endpoint
			var msging cardMessaging
			if cardPath != "" || (reachChanged && !asIs) {
				p, err := e.agentParams(ctx, c)
				if err != nil {
					return err
				}
				var cf cardFile
				if cardPath != "" {
					cf, err = readCardFile(cardPath, p.MaxCardBytes)
				} else {
					cf, err = e.registeredCard(ctx, c, id, p.MaxCardBytes)
				}
				if err != nil {
					return err
				}
				if a.SigningKey.IsZero() {
					e.progress("agent %d has no signing key: mycel agent set-key %d adds its encryption key to the card", id, id)
				} else if cf, msging, err = e.addMessaging(cf, p.MaxCardBytes, a.SigningKey, "", c.URL(), m.Endpoint, !reachChanged, asIs); err != nil {
					return err
				}
				if err := e.upload(ctx, c, cf, key); err != nil {
					return err
				}
				m.CardHash, m.CardSize, m.Name, m.Description, m.Skills = cf.hash, uint64(len(cf.bytes)), cf.name, cf.desc, cf.skills
			}
			if err := e.broadcast(ctx, &f, []tx.Msg{{Kind: agent.KindUpdate, Body: m.Encode()}}, fmt.Sprintf("update agent %d", id)); err != nil {
				return err
			}
			if msging.Done != "" {
				msging.say(e, a.SigningKey)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cardPath, "card", "", "a new A2A Agent Card (uploaded; its name, description and skills replace the old)")
	fl.StringVar(&price, "price", "", "the new price per task")
	fl.StringVar(&endpoint, "endpoint", "", "the new URL the agent takes messages at")
	fl.BoolVar(&mailbox, "mailbox", false, "drop the endpoint: reach the agent through the nodes' mailboxes")
	fl.BoolVar(&asIs, "card-as-is", false, "register the card unchanged (no messaging extension added or refreshed)")
	f.register(cmd)
	return cmd
}

func (e *env) agentRenewCmd() *cobra.Command {
	var f txFlags
	var add string
	cmd := &cobra.Command{
		Use:   "renew ID [--add-deposit AMOUNT] --from KEY",
		Short: "Keep an agent listed for another registration period from now (an expired one is listed again)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseAgentID("agent", args[0])
			if err != nil {
				return err
			}
			var amt types.Amount
			if add != "" {
				if amt, err = types.ParseAmount(add); err != nil {
					return fmt.Errorf("--add-deposit: %w", err)
				}
			}
			if _, _, err := e.ownedAgent(ctx, e.client(), id); err != nil {
				return err
			}
			m := agent.MsgRenew{Agent: id, AddDeposit: amt}
			return e.broadcast(ctx, &f, []tx.Msg{{Kind: agent.KindRenew, Body: m.Encode()}}, fmt.Sprintf("renew agent %d", id))
		},
	}
	cmd.Flags().StringVar(&add, "add-deposit", "", "add this much to the deposit")
	f.register(cmd)
	return cmd
}

func reputation(ppm uint32) string { return fmt.Sprintf("%.3f", float64(ppm)/1e6) }

func reach(a agent.Info) string {
	if a.Mailbox {
		return "mailbox"
	}
	return a.Endpoint
}

func skillsText(ss []agent.Skill) string {
	var parts []string
	for _, s := range ss {
		p := s.ID
		if len(s.Tags) > 0 {
			p += " [" + strings.Join(s.Tags, ", ") + "]"
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

func printAgent(w io.Writer, a agent.Info, nodeURL string) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "agent\t%d\n", a.ID)
	fmt.Fprintf(tw, "name\t%s\n", a.Name)
	switch a.Status {
	case agent.Active:
		fmt.Fprintf(tw, "status\tactive, listed until height %d\n", a.ExpiresAt)
	case agent.Expired:
		fmt.Fprintf(tw, "status\texpired at height %d (renew it to list it again)\n", a.ExpiresAt)
	case agent.Unbonding:
		fmt.Fprintf(tw, "status\tderegistered, deposit paid back at height %d\n", a.RefundAt)
	case agent.Closed:
		fmt.Fprintf(tw, "status\tclosed, %s paid back at height %d\n", a.Refunded, a.RefundAt)
	}
	fmt.Fprintf(tw, "owner\t%s (since height %d)\n", a.Owner, a.OwnedSince)
	if a.SigningKey.IsZero() {
		fmt.Fprintf(tw, "signing key\tnone: the owner sets one with mycel agent set-key %d\n", a.ID)
	} else {
		fmt.Fprintf(tw, "signing key\t%s (since height %d)\n", a.SigningKey, a.KeySince)
	}
	fmt.Fprintf(tw, "reach\t%s\n", reach(a))
	fmt.Fprintf(tw, "price\t%s per task\n", a.Price)
	fmt.Fprintf(tw, "deposit\t%s\n", a.Deposit)
	fmt.Fprintf(tw, "reputation\t%s (%d ratings)\n", reputation(a.Reputation), a.Rep.Count)
	fmt.Fprintf(tw, "skills\t%s\n", skillsText(a.Skills))
	fmt.Fprintf(tw, "card\t%s (%d bytes) at %s/agents/%d%s\n", a.CardHash, a.CardSize, nodeURL, a.ID, a2a.WellKnownPath)
	if a.ForSale {
		fmt.Fprintf(tw, "for sale\t%s (mycel market buy %d)\n", a.SalePrice, a.ID)
	}
	if a.OpenReports > 0 {
		fmt.Fprintf(tw, "reports\t%d open (mycel agent reports %d)\n", a.OpenReports, a.ID)
	}
	fmt.Fprintf(tw, "registered\tat height %d\n", a.Registered)
	if a.Description != "" {
		fmt.Fprintf(tw, "description\t%s\n", a.Description)
	}
	tw.Flush()
}

func (e *env) agentShowCmd() *cobra.Command {
	var card bool
	cmd := &cobra.Command{
		Use:   "show ID [--card]",
		Short: "Show an agent: owner, signing key, reach, price, deposit, reputation, skills; --card prints its A2A card",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseAgentID("agent", args[0])
			if err != nil {
				return err
			}
			c := e.client()
			if card {
				if _, err := e.getAgent(ctx, c, id); err != nil {
					return err
				}
				b, err := c.AgentCard(ctx, id)
				if err != nil {
					return fmt.Errorf("agent %d's card: %w", id, err)
				}
				_, err = e.stdout.Write(b)
				if len(b) > 0 && b[len(b)-1] != '\n' {
					fmt.Fprintln(e.stdout)
				}
				return err
			}
			a, err := e.getAgent(ctx, c, id)
			if err != nil {
				return err
			}
			return e.print(a, func(w io.Writer) { printAgent(w, a, c.URL()) })
		},
	}
	cmd.Flags().BoolVar(&card, "card", false, "print the agent's registered A2A Agent Card (checked against the chain's hash)")
	return cmd
}

func printAgentTable(w io.Writer, rs []discovery.Result, scored bool) {
	if len(rs) == 0 {
		fmt.Fprintln(w, "no agents")
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	if scored {
		fmt.Fprintf(tw, "ID\tNAME\tSCORE\tREPUTATION\tPRICE\tDEPOSIT\tOWNER\tSINCE\tREACH\tSKILLS\n")
	} else {
		fmt.Fprintf(tw, "ID\tNAME\tSTATUS\tREPUTATION\tPRICE\tDEPOSIT\tOWNER\tSINCE\tREACH\tSKILLS\n")
	}
	for _, r := range rs {
		col := r.Status.String()
		if scored {
			col = reputation(r.Score)
		}
		if r.ForSale {
			col += " (for sale: " + r.SalePrice.String() + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.Name, col, reputation(r.Reputation), r.Price, r.Deposit,
			r.Owner, r.OwnedSince, reach(r.Info), skillsText(r.Skills))
	}
	tw.Flush()
}

func (e *env) agentListCmd() *cobra.Command {
	var owner string
	var after uint64
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--owner ADDR_OR_KEY] [--after ID] [--limit N]",
		Short: "List an owner's agents, any status, by id (default: --from's)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if owner == "" {
				owner = e.from
			}
			if owner == "" {
				return errors.New("whose agents? pass --owner ADDR_OR_KEY or --from KEY (to search all agents: mycel agent find)")
			}
			a, err := e.resolveAddress(owner)
			if err != nil {
				return fmt.Errorf("--owner: %w", err)
			}
			p, err := e.client().ListAgents(cmd.Context(), agent.Filter{Owner: &a, After: after, Limit: limit})
			if err != nil {
				return err
			}
			return e.print(p, func(w io.Writer) {
				printAgentTable(w, p.Agents, false)
				if p.Next != 0 {
					e.progress("more follow: add --after %d", p.Next)
				}
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&owner, "owner", "", "the owner: an address or a key name (default: --from)")
	fl.Uint64Var(&after, "after", 0, "start after this agent id (the last of the previous page)")
	fl.IntVar(&limit, "limit", 100, "agents to list at most (up to 1000)")
	return cmd
}

func (e *env) agentFindCmd() *cobra.Command {
	var q discovery.Query
	cmd := &cobra.Command{
		Use:   "find [--skill ID] [--tag TAG] [--q TEXT] [--limit N] [--after ID]",
		Short: "Find listed agents by skill, tag or text, ranked by reputation, deposit, price and match",
		Long: `Find the listed agents (active, not expired) through the node's discovery index.
--skill and --tag keep the agents with a skill of that id or that tag; --q looks
for its words in names, skills and descriptions. Results are ranked by a score
of reputation, deposit, price and match (docs/agents.md, "Ranking"); --after
takes the last id of the previous page.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := e.client().FindAgents(cmd.Context(), q)
			if err != nil {
				return err
			}
			return e.print(p, func(w io.Writer) {
				printAgentTable(w, p.Agents, true)
				if p.Next != 0 {
					e.progress("%d agents match; more follow: add --after %d", p.Matched, p.Next)
				}
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&q.Skill, "skill", "", "a skill id, such as tide-tables")
	fl.StringVar(&q.Tag, "tag", "", "a skill tag")
	fl.StringVar(&q.Text, "q", "", "words to look for in names, skills and descriptions")
	fl.IntVar(&q.Limit, "limit", discovery.DefaultLimit, "results to show at most")
	fl.Uint64Var(&q.After, "after", 0, "the last agent id of the previous page")
	return cmd
}

func (e *env) agentTransferCmd() *cobra.Command {
	var f txFlags
	cmd := &cobra.Command{
		Use:   "transfer ID TO --from KEY",
		Short: "Give an agent to another owner; its signing key stops working until the new owner sets one",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseAgentID("agent", args[0])
			if err != nil {
				return err
			}
			to, err := e.resolveAddress(args[1])
			if err != nil {
				return err
			}
			if _, _, err := e.ownedAgent(ctx, e.client(), id); err != nil {
				return err
			}
			m := agent.MsgTransfer{Agent: id, NewOwner: to}
			if err := e.broadcast(ctx, &f, []tx.Msg{{Kind: agent.KindTransfer, Body: m.Encode()}}, fmt.Sprintf("transfer agent %d to %s", id, to)); err != nil {
				return err
			}
			e.progress("the new owner sets the agent's signing key with: mycel agent set-key %d --from NEW_OWNER", id)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func (e *env) agentSetKeyCmd() *cobra.Command {
	var f txFlags
	var signing string
	var asIs bool
	cmd := &cobra.Command{
		Use:   "set-key ID [--signing-key KEY] [--card-as-is] --from KEY",
		Short: "Set the key an agent signs its messages with (after a transfer or a purchase, or to rotate it)",
		Long: `Set the key an agent signs its messages with. The encryption key that senders
seal to is derived from the signing key, so in the same transaction the agent's
registered card is replaced by one whose messaging extension
(urn:mycel:a2a:agentmsg:v1) carries the new key (when this keyring holds the
signing key): from that block on, senders seal to the new key and the old
operator reads nothing. --card-as-is leaves the card as it is.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseAgentID("agent", args[0])
			if err != nil {
				return err
			}
			c := e.client()
			a, key, err := e.ownedAgent(ctx, c, id)
			if err != nil {
				return err
			}
			sk, skName, err := e.signingKey(signing, keyName(key.Name, "agent", a.Name))
			if err != nil {
				return err
			}
			m := agent.MsgSetKey{Agent: id, Key: sk}
			msgs := []tx.Msg{{Kind: agent.KindSetKey, Body: m.Encode()}}
			var msging cardMessaging
			if asIs {
				msging.Done = "as-is"
			} else {
				p, err := e.agentParams(ctx, c)
				if err != nil {
					return err
				}
				cf, err := e.registeredCard(ctx, c, id, p.MaxCardBytes)
				if err != nil {
					return fmt.Errorf("%w (or keep the card as it is with --card-as-is)", err)
				}
				if cf, msging, err = e.addMessaging(cf, p.MaxCardBytes, sk, skName, c.URL(), a.Endpoint, true, false); err != nil {
					return err
				}
				if cf.hash != a.CardHash {
					if err := e.upload(ctx, c, cf, key); err != nil {
						return err
					}
					u := agent.MsgUpdate{Agent: id, CardHash: cf.hash, CardSize: uint64(len(cf.bytes)), Name: cf.name, Description: cf.desc,
						Skills: cf.skills, Price: a.Price, Endpoint: a.Endpoint}
					msgs = append(msgs, tx.Msg{Kind: agent.KindUpdate, Body: u.Encode()})
				}
			}
			if err := e.broadcast(ctx, &f, msgs, fmt.Sprintf("set agent %d's signing key to %s", id, sk)); err != nil {
				return err
			}
			msging.say(e, sk)
			return nil
		},
	}
	cmd.Flags().StringVar(&signing, "signing-key", "", "a keyring name or 64 hex digits (default: a key made for it)")
	cmd.Flags().BoolVar(&asIs, "card-as-is", false, "leave the registered card as it is (its encryption key stays the old one's)")
	f.register(cmd)
	return cmd
}

func (e *env) agentDeregisterCmd() *cobra.Command {
	return e.ownerAgentCmd("deregister", "Deregister an agent: delisted now, its deposit paid back after the unbonding period", agent.KindDeregister)
}

// ownerAgentCmd is a command the owner of an agent sends with nothing but
// the agent's id: checked to be the signer's first, for a clear error.
func (e *env) ownerAgentCmd(verb, short string, kind uint16) *cobra.Command {
	var f txFlags
	cmd := &cobra.Command{
		Use:   verb + " ID --from KEY",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseAgentID("agent", args[0])
			if err != nil {
				return err
			}
			if _, _, err := e.ownedAgent(ctx, e.client(), id); err != nil {
				return err
			}
			return e.broadcast(ctx, &f, []tx.Msg{{Kind: kind, Body: agent.MsgAgent{Agent: id}.Encode()}}, fmt.Sprintf("%s agent %d", verb, id))
		},
	}
	f.register(cmd)
	return cmd
}

func (e *env) agentRateCmd() *cobra.Command {
	var f txFlags
	var stars int
	var pay, task string
	cmd := &cobra.Command{
		Use:   "rate ID --stars N --pay AMOUNT [--task HASH] --from KEY",
		Short: "Rate an agent's task 1 to 5 stars, paying its owner in the same transaction",
		Long: `Rate an agent 1 to 5 stars. Every rating pays: --pay goes to the agent's owner
(at least the chain's minimum; a tenth is burned), and a larger payment weighs
more, up to ten times the minimum. --task names the task rated (a hash both
sides know, such as the request's), kept in the event.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseAgentID("agent", args[0])
			if err != nil {
				return err
			}
			if stars < 1 || stars > 5 {
				return fmt.Errorf("--stars %d: rate 1 to 5", stars)
			}
			amt, err := parsePositive("--pay", pay)
			if err != nil {
				return err
			}
			m := agent.MsgRate{Agent: id, Stars: uint8(stars), Amount: amt}
			if task != "" {
				if m.Task, err = types.ParseHash(strings.ToLower(task)); err != nil {
					return fmt.Errorf("--task: %w", err)
				}
			}
			return e.broadcast(cmd.Context(), &f, []tx.Msg{{Kind: agent.KindRate, Body: m.Encode()}},
				fmt.Sprintf("rate agent %d %d stars, paying %s", id, stars, amt))
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&stars, "stars", 0, "1 to 5")
	fl.StringVar(&pay, "pay", "", "what the rating pays the agent's owner, like 0.1myc")
	fl.StringVar(&task, "task", "", "the sha256 of the task rated")
	f.register(cmd)
	return cmd
}

func (e *env) agentReportCmd() *cobra.Command {
	var f txFlags
	var reason, bond, evidence string
	cmd := &cobra.Command{
		Use:   "report ID --reason TEXT [--bond AMOUNT] [--evidence FILE] --from KEY",
		Short: "Report an agent's misbehaviour with a bond, for the dispute track; prints the report's id",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseAgentID("agent", args[0])
			if err != nil {
				return err
			}
			if reason == "" {
				return errors.New("--reason is required: what the agent did")
			}
			c := e.client()
			p, err := e.agentParams(ctx, c)
			if err != nil {
				return err
			}
			b := p.ReportBond
			if bond != "" {
				if b, err = parsePositive("--bond", bond); err != nil {
					return err
				}
			}
			m := agent.MsgReport{Agent: id, Bond: b, Reason: reason}
			if evidence != "" {
				key, err := e.signer()
				if err != nil {
					return err
				}
				data, err := os.ReadFile(evidence)
				if err != nil {
					return fmt.Errorf("--evidence: %w", err)
				}
				res, err := c.PutBlob(ctx, data, key.Private)
				if err != nil {
					return fmt.Errorf("upload the evidence: %w", err)
				}
				m.Evidence = res.SHA256
			}
			sub := f
			sub.async = false
			r, err := e.submit(ctx, &sub, []tx.Msg{{Kind: agent.KindReport, Body: m.Encode()}}, fmt.Sprintf("report agent %d", id))
			if err != nil {
				return err
			}
			rid, err := eventValue(r, "agent_reported", "id")
			if err != nil {
				return err
			}
			out := map[string]any{"id": rid, "agent": strconv.FormatUint(id, 10), "bond": b, "evidence": m.Evidence, "tx": r.Hash, "height": r.Height}
			return e.print(out, func(w io.Writer) {
				e.progress("report %s against agent %d recorded in block %d with a %s bond; withdraw it with: mycel agent withdraw-report %s",
					rid, id, r.Height, b, rid)
				fmt.Fprintln(w, rid)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&reason, "reason", "", "what the agent did, at most 256 bytes")
	fl.StringVar(&bond, "bond", "", "the bond (default: the chain's minimum)")
	fl.StringVar(&evidence, "evidence", "", "a file of evidence, uploaded to the blob store")
	f.register(cmd)
	return cmd
}

func (e *env) agentWithdrawReportCmd() *cobra.Command {
	var f txFlags
	cmd := &cobra.Command{
		Use:   "withdraw-report REPORT_ID --from KEY",
		Short: "Withdraw an open report you made and take its bond back",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil || id == 0 {
				return fmt.Errorf("report %q: want a report id (see mycel agent reports AGENT)", args[0])
			}
			return e.broadcast(cmd.Context(), &f, []tx.Msg{{Kind: agent.KindWithdrawReport, Body: agent.MsgWithdrawReport{Report: id}.Encode()}},
				fmt.Sprintf("withdraw report %d", id))
		},
	}
	f.register(cmd)
	return cmd
}

func parseReportID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("report %q: want a report id (see mycel agent reports AGENT)", s)
	}
	return id, nil
}

// agentBallotCmds are a validator's vote and reveal on a report.
func (e *env) agentBallotCmds() (vote, reveal *cobra.Command) {
	return e.ballotCmds(ballotSpec{
		kind: "report", parse: parseReportID,
		voteUse:   "vote REPORT_ID --for reporter|agent --from VALIDATOR_KEY",
		voteShort: "Commit a validator's ballot on a report of misbehaviour",
		voteLong: `Commit a ballot (its hash: the vote stays secret until the voting window
closes) on a report; reveal it with mycel agent reveal REPORT_ID after the
window. The salt is kept in --home/ballots. Ballots weigh their validator's
bonded stake; an upheld report takes part of the agent's deposit, a rejected
one part of the reporter's bond (docs/agents.md).`,
		sides: []ballotSide{{"reporter", agent.VoteUphold, "uphold the report"}, {"agent", agent.VoteReject, "reject it"}},
		commit: func(id uint64, voter types.Address, v uint8, salt [32]byte) tx.Msg {
			return tx.Msg{Kind: agent.KindReportBallot, Body: agent.MsgReportBallot{Subject: id, Commitment: agent.BallotCommitment(id, voter, v, salt)}.Encode()}
		},
		reveal: func(id uint64, v uint8, salt [32]byte) tx.Msg {
			return tx.Msg{Kind: agent.KindReportReveal, Body: agent.MsgReportReveal{Subject: id, Vote: v, Salt: salt}.Encode()}
		},
	})
}

func (e *env) agentReportsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "reports ID",
		Short: "List the reports made against an agent",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseAgentID("agent", args[0])
			if err != nil {
				return err
			}
			c := e.client()
			if _, err := e.getAgent(ctx, c, id); err != nil {
				return err
			}
			rs, err := c.AgentReports(ctx, id)
			if err != nil {
				return err
			}
			return e.print(rs, func(w io.Writer) {
				if len(rs) == 0 {
					fmt.Fprintf(w, "no reports against agent %d\n", id)
					return
				}
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "REPORT\tREPORTER\tBOND\tHEIGHT\tSTATE\tREASON\n")
				for _, r := range rs {
					state := "open"
					if !r.Open() {
						state = fmt.Sprintf("withdrawn at %d", r.Withdrawn)
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.Reporter, r.Bond, r.Height, state, r.Reason)
				}
				tw.Flush()
			})
		},
	}
}

// The market.

func (e *env) marketCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "market",
		Short: "Buy and sell agents: a purchase pays the seller and moves the agent in one transaction",
		Long: `The agent market. An owner lists an agent at a price; a buyer buys it in one
transaction that pays the seller and moves the agent with its deposit and
reputation; its signing key is cleared until the buyer sets one (mycel agent
set-key). Listing and buying are refused while the owner has payment channels
that can still move funds: settle them first.`,
	}
	cmd.AddCommand(e.marketListCmd(), e.marketSellCmd(), e.marketDelistCmd(), e.marketBuyCmd())
	return cmd
}

func (e *env) marketListCmd() *cobra.Command {
	var after uint64
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--after ID] [--limit N]",
		Short: "List the agents for sale",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := e.client().ListAgents(cmd.Context(), agent.Filter{ForSale: true, After: after, Limit: limit})
			if err != nil {
				return err
			}
			return e.print(p, func(w io.Writer) {
				if len(p.Agents) == 0 {
					fmt.Fprintln(w, "no agents for sale")
					return
				}
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "ID\tNAME\tSALE PRICE\tSTATUS\tREPUTATION\tDEPOSIT\tOWNER\tSINCE\n")
				for _, r := range p.Agents {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", r.ID, r.Name, r.SalePrice, r.Status, reputation(r.Reputation), r.Deposit,
						r.Owner, r.OwnedSince)
				}
				tw.Flush()
				if p.Next != 0 {
					e.progress("more follow: add --after %d", p.Next)
				}
			})
		},
	}
	cmd.Flags().Uint64Var(&after, "after", 0, "start after this agent id")
	cmd.Flags().IntVar(&limit, "limit", 100, "agents to list at most")
	return cmd
}

func (e *env) marketSellCmd() *cobra.Command {
	var f txFlags
	var price string
	cmd := &cobra.Command{
		Use:   "sell ID --price AMOUNT --from KEY",
		Short: "List an agent you own for sale (again to change the price)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseAgentID("agent", args[0])
			if err != nil {
				return err
			}
			amt, err := parsePositive("--price", price)
			if err != nil {
				return err
			}
			if _, _, err := e.ownedAgent(ctx, e.client(), id); err != nil {
				return err
			}
			m := agent.MsgListForSale{Agent: id, Price: amt}
			return e.broadcast(ctx, &f, []tx.Msg{{Kind: agent.KindListForSale, Body: m.Encode()}}, fmt.Sprintf("list agent %d for sale at %s", id, amt))
		},
	}
	cmd.Flags().StringVar(&price, "price", "", "the sale price, like 50myc")
	f.register(cmd)
	return cmd
}

func (e *env) marketDelistCmd() *cobra.Command {
	return e.ownerAgentCmd("delist", "Take an agent you own off the market", agent.KindDelist)
}

func (e *env) marketBuyCmd() *cobra.Command {
	var f txFlags
	var maxPrice string
	cmd := &cobra.Command{
		Use:   "buy ID [--max-price AMOUNT] --from KEY",
		Short: "Buy a listed agent: pays the seller and makes it yours in one transaction",
		Long: `Buy a listed agent. The transaction pays at most --max-price (default: the price
listed now, so a seller who raises it meanwhile cannot charge more). The agent's
signing key is cleared: set yours with mycel agent set-key ID.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseAgentID("agent", args[0])
			if err != nil {
				return err
			}
			key, err := e.signer()
			if err != nil {
				return err
			}
			a, err := e.getAgent(ctx, e.client(), id)
			if err != nil {
				return err
			}
			if !a.ForSale {
				return fmt.Errorf("agent %d is not for sale (see mycel market list)", id)
			}
			if a.Owner == key.Address {
				return fmt.Errorf("--from %s already owns agent %d", key.Name, id)
			}
			limit := a.SalePrice
			if maxPrice != "" {
				if limit, err = types.ParseAmount(maxPrice); err != nil {
					return fmt.Errorf("--max-price: %w", err)
				}
			}
			m := agent.MsgBuy{Agent: id, MaxPrice: limit}
			if err := e.broadcast(ctx, &f, []tx.Msg{{Kind: agent.KindBuy, Body: m.Encode()}}, fmt.Sprintf("buy agent %d for %s", id, a.SalePrice)); err != nil {
				return err
			}
			e.progress("agent %d is yours; set its signing key with: mycel agent set-key %d --from %s", id, id, key.Name)
			return nil
		},
	}
	cmd.Flags().StringVar(&maxPrice, "max-price", "", "pay at most this (default: the price listed now)")
	f.register(cmd)
	return cmd
}

// Collectives.

func (e *env) collectiveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "collective",
		Short: "Collectives of agents: a manager, members who consent by signature, a revenue split",
		Long: `A collective is a group of agents managed by one of them, with a combined A2A card
and a revenue split in basis points (10000 in all) that every member accepted.
The manager's owner creates it and proposes splits (to invite, drop or reweigh
members); each member's owner joins by accepting the proposal; a new split
takes force only when all in it have accepted. Members leave at any time (their
share goes to the manager); the manager leaving dissolves it. Payments to the
collective are split on chain (mycel collective pay).`,
	}
	cmd.AddCommand(e.collectiveCreateCmd(), e.collectiveInviteCmd(), e.collectiveJoinCmd(), e.collectiveLeaveCmd(),
		e.collectiveShowCmd(), e.collectivePayCmd())
	return cmd
}

// parseSplit reads AGENT=BPS,AGENT=BPS.
func parseSplit(s string) ([]agent.Split, error) {
	if s == "" {
		return nil, errors.New("--split is required: member agents and basis points, like 1=6000,2=4000 (10000 in all, the manager among them)")
	}
	var out []agent.Split
	var sum uint64
	for _, part := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(part), "=")
		id, err1 := strconv.ParseUint(a, 10, 64)
		bps, err2 := strconv.ParseUint(b, 10, 32)
		if !ok || err1 != nil || err2 != nil || id == 0 {
			return nil, fmt.Errorf("--split %q: %q is not AGENT=BASIS_POINTS, like 1=6000", s, part)
		}
		sum += bps
		out = append(out, agent.Split{Agent: id, Bps: uint32(bps)})
	}
	if sum != agent.SplitTotal {
		return nil, fmt.Errorf("--split %q sums to %d basis points; make it %d", s, sum, agent.SplitTotal)
	}
	return out, nil
}

func (e *env) collectiveCreateCmd() *cobra.Command {
	var f txFlags
	var manager uint64
	var name, cardPath, split string
	cmd := &cobra.Command{
		Use:   "create --manager AGENT --name NAME --card CARD.json --split AGENT=BPS,... --from KEY",
		Short: "Create a collective managed by an agent you own, proposing its first split; prints its id",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if manager == 0 {
				return errors.New("--manager is required: the id of the managing agent, which --from owns")
			}
			if cardPath == "" {
				return errors.New("--card is required: the collective's combined A2A Agent Card")
			}
			sp, err := parseSplit(split)
			if err != nil {
				return err
			}
			c := e.client()
			mgr, key, err := e.ownedAgent(ctx, c, manager)
			if err != nil {
				return fmt.Errorf("--manager: %w", err)
			}
			p, err := e.agentParams(ctx, c)
			if err != nil {
				return err
			}
			cf, err := readCardFile(cardPath, p.MaxCardBytes)
			if err != nil {
				return err
			}
			if name == "" {
				name = cf.name
			}
			if err := agent.ValidateName(name); err != nil {
				return fmt.Errorf("--name: %w", err)
			}
			if err := e.upload(ctx, c, cf, key); err != nil {
				return err
			}
			m := agent.MsgCreateCollective{Manager: mgr.ID, Name: name, CardHash: cf.hash, CardSize: uint64(len(cf.bytes)), Split: sp}
			sub := f
			sub.async = false
			r, err := e.submit(ctx, &sub, []tx.Msg{{Kind: agent.KindCreateCollective, Body: m.Encode()}}, fmt.Sprintf("create collective %q", name))
			if err != nil {
				return err
			}
			id, err := eventValue(r, "collective_created", "id")
			if err != nil {
				return err
			}
			_, agreed := client.Event(r, "collective_split_agreed", "id")
			out := map[string]any{"id": id, "name": name, "manager": strconv.FormatUint(mgr.ID, 10), "card_hash": cf.hash,
				"split": sp, "agreed": agreed, "tx": r.Hash, "height": r.Height}
			return e.print(out, func(w io.Writer) {
				if agreed {
					e.progress("collective %s created in block %d; its split is in force", id, r.Height)
				} else {
					e.progress("collective %s created in block %d; each member's owner joins with: mycel collective join %s --agent AGENT --from OWNER",
						id, r.Height, id)
				}
				fmt.Fprintln(w, id)
			})
		},
	}
	fl := cmd.Flags()
	fl.Uint64Var(&manager, "manager", 0, "the managing agent's id")
	fl.StringVar(&name, "name", "", "the collective's name (default: the card's)")
	fl.StringVar(&cardPath, "card", "", "the collective's combined A2A Agent Card")
	fl.StringVar(&split, "split", "", "members and basis points: AGENT=BPS,... summing to 10000, the manager among them")
	f.register(cmd)
	return cmd
}

// parseCollectiveID reads a collective id argument.
func parseCollectiveID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("collective %q: want a collective id, a number from 1", s)
	}
	return id, nil
}

func (e *env) getCollective(ctx context.Context, c *client.Client, id uint64) (*agent.Collective, error) {
	col, err := c.Collective(ctx, id)
	if client.IsNotFound(err) {
		return nil, fmt.Errorf("no collective %d on this chain", id)
	}
	return col, err
}

func (e *env) collectiveInviteCmd() *cobra.Command {
	var f txFlags
	var cardPath, split string
	cmd := &cobra.Command{
		Use:   "invite ID --split AGENT=BPS,... [--card CARD.json] --from KEY",
		Short: "Propose a new split (to invite, drop or reweigh members); it takes force when all in it accept",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseCollectiveID(args[0])
			if err != nil {
				return err
			}
			sp, err := parseSplit(split)
			if err != nil {
				return err
			}
			c := e.client()
			col, err := e.getCollective(ctx, c, id)
			if err != nil {
				return err
			}
			_, key, err := e.ownedAgent(ctx, c, col.Manager)
			if err != nil {
				return fmt.Errorf("collective %d's manager: %w", id, err)
			}
			m := agent.MsgProposeSplit{Collective: id, CardHash: col.CardHash, CardSize: col.CardSize, Split: sp}
			if col.Proposal != nil && col.Version == 0 {
				m.CardHash, m.CardSize = col.Proposal.CardHash, col.Proposal.CardSize
			}
			if cardPath != "" {
				p, err := e.agentParams(ctx, c)
				if err != nil {
					return err
				}
				cf, err := readCardFile(cardPath, p.MaxCardBytes)
				if err != nil {
					return err
				}
				if err := e.upload(ctx, c, cf, key); err != nil {
					return err
				}
				m.CardHash, m.CardSize = cf.hash, uint64(len(cf.bytes))
			}
			if m.CardHash.IsZero() {
				return errors.New("--card is required: the collective has no card in force")
			}
			return e.broadcast(ctx, &f, []tx.Msg{{Kind: agent.KindProposeSplit, Body: m.Encode()}}, fmt.Sprintf("propose a split for collective %d", id))
		},
	}
	cmd.Flags().StringVar(&split, "split", "", "members and basis points: AGENT=BPS,... summing to 10000, the manager among them")
	cmd.Flags().StringVar(&cardPath, "card", "", "a new combined card (default: keep the one in force)")
	f.register(cmd)
	return cmd
}

func (e *env) collectiveJoinCmd() *cobra.Command {
	var f txFlags
	var agentID, version uint64
	cmd := &cobra.Command{
		Use:   "join ID --agent AGENT [--version V] --from KEY",
		Short: "Accept a collective's proposed split for an agent you own (by default the proposal pending now)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseCollectiveID(args[0])
			if err != nil {
				return err
			}
			if agentID == 0 {
				return errors.New("--agent is required: the member agent you own")
			}
			c := e.client()
			col, err := e.getCollective(ctx, c, id)
			if err != nil {
				return err
			}
			if col.Proposal == nil {
				return fmt.Errorf("collective %d has no split waiting for consent", id)
			}
			if version == 0 {
				version = col.Proposal.Version
			}
			if _, _, err := e.ownedAgent(ctx, c, agentID); err != nil {
				return fmt.Errorf("--agent: %w", err)
			}
			m := agent.MsgAcceptSplit{Collective: id, Agent: agentID, Version: version}
			return e.broadcast(ctx, &f, []tx.Msg{{Kind: agent.KindAcceptSplit, Body: m.Encode()}},
				fmt.Sprintf("accept split %d of collective %d for agent %d", version, id, agentID))
		},
	}
	cmd.Flags().Uint64Var(&agentID, "agent", 0, "the member agent you own")
	cmd.Flags().Uint64Var(&version, "version", 0, "the proposal's version (default: the one pending now)")
	f.register(cmd)
	return cmd
}

func (e *env) collectiveLeaveCmd() *cobra.Command {
	var f txFlags
	var agentID uint64
	cmd := &cobra.Command{
		Use:   "leave ID --agent AGENT --from KEY",
		Short: "Take an agent you own out of a collective (the manager leaving dissolves it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseCollectiveID(args[0])
			if err != nil {
				return err
			}
			if agentID == 0 {
				return errors.New("--agent is required: the member agent you own")
			}
			if _, _, err := e.ownedAgent(ctx, e.client(), agentID); err != nil {
				return fmt.Errorf("--agent: %w", err)
			}
			m := agent.MsgLeaveCollective{Collective: id, Agent: agentID}
			return e.broadcast(ctx, &f, []tx.Msg{{Kind: agent.KindLeaveCollective, Body: m.Encode()}},
				fmt.Sprintf("take agent %d out of collective %d", agentID, id))
		},
	}
	cmd.Flags().Uint64Var(&agentID, "agent", 0, "the member agent you own")
	f.register(cmd)
	return cmd
}

func printShares(w io.Writer, ss []agent.Share) {
	for i, s := range ss {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "agent %d %d.%02d%%", s.Agent, s.Bps/100, s.Bps%100)
		if !s.Accepted {
			fmt.Fprint(w, " (not yet accepted)")
		}
	}
}

func (e *env) collectiveShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a collective: manager, split in force, pending proposal",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseCollectiveID(args[0])
			if err != nil {
				return err
			}
			col, err := e.getCollective(cmd.Context(), e.client(), id)
			if err != nil {
				return err
			}
			return e.print(col, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "collective\t%d\n", col.ID)
				fmt.Fprintf(tw, "name\t%s\n", col.Name)
				fmt.Fprintf(tw, "manager\tagent %d\n", col.Manager)
				if col.Closed != 0 {
					fmt.Fprintf(tw, "state\tdissolved at height %d\n", col.Closed)
				}
				if col.Version == 0 {
					fmt.Fprintf(tw, "split\tnone yet: waiting for every member's consent\n")
				} else {
					fmt.Fprintf(tw, "split\tversion %d: ", col.Version)
					printShares(tw, col.Shares)
					fmt.Fprintf(tw, "\ncard\t%s (%d bytes)\n", col.CardHash, col.CardSize)
				}
				if p := col.Proposal; p != nil {
					fmt.Fprintf(tw, "proposal\tversion %d: ", p.Version)
					printShares(tw, p.Shares)
					fmt.Fprintf(tw, "\n\tmembers join with: mycel collective join %d --agent AGENT --from OWNER\n", col.ID)
				}
				fmt.Fprintf(tw, "paid\t%s in all\n", col.Paid)
				tw.Flush()
			})
		},
	}
}

func (e *env) collectivePayCmd() *cobra.Command {
	var f txFlags
	var amount string
	cmd := &cobra.Command{
		Use:   "pay ID --amount AMOUNT --from KEY",
		Short: "Pay a collective: each member's owner gets its share of the split in force",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseCollectiveID(args[0])
			if err != nil {
				return err
			}
			amt, err := parsePositive("--amount", amount)
			if err != nil {
				return err
			}
			m := agent.MsgPayCollective{Collective: id, Amount: amt}
			return e.broadcast(cmd.Context(), &f, []tx.Msg{{Kind: agent.KindPayCollective, Body: m.Encode()}}, fmt.Sprintf("pay collective %d %s", id, amt))
		},
	}
	cmd.Flags().StringVar(&amount, "amount", "", "the amount to split, like 10myc")
	f.register(cmd)
	return cmd
}
