package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/mycelnet/mycel/types"
)

// Phases of a job on this provider.
const (
	phaseRunning   = "running"   // executing (or to run again after a restart)
	phaseDone      = "done"      // result and salt saved; commit not yet seen on chain
	phaseCommitted = "committed" // commit on chain; reveal next
)

// jobState is what the provider remembers of a job across restarts. The
// salt and the result are saved before the commit is sent, so a restart
// can always reveal what it committed to.
type jobState struct {
	ID         uint64     `json:"id,string"`
	Phase      string     `json:"phase"`
	Salt       [32]byte   `json:"salt"`
	Output     types.Hash `json:"output"`
	OutputSize uint64     `json:"output_size"`
	GasUsed    uint64     `json:"gas_used"`
	Failure    string     `json:"failure,omitempty"`
	// Result is the output itself, kept for the reveal of a job that
	// asked for its result on chain.
	Result []byte `json:"result,omitempty"`
	// SentAt is the height at which the last transaction for this job was
	// sent, so it is not sent again every block.
	SentAt int64 `json:"sent_at"`
}

// stateFile keeps the jobs' states in one JSON file, replaced atomically.
type stateFile struct{ path string }

func (s stateFile) load() (map[uint64]*jobState, error) {
	out := map[uint64]*jobState{}
	if s.path == "" {
		return out, nil
	}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("provider state: %w", err)
	}
	var list []*jobState
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("provider state %s: %w", s.path, err)
	}
	for _, j := range list {
		out[j.ID] = j
	}
	return out, nil
}

func (s stateFile) save(jobs map[uint64]*jobState) error {
	if s.path == "" {
		return nil
	}
	list := make([]*jobState, 0, len(jobs))
	for _, j := range jobs {
		list = append(list, j)
	}
	sort.Slice(list, func(i, k int) bool { return list[i].ID < list[k].ID })
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("provider state: %w", err)
	}
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("provider state: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("provider state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("provider state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("provider state: %w", err)
	}
	return os.Rename(tmp, s.path)
}
