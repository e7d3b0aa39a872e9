package bench

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/internal/devnet"
	"github.com/mycelnet/mycel/keyring"
	"github.com/mycelnet/mycel/models"
	"github.com/mycelnet/mycel/node"
	"github.com/mycelnet/mycel/paywallet"
	"github.com/mycelnet/mycel/runtime/backend/cpu"
	"github.com/mycelnet/mycel/types"
	"github.com/mycelnet/mycel/worker/provider"
	rtexec "github.com/mycelnet/mycel/worker/provider/executor/runtime"
)

// PaychOptions size the payment channel benchmark.
type PaychOptions struct {
	// Vouchers is how many vouchers each verification round checks, and
	// Rounds how many rounds alternate with the raw signature checks.
	Vouchers int `json:"vouchers"`
	Rounds   int `json:"rounds"`
	// Accepts is how many vouchers the durable accepts write, one stream
	// and 64 streams.
	Accepts int `json:"accepts"`
	// Requests is how many paid and unpaid requests go through the
	// gateway, interleaved, of GenTokens tokens each.
	Requests  int       `json:"requests"`
	GenTokens int       `json:"generated_tokens"`
	Progress  io.Writer `json:"-"`
}

// PaychResult is the payment channel benchmark's outcome. Verification
// rates are per core (one goroutine). Ratio is vouchers checked per
// second over raw Ed25519 verifications per second of the same kind
// (ZIP 215, the rules consensus and the wallets use), on the same
// messages, the median of the rounds' ratios: 1 means the lane rules
// cost nothing beside the signature.
type PaychResult struct {
	VouchersPerSecond float64 `json:"vouchers_per_second"`
	Ed25519PerSecond  float64 `json:"ed25519_per_second"`
	// StdlibPerSecond is Go's crypto/ed25519.Verify, for reference.
	StdlibPerSecond float64 `json:"stdlib_ed25519_per_second"`
	Ratio           float64 `json:"ratio"`
	// AcceptsPerSecond are durable accepts (written and fsynced) of one
	// stream at a time; GroupAcceptsPerSecond of 64 streams sharing
	// fsyncs, with GroupSyncs fsyncs for GroupAccepts accepts.
	AcceptsPerSecond      float64 `json:"accepts_per_second"`
	GroupAcceptsPerSecond float64 `json:"group_accepts_per_second"`
	GroupAccepts          int     `json:"group_accepts"`
	GroupSyncs            int     `json:"group_syncs"`
	// Medians of the same completion unpaid and paid through the
	// gateway, interleaved in pairs; AddedSeconds is the median of the
	// pairs' differences, Overhead that over the unpaid median.
	UnpaidSeconds float64 `json:"unpaid_seconds"`
	PaidSeconds   float64 `json:"paid_seconds"`
	AddedSeconds  float64 `json:"added_seconds"`
	Overhead      float64 `json:"overhead"`
	// PaymentWorkSeconds is what paying adds to a request when nothing
	// overlaps, measured alone on one core: the payer's voucher (signed,
	// deferred as the Go client makes it: its write starts, and a nonce
	// reservation is fsynced once per 256), its text parsed and its signature checked by the
	// node, and the provider's reservation (checked, fsynced) and
	// settlement. The provider's fsync overlaps generation in fact, so
	// this is an upper bound.
	PaymentWorkSeconds float64 `json:"payment_work_seconds"`
	WorkOverhead       float64 `json:"work_overhead"`
	// The on-chain cost of a redeem: its fee and its transaction's size;
	// and a voucher's size, binary and as the header's text.
	RedeemFee    types.Amount `json:"redeem_fee"`
	RedeemBytes  int          `json:"redeem_bytes"`
	VoucherBytes int          `json:"voucher_bytes"`
	HeaderBytes  int          `json:"header_bytes"`
	Options      PaychOptions `json:"options"`
	Settings     string       `json:"settings"`
}

