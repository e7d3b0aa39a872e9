// Command manager is an example mycel agent that manages a collective:
// it takes paid tasks on its own host, hands each to a member of the
// collective it manages (in turn), answers with the member's answer, and
// shares what the task paid among the members by the split they agreed
// to (a collective payment on chain, from its owner's account). It checks
// each task's payment channel voucher with its owner's payee wallet
// before routing it, and a watcher redeems the vouchers as they grow.
//
//	go run ./examples/agents/manager --home ~/.mycel --owner alice --listen 127.0.0.1:8850 --price 1myc
//
// It prints one JSON line, {"agent": ID, "card": URL}, once it serves.
// Form its collective with mycel collective create --manager ID ...; the
// members join with mycel collective join.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/mycelnet/mycel/a2a"
	"github.com/mycelnet/mycel/agent"
	registry "github.com/mycelnet/mycel/chain/agent"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/types"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
}

func run() error {
	nodeURL := flag.String("node", "http://127.0.0.1:8844", "the node's API")
	home := flag.String("home", os.ExpandEnv("$HOME/.mycel"), "the home whose keyring holds the keys")
	ownerName := flag.String("owner", "", "the owner's key in the keyring (registers, pays the collective, redeems vouchers)")
	signing := flag.String("signing-key", "", "the agent's signing key in the keyring, made if missing (default OWNER-manager)")
	id := flag.Uint64("id", 0, "serve an agent registered before, instead of registering")
	listen := flag.String("listen", "127.0.0.1:0", "where the agent's host listens")
	publicURL := flag.String("public-url", "", "the host's URL as others reach it (default http://LISTEN)")
	deposit := flag.String("deposit", "10myc", "the registration's deposit")
	priceFlag := flag.String("price", "1myc", "what a task pays")
	walletDir := flag.String("wallet", "", "the payee wallet's directory (default HOME/agents/SIGNING-KEY/payee)")
	flag.Parse()
	if *ownerName == "" {
		return errors.New("--owner is required")
	}
	if *signing == "" {
		*signing = *ownerName + "-manager"
	}
	kr := keyring.Open(node.KeyringDir(*home))
	owner, err := kr.Get(*ownerName)
	if err != nil {
		return err
	}
	sk, err := kr.Get(*signing)
	if errors.Is(err, keyring.ErrNotFound) {
		sk, err = kr.Add(*signing)
	}
	if err != nil {
		return err
	}
	dep, err := types.ParseAmount(*deposit)
	if err != nil {
		return fmt.Errorf("--deposit: %w", err)
	}
	price, err := types.ParseAmount(*priceFlag)
	if err != nil {
		return fmt.Errorf("--price: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	c := client.New(*nodeURL)
	chainID, err := c.ChainID(ctx)
	if err != nil {
		return err
	}
	if *walletDir == "" {
		*walletDir = filepath.Join(*home, "agents", *signing, "payee")
	}
	payee, err := paywallet.OpenPayee(*walletDir, chainID, owner.Address, paywallet.PayeeOptions{})
	if err != nil {
		return err
	}
	defer payee.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	if *publicURL == "" {
		*publicURL = "http://" + ln.Addr().String()
	}

	a, err := agent.New(agent.Config{Node: c, Key: sk.Private, Owner: owner.Private, ID: *id, PublicURL: *publicURL, Payee: payee,
		StateDir: filepath.Join(*home, "agents", *signing), Logf: log.Printf, Card: a2a.Card{Name: "Crew manager", Description: "Routes each task to a member of its collective and shares the pay"}})
	if err != nil {
		return err
	}
	defer a.Close() // after serving stops: the replay window's file
	m := &manager{a: a, node: c}
	a.Handle(a2a.Skill{ID: "ask", Name: "Ask the crew", Description: "A task for the collective's members, paid per task",
		Tags: []string{"collective", "text"}}, price, m.route)
	if *id == 0 {
		if *id, err = a.Register(ctx, agent.Registration{Deposit: dep, Price: price}); err != nil {
			return err
		}
	} else if err := a.EnsureCard(ctx); err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	go a.KeepRegistered(ctx, 100, 30*time.Second)
	w := &paywallet.Watcher{Payee: payee, Chain: client.Payee{Client: c, Key: owner.Private}, RedeemAbove: price, Logf: log.Printf}
	go w.Run(ctx)
	out, _ := json.Marshal(map[string]any{"agent": *id, "card": *publicURL + a2a.WellKnownPath})
	fmt.Println(string(out))
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// manager routes tasks to its collective's members.
type manager struct {
	a    *agent.Agent
	node *client.Client
	mu   sync.Mutex
	next int
}

// collective returns the open collective the agent manages whose split
// is in force.
func (m *manager) collective(ctx context.Context) (*registry.Collective, error) {
	cs, err := m.node.AgentCollectives(ctx, m.a.ID())
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Manager == m.a.ID() && c.Version > 0 && c.Closed == 0 {
			return c, nil
		}
	}
	return nil, fmt.Errorf("agent %d manages no collective whose members all agreed to a split yet", m.a.ID())
}

func (m *manager) route(ctx context.Context, r *agent.Request) (*agent.Reply, error) {
	c, err := m.collective(ctx)
	if err != nil {
		return nil, err
	}
	var members []uint64
	for _, s := range c.Shares {
		if s.Agent != c.Manager {
			members = append(members, s.Agent)
		}
	}
	if len(members) == 0 {
		return nil, fmt.Errorf("collective %d has no member but its manager", c.ID)
	}
	m.mu.Lock()
	member := members[m.next%len(members)]
	m.next++
	m.mu.Unlock()
	ans, err := m.a.Call(ctx, member, agent.Call{Text: r.Text(), Session: r.Session})
	if err != nil {
		return nil, fmt.Errorf("member agent %d: %w", member, err)
	}
	if err := ans.Err(); err != nil {
		return nil, fmt.Errorf("member agent %d: %w", member, err)
	}
	// The task's pay goes to the members by the agreed split, the
	// manager's own share included.
	if r.Paid > 0 {
		if err := m.a.PayCollective(ctx, c.ID, r.Paid); err != nil {
			log.Printf("manager %d: paying collective %d %s for request %s: %v", m.a.ID(), c.ID, r.Paid, r.ID, err)
		}
	}
	rep := &agent.Reply{Message: ans.Message, Artifacts: ans.Artifacts}
	if rep.Message == nil {
		rep = agent.Text(ans.Text())
	}
	return rep, nil
}
