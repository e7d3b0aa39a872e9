package paych_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mycelnet/mycel/chain/bank"
	"github.com/mycelnet/mycel/chain/exec"
	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/chain/store"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/types"
)

func signed(v paych.Voucher) paych.Voucher {
	v.Sign(chaintest.ChainID, key("alice"))
	return v
}

func TestVoucherEncoding(t *testing.T) {
	for _, v := range []paych.Voucher{
		signed(paych.Voucher{Channel: 1, Nonce: 1, Amount: 1}),
		signed(paych.Voucher{Channel: 1 << 60, Lane: 1<<64 - 1, Nonce: 1<<64 - 1, Amount: types.MaxAmount, MinSettleHeight: 1<<63 - 1, Expiry: 1<<63 - 1}),
		{}, // unsigned: encodes all the same
	} {
		b := v.Encode()
		if len(b) > paych.MaxVoucherLen {
			t.Fatalf("%d bytes, more than MaxVoucherLen", len(b))
		}
		got, err := paych.DecodeVoucher(b)
		if err != nil || got != v {
			t.Fatalf("binary round trip: %+v, %v; want %+v", got, err, v)
		}
		if got, err := paych.ParseVoucher(v.String()); err != nil || got != v {
			t.Fatalf("text round trip %q: %+v, %v", v.String(), got, err)
		}
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back paych.Voucher
		if err := json.Unmarshal(j, &back); err != nil || back != v {
			t.Fatalf("JSON round trip %s: %+v, %v", j, back, err)
		}
		if got, err := paych.ParseVoucher(string(j)); err != nil || got != v {
			t.Fatalf("ParseVoucher of JSON %s: %+v, %v", j, got, err)
		}
	}
	// The JSON form, as files and -o json show it.
	v := signed(paych.Voucher{Channel: 7, Lane: 2, Nonce: 3, Amount: 3_000_000, MinSettleHeight: 10, Expiry: 500})
	j, _ := json.Marshal(v)
	want := `{"channel":"7","lane":"2","nonce":"3","amount":"3000000","min_settle_height":10,"expiry_height":500,"signature":"`
	if !strings.HasPrefix(string(j), want) {
		t.Fatalf("JSON %s", j)
	}
	// Bare numbers are read too.
	var n paych.Voucher
	bare := strings.NewReplacer(`"7"`, `7`, `"2"`, `2`, `"3"`, `3`, `"3000000"`, `3000000`).Replace(string(j))
	if err := json.Unmarshal([]byte(bare), &n); err != nil || n != v {
		t.Fatalf("bare numbers %s: %+v %v", bare, n, err)
	}
}

func TestVoucherDecodeRefusals(t *testing.T) {
	good := signed(paych.Voucher{Channel: 1, Lane: 0, Nonce: 1, Amount: 5}).Encode()
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"version 2", append([]byte{2}, good[1:]...)},
		{"truncated signature", good[:len(good)-1]},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"non-minimal varint", append([]byte{1, 0x81, 0x00}, good[2:]...)},
		{"height above int64", append([]byte{1, 1, 0, 1, 5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0}, good[7:]...)},
	} {
		if _, err := paych.DecodeVoucher(tc.b); !errors.Is(err, paych.ErrMalformed) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	for _, s := range []string{
		"", "not base64!", strings.Repeat("A", 400), `{"channel": "1"}`, `{"channel":"1","lane":"0","nonce":"1","amount":"1","signature":"00"}`,
		`{"channel":"-1","lane":"0","nonce":"1","amount":"1","signature":"` + strings.Repeat("00", 64) + `"}`,
		`{"channel":"1","lane":"0","nonce":"1","amount":"1","min_settle_height":-1,"signature":"` + strings.Repeat("00", 64) + `"}`,
	} {
		if _, err := paych.ParseVoucher(s); err == nil {
			t.Errorf("ParseVoucher(%q) accepted", s)
		}
	}
}

