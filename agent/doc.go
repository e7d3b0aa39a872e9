// Package agent is the Go SDK for writing mycel agents: a few handlers,
// one per skill, and the SDK does the rest.
//
//	a, _ := agent.New(agent.Config{Node: client.New(url), Key: signingKey, Owner: ownerKey,
//		Card: a2a.Card{Name: "Tides", Description: "Tide tables"}})
//	a.Handle(a2a.Skill{ID: "tides", Name: "Tide tables", Tags: []string{"sea"}}, price,
//		func(ctx context.Context, r *agent.Request) (*agent.Reply, error) {
//			return agent.Text("high water at noon"), nil
//		})
//	a.Register(ctx, agent.Registration{Deposit: types.MYC(10)})
//	a.ServeMailbox(ctx) // behind NAT; or http.ListenAndServe(addr, a.Handler())
//
// Register puts the agent on chain (its card uploaded to the node's blob
// store; the chain keeps the card's hash, the deposit, the price, the
// endpoint or none for the mailbox, and an expiry) and KeepRegistered
// renews it before it expires.
//
// An agent serves in one of two ways. With a public URL, Handler serves
// its card at /.well-known/agent-card.json, A2A's JSON-RPC binding
// (SendMessage and GetTask of 1.0, message/send and tasks/get of 0.3) at
// /a2a, and signed envelopes at /mycel/envelope, answered in the same
// HTTP exchange. Behind NAT, ServeMailbox polls a node's mailbox with
// signed fetches, opens the sealed payloads with the key derived from the
// signing key, and posts each signed answer back to the node, where the
// sender (or the A2A client the node relayed) picks it up.
//
// Every request is checked before a handler sees it: the envelope's
// signature over every field, the sender's registered signing key (for
// senders that are agents), the expiry, and a replay window keyed by the
// sender's key and nonce, so an envelope posted to several nodes runs
// once. A skill with a price runs only after the payee wallet accepted a
// payment channel voucher covering it.
//
// Call sends another agent a request, sealed to the key in its card,
// straight to its host or through its mailbox, optionally paying with a
// voucher of a payment channel to its owner, and returns the verified,
// opened answer.
package agent
