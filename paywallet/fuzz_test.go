package paywallet_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/types"
)

// Voucher decoding, as a payee meets it from the network: the binary
// encoding, the compact text form and the JSON form. Whatever parses
// round-trips to the same voucher, and the payee's offline check never
// panics on it and never accepts a voucher whose signature is not the
// channel key's.
func FuzzVoucherDecode(f *testing.F) {
	good := signedBy("alice", paych.Voucher{Channel: 1, Lane: 2, Nonce: 3, Amount: types.MYC(1), MinSettleHeight: 4, Expiry: 500})
	j, _ := json.Marshal(good)
	for _, s := range [][]byte{good.Encode(), []byte(good.String()), j, []byte(`{"channel":1,"lane":0,"nonce":1,"amount":5,"signature":""}`),
		[]byte("{}"), []byte("AQ"), {1, 0, 0, 0, 0, 0, 0}} {
		f.Add(s)
	}
	p := openPayee(f, f.TempDir())
	c := crashChannel()
	c.Deposit = types.MYC(10)
	if err := p.Track(c); err != nil {
		f.Fatal(err)
	}
	p.SetHeight(1)
	key := paych.KeyOf(voucherKey("alice"))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		var found []paych.Voucher
		if v, err := paych.DecodeVoucher(b); err == nil {
			if !bytes.Equal(v.Encode(), b) {
				t.Fatalf("%x re-encodes to %x", b, v.Encode())
			}
			found = append(found, v)
		}
		if v, err := paych.ParseVoucher(string(b)); err == nil {
			found = append(found, v)
		}
		var jv paych.Voucher
		if err := json.Unmarshal(b, &jv); err == nil {
			out, err := json.Marshal(jv)
			var back paych.Voucher
			if err != nil || json.Unmarshal(out, &back) != nil || back != jv {
				t.Fatalf("JSON %s does not round trip: %s", b, out)
			}
			found = append(found, jv)
		}
		for _, v := range found {
			if w, err := paych.DecodeVoucher(v.Encode()); err != nil || w != v {
				if v.MinSettleHeight >= 0 && v.Expiry >= 0 {
					t.Fatalf("%+v does not round trip: %v", v, err)
				}
			}
			if _, err := p.Check(v, 0); err == nil && v.Verify(chaintest.ChainID, key) != nil {
				t.Fatalf("the payee accepted a badly signed voucher %+v", v)
			}
		}
		if !bytes.Equal(in, b) {
			t.Fatal("a decoder modified its input")
		}
	})
}

// A journal of any contents after its header and first record opens
// without a panic; one that opens reopens to the same state.
func FuzzJournal(f *testing.F) {
	dir := f.TempDir()
	p := openPayee(f, dir)
	c := crashChannel()
	if err := p.Track(c); err != nil {
		f.Fatal(err)
	}
	for n := uint64(1); n < 4; n++ {
		if _, err := p.Accept(signedBy("alice", paych.Voucher{Channel: 1, Lane: n % 2, Nonce: n, Amount: types.Amount(n)}), 0); err != nil {
			f.Fatal(err)
		}
	}
	p.Close()
	whole, err := os.ReadFile(filepath.Join(dir, "journal"))
	if err != nil {
		f.Fatal(err)
	}
	// The header and the wallet's first record, kept by every input.
	head := len("mycel-paywallet/1\n") + 1 + 4 + int(whole[len("mycel-paywallet/1\n")])
	f.Add(whole[head:])
	f.Add(whole[head : len(whole)-3])
	f.Add([]byte{5, 0, 0, 0, 0, 9, 9, 9, 9, 9})
	// A payer's reservation record (kind 6: channel 1, lane 0, nonce 300).
	reserve := []byte{6, 1, 0, 0xac, 0x02}
	f.Add(append(binary.LittleEndian.AppendUint32([]byte{byte(len(reserve))}, crc32.Checksum(reserve, crc32.MakeTable(crc32.Castagnoli))), reserve...))
	f.Fuzz(func(t *testing.T, rest []byte) {
		d := t.TempDir()
		path := filepath.Join(d, "journal")
		if err := os.WriteFile(path, append(bytes.Clone(whole[:head]), rest...), 0o600); err != nil {
			t.Fatal(err)
		}
		a, err := openPayeeErr(d)
		if err != nil {
			return
		}
		best, chans := a.Best(1), a.Channels()
		a.Close()
		b, err := openPayeeErr(d)
		if err != nil {
			t.Fatalf("opened once, not twice: %v", err)
		}
		defer b.Close()
		if !equalVouchers(b.Best(1), best) || len(b.Channels()) != len(chans) {
			t.Fatal("reopening changed the state")
		}
	})
}