// The signature covers the chain, channel, lane, nonce, amount and both
// heights: changing any of them breaks it.
func TestVoucherSignatureCoversEveryField(t *testing.T) {
	v := signed(paych.Voucher{Channel: 1, Lane: 2, Nonce: 3, Amount: 4, MinSettleHeight: 5, Expiry: 6})
	pub := paych.KeyOf(key("alice"))
	if err := v.Verify(chaintest.ChainID, pub); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify("another-chain", pub); !errors.Is(err, paych.ErrBadSignature) {
		t.Fatalf("another chain: %v", err)
	}
	if err := v.Verify(chaintest.ChainID, paych.KeyOf(key("bob"))); !errors.Is(err, paych.ErrBadSignature) {
		t.Fatalf("another key: %v", err)
	}
	for name, change := range map[string]func(*paych.Voucher){
		"channel": func(v *paych.Voucher) { v.Channel++ }, "lane": func(v *paych.Voucher) { v.Lane++ },
		"nonce": func(v *paych.Voucher) { v.Nonce++ }, "amount": func(v *paych.Voucher) { v.Amount++ },
		"min settle": func(v *paych.Voucher) { v.MinSettleHeight++ }, "expiry": func(v *paych.Voucher) { v.Expiry++ },
		"signature": func(v *paych.Voucher) { v.Signature[0] ^= 1 },
	} {
		w := v
		change(&w)
		if err := w.Verify(chaintest.ChainID, pub); !errors.Is(err, paych.ErrBadSignature) {
			t.Errorf("%s changed: %v", name, err)
		}
	}
}