// Paych measures vouchers verified per second against raw Ed25519, the
// durable accept, the latency a payment adds to a request through the
// gateway, and the cost of a redeem on chain.
func Paych(ctx context.Context, o PaychOptions) (PaychResult, error) {
	if o.Vouchers <= 0 {
		o.Vouchers = 1000
	}
	if o.Rounds <= 0 {
		o.Rounds = 21
	}
	if o.Accepts <= 0 {
		o.Accepts = 200
	}
	if o.Requests <= 0 {
		o.Requests = 150
	}
	if o.GenTokens <= 0 {
		o.GenTokens = 32
	}
	res := PaychResult{Options: o, Settings: "verification on one goroutine: paywallet.Payee.Check (signature and lane rules) against the same signatures " +
		"by curve25519-voi's ZIP 215 verification and by crypto/ed25519, alternating rounds; accepts fsynced to the temporary directory; " +
		"requests through a one-validator devnet in process (1 s blocks) to two in-process providers of mycel-kjv alike but for the price, " +
		"the paid one through client.PayingTransport (one voucher each, deferred: written after it is sent, its nonce reserved before), alternating; medians"}
	dir, err := os.MkdirTemp("", "mycel-bench-paych-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	if err := verifyRates(o, dir, &res); err != nil {
		return res, err
	}
	if err := acceptRates(o, dir, &res); err != nil {
		return res, err
	}
	if err := paymentWork(o, dir, &res); err != nil {
		return res, err
	}
	if err := paidLatency(ctx, o, dir, &res); err != nil {
		return res, err
	}
	res.WorkOverhead = res.PaymentWorkSeconds / res.UnpaidSeconds
	return res, nil
}

// paymentWork times, alone, each step a paid request adds: the payer's
// voucher, the node's checks, the provider's reservation and settlement.
func paymentWork(o PaychOptions, dir string, res *PaychResult) error {
	say(o.Progress, "paych: %d payments' work, step by step, one at a time ...", o.Accepts)
	key := benchKey(1)
	payee := types.AddressFromPubKey(benchKey(2).Public().(ed25519.PublicKey))
	ch := benchChannel(key, payee)
	payer, err := paywallet.OpenPayer(filepath.Join(dir, "work-payer"), benchChain, key)
	if err != nil {
		return err
	}
	defer payer.Close()
	p, err := paywallet.OpenPayee(filepath.Join(dir, "work-payee"), benchChain, payee, paywallet.PayeeOptions{})
	if err != nil {
		return err
	}
	defer p.Close()
	if err := payer.Track(ch); err != nil {
		return err
	}
	if err := p.Track(ch); err != nil {
		return err
	}
	const cost = 32
	var spent types.Amount
	start := time.Now()
	for i := 0; i < o.Accepts; i++ {
		v, err := payer.Make(paywallet.VoucherRequest{Channel: 1, Amount: spent + cost, Deferred: true})
		if err != nil {
			return err
		}
		got, err := paych.ParseVoucher(v.String())
		if err != nil {
			return err
		}
		if err := got.Verify(benchChain, ch.VoucherKey); err != nil {
			return err
		}
		r, err := p.Reserve(got, cost)
		if err != nil {
			return err
		}
		if err := r.Wait(); err != nil {
			return err
		}
		spent = r.Settle(cost / 2).Spent
	}
	res.PaymentWorkSeconds = time.Since(start).Seconds() / float64(o.Accepts)
	return nil
}

// benchChannel is a channel the verification benchmarks' payee holds.
func benchChannel(key ed25519.PrivateKey, payee types.Address) paych.Channel {
	return paych.Channel{ID: 1, Payee: payee, VoucherKey: paych.KeyOf(key), Deposit: types.MaxAmount}
}

const benchChain = "mycel-bench"

// verifyRates times Payee.Check beside raw signature checks of the same
// signed bytes, in alternating rounds.
func verifyRates(o PaychOptions, dir string, res *PaychResult) error {
	say(o.Progress, "paych: %d rounds of %d voucher checks and as many raw Ed25519 verifications ...", o.Rounds, o.Vouchers)
	key := benchKey(1)
	payee := types.AddressFromPubKey(benchKey(2).Public().(ed25519.PublicKey))
	p, err := paywallet.OpenPayee(filepath.Join(dir, "verify"), benchChain, payee, paywallet.PayeeOptions{})
	if err != nil {
		return err
	}
	defer p.Close()
	if err := p.Track(benchChannel(key, payee)); err != nil {
		return err
	}
	vs := make([]paych.Voucher, o.Vouchers)
	msgs := make([][]byte, o.Vouchers)
	for i := range vs {
		vs[i] = paych.Voucher{Channel: 1, Lane: uint64(i % 8), Nonce: uint64(i + 1), Amount: types.Amount(1000 * (i + 1))}
		vs[i].Sign(benchChain, key)
		msgs[i] = vs[i].SignBytes(benchChain)
	}
	res.VoucherBytes, res.HeaderBytes = len(vs[0].Encode()), len(vs[0].String())
	pub := key.Public().(ed25519.PublicKey)
	var tv, tz, ts time.Duration
	var ratios []float64
	for r := 0; r < o.Rounds; r++ {
		start := time.Now()
		for i := range vs {
			if _, err := p.Check(vs[i], 0); err != nil {
				return fmt.Errorf("voucher %s: %w", vs[i].Ref(), err)
			}
		}
		dv := time.Since(start)
		start = time.Now()
		for i := range vs {
			if !types.VerifySignature(pub, msgs[i], vs[i].Signature[:]) {
				return fmt.Errorf("signature %d does not verify", i)
			}
		}
		dz := time.Since(start)
		tv, tz = tv+dv, tz+dz
		ratios = append(ratios, dz.Seconds()/dv.Seconds())
		start = time.Now()
		for i := range vs {
			if !ed25519.Verify(pub, msgs[i], vs[i].Signature[:]) {
				return fmt.Errorf("signature %d does not verify", i)
			}
		}
		ts += time.Since(start)
	}
	n := float64(o.Rounds * o.Vouchers)
	res.VouchersPerSecond, res.Ed25519PerSecond, res.StdlibPerSecond = n/tv.Seconds(), n/tz.Seconds(), n/ts.Seconds()
	// The ratio is the median of the rounds' own: a neighbour's burst of
	// work on a shared machine slows one round, not the median.
	slices.Sort(ratios)
	res.Ratio = ratios[len(ratios)/2]
	return nil
}

