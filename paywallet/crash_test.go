package paywallet_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/mycelnet/mycel/chain/paych"
	"github.com/mycelnet/mycel/internal/chaintest"
	"github.com/mycelnet/mycel/types"
)

const crashChildEnv = "PAYWALLET_CRASH_CHILD"

// crashChannel is the channel the crash test's payee holds.
func crashChannel() paych.Channel {
	return paych.Channel{ID: 1, Payer: chaintest.Addr("alice"), Payee: chaintest.Addr("bob"),
		VoucherKey: paych.KeyOf(voucherKey("alice")), Deposit: types.MaxAmount}
}

// crashChild accepts vouchers on four lanes from four goroutines, going
// on from the wallet's best, and prints "lane nonce" once each Accept has
// returned, until it is killed.
func crashChild(dir string) {
	p := openPayee(nil, dir)
	if err := p.Track(crashChannel()); err != nil {
		panic(err)
	}
	start := map[uint64]uint64{}
	for _, v := range p.Best(1) {
		start[v.Lane] = v.Nonce
	}
	var out sync.Mutex
	var wg sync.WaitGroup
	for lane := uint64(0); lane < 4; lane++ {
		wg.Add(1)
		go func(lane, nonce uint64) {
			defer wg.Done()
			for {
				nonce++
				v := signedBy("alice", paych.Voucher{Channel: 1, Lane: lane, Nonce: nonce, Amount: types.Amount(nonce)})
				if _, err := p.Accept(v, 0); err != nil {
					panic(err)
				}
				out.Lock()
				fmt.Printf("%d %d\n", lane, nonce)
				out.Unlock()
			}
		}(lane, start[lane])
	}
	wg.Wait()
}

// kill -9 between vouchers: after each kill the reopened wallet holds, on
// every lane, a voucher at least as recent as the last one acknowledged.
func TestKillNine(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	acked := map[uint64]uint64{}
	for round := 0; round < 3; round++ {
		cmd, stdout := startChild(t, "TestKillNine", crashChildEnv, dir)
		sc := bufio.NewScanner(stdout)
		lines := 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 2 {
				continue // the test framework's own output
			}
			lane, _ := strconv.ParseUint(f[0], 10, 64)
			nonce, _ := strconv.ParseUint(f[1], 10, 64)
			acked[lane] = max(acked[lane], nonce)
			if lines++; lines == 100+50*round {
				cmd.Process.Signal(syscall.SIGKILL)
			}
		}
		waitKilled(t, cmd, round)
		p := openPayee(t, dir)
		best := map[uint64]uint64{}
		for _, v := range p.Best(1) {
			best[v.Lane] = v.Nonce
		}
		for lane, n := range acked {
			if best[lane] < n {
				t.Fatalf("round %d: lane %d acknowledged nonce %d, the reopened wallet has %d", round, lane, n, best[lane])
			}
		}
		p.Close()
	}
	t.Logf("acknowledged nonces by lane after three kills: %v", acked)
}

// startChild runs this test binary's test name as a child process, with
// env set to dir (where the test runs as the child), and returns it with
// its standard output.
func startChild(t *testing.T, name, env, dir string) (*exec.Cmd, io.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$")
	cmd.Env = append(os.Environ(), env+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stdout
}

// waitKilled waits for a child sent SIGKILL and fails unless it died of it.
func waitKilled(t *testing.T, cmd *exec.Cmd, round int) {
	t.Helper()
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("round %d: the child was not killed: %v", round, err)
	}
}