func TestMessagesRoundTrip(t *testing.T) {
	open := paych.MsgOpen{Payee: chaintest.Addr("bob"), VoucherKey: paych.KeyOf(key("alice")), Amount: 12}
	if got, err := paych.DecodeMsgOpen(open.Encode()); err != nil || got != open {
		t.Fatalf("open: %+v %v", got, err)
	}
	top := paych.MsgTopUp{Channel: 3, Amount: 9}
	if got, err := paych.DecodeMsgTopUp(top.Encode()); err != nil || got != top {
		t.Fatalf("top up: %+v %v", got, err)
	}
	ch := paych.MsgChannel{Channel: 1 << 40}
	if got, err := paych.DecodeMsgChannel(ch.Encode()); err != nil || got != ch {
		t.Fatalf("channel: %+v %v", got, err)
	}
	for name, b := range map[string][]byte{
		"open": open.Encode()[:10], "top up": append(top.Encode(), 1), "channel": nil, "redeem": {1, 2, 3},
	} {
		var err error
		switch name {
		case "open":
			_, err = paych.DecodeMsgOpen(b)
		case "top up":
			_, err = paych.DecodeMsgTopUp(b)
		case "channel":
			_, err = paych.DecodeMsgChannel(b)
		case "redeem":
			_, err = paych.DecodeMsgRedeem(b)
		}
		if !errors.Is(err, paych.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParams(t *testing.T) {
	if err := paych.DefaultParams().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []paych.Params{
		{SettleBlocks: 0, MinDeposit: 1}, {SettleBlocks: -1, MinDeposit: 1}, {SettleBlocks: paych.MaxSettleBlocks + 1, MinDeposit: 1},
		{SettleBlocks: 1, MinDeposit: 0},
	} {
		if err := paych.InitGenesis(store.NewMemDB(), p); err == nil {
			t.Errorf("%+v accepted", p)
		}
	}
	db := store.NewMemDB()
	if got := paych.GetParams(db); got != paych.DefaultParams() {
		t.Fatalf("a state without params reads %+v", got)
	}
	p := paych.Params{SettleBlocks: 17, MinDeposit: 42}
	if err := paych.InitGenesis(db, p); err != nil || paych.GetParams(db) != p {
		t.Fatalf("%+v %v", paych.GetParams(db), err)
	}
	var back paych.Params
	b, _ := json.Marshal(p)
	if err := json.Unmarshal(b, &back); err != nil || back != p || !strings.Contains(string(b), `"settle_blocks":17`) {
		t.Fatalf("JSON %s", b)
	}
}

// channels is chaintest.State with the scenario parameters and three
// channels: 1 alice→bob 10myc with 3myc redeemed on lane 0, 2 alice→carol
// 5myc settling at height 9, 3 bob→carol 2myc collected.
func channels(t testing.TB) *store.MemDB {
	db := chaintest.State(t)
	if err := paych.InitGenesis(db, scenarioParams()); err != nil {
		t.Fatal(err)
	}
	v := paych.Voucher{Channel: 1, Nonce: 1, Amount: types.MYC(3)}
	v.Sign(chaintest.ChainID, key("alice"))
	steps := []struct {
		who  string
		h    int64
		fn   func(exec.Ctx, types.Address, []byte) error
		body []byte
	}{
		{"alice", 1, keeper.HandleOpen, paych.MsgOpen{Payee: chaintest.Addr("bob"), VoucherKey: paych.KeyOf(key("alice")), Amount: types.MYC(10)}.Encode()},
		{"alice", 1, keeper.HandleOpen, paych.MsgOpen{Payee: chaintest.Addr("carol"), VoucherKey: paych.KeyOf(key("alice")), Amount: types.MYC(5)}.Encode()},
		{"bob", 1, keeper.HandleOpen, paych.MsgOpen{Payee: chaintest.Addr("carol"), VoucherKey: paych.KeyOf(key("bob")), Amount: types.MYC(2)}.Encode()},
		{"bob", 2, keeper.HandleRedeem, paych.MsgRedeem{Voucher: v}.Encode()},
		{"bob", 2, keeper.HandleSettle, paych.MsgChannel{Channel: 3}.Encode()},
		{"carol", 4, keeper.HandleSettle, paych.MsgChannel{Channel: 2}.Encode()},
		{"carol", 7, keeper.HandleCollect, paych.MsgChannel{Channel: 3}.Encode()},
	}
	for _, s := range steps {
		c := store.NewCache(db)
		if err := s.fn(exec.New(c, chaintest.Block(s.h)), chaintest.Addr(s.who), s.body); err != nil {
			t.Fatal(err)
		}
		db.Apply(c.Changes())
	}
	return db
}

func TestInvariantCatchesCorruption(t *testing.T) {
	bal := func(kv store.KV, a types.Address) types.Amount { return bank.Balance(kv, a) }
	for _, tc := range []struct {
		name    string
		corrupt func(kv store.KV)
	}{
		{"escrow short", func(kv store.KV) {
			if err := bank.Send(kv, paych.Escrow, chaintest.Addr("alice"), 1); err != nil {
				panic(err)
			}
		}},
		{"a lost lane", func(kv store.KV) {
			kv.Delete(append([]byte("paych/l/"), 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0))
		}},
		{"a stray lane", func(kv store.KV) {
			kv.Set(append([]byte("paych/l/"), 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0), []byte{1, 1})
		}},
		{"a lost payee entry", func(kv store.KV) {
			a := chaintest.Addr("carol")
			kv.Delete(append(append([]byte("paych/e/"), a[:]...), 0, 0, 0, 0, 0, 0, 0, 2))
		}},
		{"a stray payer entry", func(kv store.KV) {
			a := chaintest.Addr("carol")
			kv.Set(append(append([]byte("paych/p/"), a[:]...), 0, 0, 0, 0, 0, 0, 0, 2), []byte{})
		}},
		{"a garbled record", func(kv store.KV) { kv.Set([]byte("paych/c/\x00\x00\x00\x00\x00\x00\x00\x02"), []byte{1, 2, 3}) }},
		{"the sequence behind", func(kv store.KV) { kv.Set([]byte("paych/seq"), []byte{2}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := channels(t)
			if err := paych.CheckInvariant(db, bankKeeper{}); err != nil {
				t.Fatal(err)
			}
			before := bal(db, paych.Escrow)
			c := store.NewCache(db)
			tc.corrupt(c)
			if err := paych.CheckInvariant(c, bankKeeper{}); err == nil {
				t.Fatalf("invariant missed it (escrow %s)", before)
			}
		})
	}
}

func TestGetAndList(t *testing.T) {
	db := channels(t)
	c := paych.Get(db, 1)
	if c == nil || c.State() != paych.StateOpen || c.Paid != types.MYC(3) || len(c.Lanes) != 1 || c.Lane(0).Nonce != 1 || c.Lane(5).Nonce != 0 {
		t.Fatalf("channel 1: %+v", c)
	}
	if c := paych.Get(db, 2); c.State() != paych.StateSettling || c.SettlingAt != 9 {
		t.Fatalf("channel 2: %+v", c)
	}
	if c := paych.Get(db, 3); c.State() != paych.StateClosed || c.Refunded != types.MYC(2) || len(c.Lanes) != 0 {
		t.Fatalf("channel 3: %+v", c)
	}
	if paych.Get(db, 4) != nil || paych.Get(db, 0) != nil {
		t.Fatal("channels that do not exist")
	}
	carol := chaintest.Addr("carol")
	if cs := paych.List(db, paych.Filter{Payee: &carol}); len(cs) != 2 || cs[0].ID != 2 || cs[1].ID != 3 {
		t.Fatalf("carol's: %v", cs)
	}
	if cs := paych.List(db, paych.Filter{After: 1<<64 - 1}); len(cs) != 0 {
		t.Fatalf("after the last id: %v", cs)
	}
	b, _ := json.Marshal(paych.Get(db, 1))
	for _, want := range []string{`"id":"1"`, `"voucher_key":"`, `"deposit":"10000000"`, `"lanes":[{"lane":"0","nonce":"1","redeemed":"3000000"}]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	var back paych.Channel
	if err := json.Unmarshal(b, &back); err != nil || back.VoucherKey != c.VoucherKey || back.ID != 1 {
		t.Fatalf("JSON round trip: %+v %v", back, err)
	}
}

// Every decoder's successful parse re-encodes to the same bytes: the
// encodings are canonical, so a message has one transaction hash and a
// voucher one text form. ParseVoucher never panics, on any text.
func FuzzDecode(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Add([]byte(`{"channel":"1","lane":"0","nonce":"1","amount":"1","signature":"` + strings.Repeat("00", 64) + `"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		if m, err := paych.DecodeMsgOpen(b); err == nil && !bytes.Equal(m.Encode(), b) {
			t.Fatalf("open: %x re-encodes to %x", b, m.Encode())
		}
		if m, err := paych.DecodeMsgTopUp(b); err == nil && !bytes.Equal(m.Encode(), b) {
			t.Fatalf("top up: %x re-encodes to %x", b, m.Encode())
		}
		if m, err := paych.DecodeMsgChannel(b); err == nil && !bytes.Equal(m.Encode(), b) {
			t.Fatalf("channel: %x re-encodes to %x", b, m.Encode())
		}
		if v, err := paych.DecodeVoucher(b); err == nil {
			if !bytes.Equal(v.Encode(), b) {
				t.Fatalf("voucher: %x re-encodes to %x", b, v.Encode())
			}
			if w, err := paych.ParseVoucher(v.String()); err != nil || w != v {
				t.Fatalf("voucher text %q: %v", v.String(), err)
			}
		}
		if v, err := paych.ParseVoucher(string(b)); err == nil {
			if w, err := paych.DecodeVoucher(v.Encode()); err != nil || w != v {
				t.Fatalf("parsed voucher %+v does not round trip: %v", v, err)
			}
		}
		if !bytes.Equal(in, b) {
			t.Fatal("a decoder modified its input")
		}
	})
}

func seeds() [][]byte {
	v := paych.Voucher{Channel: 1, Lane: 0, Nonce: 2, Amount: types.MYC(4)}
	v.Sign(chaintest.ChainID, key("alice"))
	stale := paych.Voucher{Channel: 1, Nonce: 1, Amount: types.MYC(3)}
	stale.Sign(chaintest.ChainID, key("alice"))
	greedy := paych.Voucher{Channel: 1, Lane: 3, Nonce: 1, Amount: types.MYC(8), MinSettleHeight: 20}
	greedy.Sign(chaintest.ChainID, key("alice"))
	settling := paych.Voucher{Channel: 2, Lane: 1, Nonce: 1, Amount: types.MYC(1), Expiry: 4}
	settling.Sign(chaintest.ChainID, key("alice"))
	return [][]byte{
		paych.MsgOpen{Payee: chaintest.Addr("bob"), VoucherKey: paych.KeyOf(key("carol")), Amount: types.MYC(1)}.Encode(),
		paych.MsgOpen{Payee: chaintest.Addr("alice"), VoucherKey: paych.KeyOf(key("alice")), Amount: 1}.Encode(),
		paych.MsgTopUp{Channel: 1, Amount: types.MYC(1)}.Encode(),
		paych.MsgTopUp{Channel: 2, Amount: 1}.Encode(),
		paych.MsgRedeem{Voucher: v}.Encode(),
		paych.MsgRedeem{Voucher: stale}.Encode(),
		paych.MsgRedeem{Voucher: greedy}.Encode(),
		paych.MsgRedeem{Voucher: settling}.Encode(),
		paych.MsgChannel{Channel: 1}.Encode(),
		paych.MsgChannel{Channel: 2}.Encode(),
		paych.MsgChannel{Channel: 3}.Encode(),
		{1, 2, 3},
	}
}

// checked adds the module's invariant to a handler for the fuzzers.
func checked(h chaintest.Handler) chaintest.Handler {
	return func(ctx exec.Ctx, signer types.Address, body []byte) error {
		if err := h(ctx, signer, body); err != nil {
			return err
		}
		if err := paych.CheckInvariant(ctx.KV, bankKeeper{}); err != nil {
			panic(err)
		}
		return nil
	}
}

func fuzzHandler(f *testing.F, h chaintest.Handler) {
	signers := []types.Address{chaintest.Addr("alice"), chaintest.Addr("bob"), chaintest.Addr("carol"), chaintest.Addr("nobody")}
	chaintest.FuzzHandlerWith(f, channels, signers, checked(h), seeds()...)
}

func FuzzOpen(f *testing.F)    { fuzzHandler(f, keeper.HandleOpen) }
func FuzzTopUp(f *testing.F)   { fuzzHandler(f, keeper.HandleTopUp) }
func FuzzRedeem(f *testing.F)  { fuzzHandler(f, keeper.HandleRedeem) }
func FuzzSettle(f *testing.F)  { fuzzHandler(f, keeper.HandleSettle) }
func FuzzCollect(f *testing.F) { fuzzHandler(f, keeper.HandleCollect) }