// acceptRates times durable accepts: one stream, then 64 streams on
// lanes of their own.
func acceptRates(o PaychOptions, dir string, res *PaychResult) error {
	say(o.Progress, "paych: %d durable accepts, one stream, then 64 streams ...", o.Accepts)
	key := benchKey(1)
	payee := types.AddressFromPubKey(benchKey(2).Public().(ed25519.PublicKey))
	p, err := paywallet.OpenPayee(filepath.Join(dir, "accept"), benchChain, payee, paywallet.PayeeOptions{})
	if err != nil {
		return err
	}
	defer p.Close()
	if err := p.Track(benchChannel(key, payee)); err != nil {
		return err
	}
	voucher := func(lane, nonce uint64) paych.Voucher {
		v := paych.Voucher{Channel: 1, Lane: lane, Nonce: nonce, Amount: types.Amount(nonce)}
		v.Sign(benchChain, key)
		return v
	}
	one := make([]paych.Voucher, o.Accepts)
	for i := range one {
		one[i] = voucher(1000, uint64(i+1))
	}
	start := time.Now()
	for _, v := range one {
		if _, err := p.Accept(v, 0); err != nil {
			return err
		}
	}
	res.AcceptsPerSecond = float64(len(one)) / time.Since(start).Seconds()
	const streams = 64
	per := max(o.Accepts/8, 1)
	lanes := make([][]paych.Voucher, streams)
	for s := range lanes {
		for i := 0; i < per; i++ {
			lanes[s] = append(lanes[s], voucher(uint64(s), uint64(i+1)))
		}
	}
	syncs := p.Syncs()
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	start = time.Now()
	for s := range lanes {
		wg.Go(func() {
			for _, v := range lanes[s] {
				if _, err := p.Accept(v, 0); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	res.GroupAccepts = streams * per
	res.GroupAcceptsPerSecond = float64(res.GroupAccepts) / time.Since(start).Seconds()
	res.GroupSyncs = p.Syncs() - syncs
	return nil
}

// paidLatency runs a devnet with two in-process providers of mycel-kjv,
// one free and one at 1 umyc per token, and times the same completion
// through the gateway unpaid and paid, interleaved; then it redeems the
// paid lane's voucher, for the cost of a redeem.
func paidLatency(ctx context.Context, o PaychOptions, dir string, res *PaychResult) error {
	home := filepath.Join(dir, "devnet")
	say(o.Progress, "paych: starting a devnet with a free and a paid provider ...")
	// One-second blocks, as the gateway benchmark's: no request waits on
	// a block, and faster ones would only add consensus work competing for
	// the cores.
	net, err := devnet.Start(ctx, devnet.Options{Home: home, APIAddr: "127.0.0.1:0", RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0",
		BlockTime: time.Second, Logger: quiet()})
	if err != nil {
		return err
	}
	defer net.Stop()
	if err := net.WaitHeight(ctx, 1); err != nil {
		return err
	}
	base := net.Nodes[0].APIURL()
	c := client.New(base)
	chainID := net.Nodes[0].ChainID()
	kr := keyring.Open(node.KeyringDir(home))
	alice, err := kr.Get("alice")
	if err != nil {
		return err
	}
	bob, _ := kr.Get("bob")
	carol, _ := kr.Get("carol")
	wallet, err := paywallet.OpenPayee(filepath.Join(dir, "payee"), chainID, bob.Address, paywallet.PayeeOptions{})
	if err != nil {
		return err
	}
	defer wallet.Close()
	pctx, stop := context.WithCancel(ctx)
	var workers sync.WaitGroup
	defer workers.Wait()
	defer stop()
	for _, k := range []struct {
		key keyring.Key
		pay *provider.Payments
	}{{carol, nil}, {bob, &provider.Payments{PricePerToken: 1, Wallet: wallet}}} {
		engine := rtexec.New(cpu.New(0))
		if _, err := engine.Add(models.KJV(), models.KJVName); err != nil {
			return err
		}
		profile := provider.Detect(ctx)
		profile.Score = 1000
		p, err := provider.New(provider.Config{Client: c, Key: k.key.Private, Profile: profile, Price: 1, Slots: 1,
			Logger: quiet(), Poll: 10 * time.Second, Grace: time.Second, Engine: engine, ServeSlots: 2, Payments: k.pay})
		if err != nil {
			return err
		}
		workers.Go(func() { _ = p.Run(pctx) })
	}
	// Alice opens a channel to bob; her wallet tracks it.
	r, err := c.OpenChannel(ctx, alice.Private, paych.MsgOpen{Payee: bob.Address, VoucherKey: paych.KeyOf(alice.Private), Amount: types.MYC(1)}, client.TxOptions{})
	if err != nil {
		return err
	}
	tr, err := c.WaitTx(ctx, r.Hash)
	if err != nil || !tr.OK() {
		return fmt.Errorf("open a channel: %v %s", err, tr.Log)
	}
	idStr, _ := client.Event(tr, "channel_opened", "id")
	id, _ := strconv.ParseUint(idStr, 10, 64)
	payer, err := paywallet.OpenPayer(filepath.Join(dir, "payer"), chainID, alice.Private)
	if err != nil {
		return err
	}
	defer payer.Close()
	ch, err := c.Channel(ctx, id)
	if err != nil {
		return err
	}
	if err := payer.Track(*ch); err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{"model": models.KJVName, "prompt": "And it came to pass", "max_tokens": o.GenTokens,
		"temperature": 0, "seed": 0})
	url := base + "/v1/completions"
	unpaid, paid := &http.Client{}, &http.Client{Transport: client.NewPayingTransport(payer, id)}
	send := func(hc *http.Client) (time.Duration, error) {
		start := time.Now()
		cp, err := postCompletion(hc, url, body)
		if err != nil {
			return 0, err
		}
		if cp.Usage == nil || cp.Usage.CompletionTokens != o.GenTokens || (hc == paid) != (cp.Payment != nil) {
			return 0, fmt.Errorf("answer %+v: want %d tokens, paid %v", cp.Usage, o.GenTokens, hc == paid)
		}
		return time.Since(start), nil
	}
	say(o.Progress, "paych: waiting for both providers ...")
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, e1 := send(unpaid)
		_, e2 := send(paid)
		if e1 == nil && e2 == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the providers did not answer: %v; %v", e1, e2)
		}
	}
	say(o.Progress, "paych: %d requests of %d tokens each way ...", o.Requests, o.GenTokens)
	var u, p, diff []time.Duration
	for i := 0; i < o.Requests; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		order := []*http.Client{unpaid, paid}
		if i%2 == 1 {
			order[0], order[1] = paid, unpaid
		}
		for _, hc := range order {
			d, err := send(hc)
			if err != nil {
				return err
			}
			if hc == paid {
				p = append(p, d)
			} else {
				u = append(u, d)
			}
		}
		diff = append(diff, p[i]-u[i])
	}
	slices.Sort(u)
	slices.Sort(p)
	slices.Sort(diff)
	// The added time is the median of the pairs' differences: on a shared
	// machine it drifts less than the difference of the medians.
	res.UnpaidSeconds, res.PaidSeconds = u[len(u)/2].Seconds(), p[len(p)/2].Seconds()
	res.AddedSeconds = diff[len(diff)/2].Seconds()
	res.Overhead = res.AddedSeconds / res.UnpaidSeconds
	// The redeem of the lane's last voucher, by bob, with the least fee
	// the schedule asks: its fee and size.
	stop()
	workers.Wait()
	best := wallet.Best(id)
	if len(best) == 0 {
		return fmt.Errorf("the paid provider kept no voucher")
	}
	msg := []tx.Msg{{Kind: paych.KindRedeem, Body: paych.MsgRedeem{Voucher: best[len(best)-1]}.Encode()}}
	t, raw, err := c.BuildTx(ctx, bob.Private, msg, client.TxOptions{})
	if err != nil {
		return err
	}
	sub, err := c.SubmitTx(ctx, raw)
	if err != nil {
		return err
	}
	if tr, err := c.WaitTx(ctx, sub.Hash); err != nil || !tr.OK() {
		return fmt.Errorf("redeem: %v %s", err, tr.Log)
	}
	res.RedeemFee, res.RedeemBytes = t.Fee, len(raw)
	return nil
}
