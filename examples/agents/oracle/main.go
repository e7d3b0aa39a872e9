// Command oracle is an example mycel agent that answers questions with a
// model served by the network's OpenAI-compatible gateway (on a devnet,
// mycel's own mycel-kjv). It runs behind NAT: it registers without an
// endpoint, so its card sends A2A clients to a node's relay, and it
// polls that node's mailbox. It renews its registration before it
// expires.
//
//	go run ./examples/agents/oracle --home ~/.mycel --owner bob
//
// It prints one JSON line, {"agent": ID, "card": URL}, once it serves.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mycelnet/mycel/a2a"
	"github.com/mycelnet/mycel/agent"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/types"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "oracle:", err)
		os.Exit(1)
	}
}

func run() error {
	nodeURL := flag.String("node", "http://127.0.0.1:8844", "the node's API")
	home := flag.String("home", os.ExpandEnv("$HOME/.mycel"), "the home whose keyring holds the keys")
	ownerName := flag.String("owner", "", "the owner's key in the keyring (registers, renews)")
	signing := flag.String("signing-key", "", "the agent's signing key in the keyring, made if missing (default OWNER-oracle)")
	id := flag.Uint64("id", 0, "serve an agent registered before, instead of registering")
	deposit := flag.String("deposit", "10myc", "the registration's deposit")
	model := flag.String("model", "", "the gateway's model (default: the first it lists)")
	maxTokens := flag.Int("max-tokens", 24, "the longest answer, in tokens")
	flag.Parse()
	if *ownerName == "" {
		return errors.New("--owner is required")
	}
	if *signing == "" {
		*signing = *ownerName + "-oracle"
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	g := &gateway{url: strings.TrimRight(*nodeURL, "/"), model: *model, maxTokens: *maxTokens}
	a, err := agent.New(agent.Config{Node: client.New(*nodeURL), Key: sk.Private, Owner: owner.Private, ID: *id, Logf: log.Printf,
		StateDir: filepath.Join(*home, "agents", *signing),
		Card: a2a.Card{Name: "KJV Oracle", Description: "Answers in the words of the King James Bible, with the network's model",
			Provider: &a2a.Provider{Organization: "mycel examples", URL: "https://github.com/mycelnet/mycel"}}})
	if err != nil {
		return err
	}
	defer a.Close() // after serving stops: the replay window's file
	a.Handle(a2a.Skill{ID: "ask", Name: "Ask the oracle", Description: "A question in, a verse-like answer out",
		Tags: []string{"llm", "text", "kjv"}, Examples: []string{"What is wisdom?"}}, 0,
		func(ctx context.Context, r *agent.Request) (*agent.Reply, error) {
			text, err := g.ask(ctx, r.Text())
			if err != nil {
				return nil, err
			}
			return agent.Text(text), nil
		})
	if *id == 0 {
		if *id, err = a.Register(ctx, agent.Registration{Deposit: dep}); err != nil {
			return err
		}
	} else if err := a.EnsureCard(ctx); err != nil {
		return err
	}
	out, _ := json.Marshal(map[string]any{"agent": *id, "card": fmt.Sprintf("%s/agents/%d%s", g.url, *id, a2a.WellKnownPath)})
	fmt.Println(string(out))
	go a.KeepRegistered(ctx, 100, 30*time.Second)
	err = a.ServeMailbox(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// gateway asks the node's OpenAI-compatible chat completions.
type gateway struct {
	url       string
	model     string
	maxTokens int
}

func (g *gateway) ask(ctx context.Context, question string) (string, error) {
	if g.model == "" {
		m, err := g.firstModel(ctx)
		if err != nil {
			return "", err
		}
		g.model = m
	}
	req, _ := json.Marshal(map[string]any{"model": g.model, "max_tokens": g.maxTokens, "temperature": 0, "seed": 1,
		"messages": []map[string]string{{"role": "user", "content": question}}})
	var resp struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := post(ctx, g.url+"/v1/chat/completions", req, &resp); err != nil {
		return "", err
	}
	if resp.Error != nil {
		return "", fmt.Errorf("the gateway: %s", resp.Error.Message)
	}
	if len(resp.Choices) == 0 {
		return "", errors.New("the gateway answered no choice")
	}
	return strings.TrimSpace(resp.Choices[0].Message.Content), nil
}

// firstModel waits for the gateway to list a model.
func (g *gateway) firstModel(ctx context.Context) (string, error) {
	for {
		var list struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.url+"/v1/models", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			err = json.NewDecoder(resp.Body).Decode(&list)
			resp.Body.Close()
			if err == nil && len(list.Data) > 0 {
				return list.Data[0].ID, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", errors.New("the gateway lists no model: is a provider serving one?")
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func post(ctx context.Context, url string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}
