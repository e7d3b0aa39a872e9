package cli

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/chain/compute"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/types"
)

func (e *env) disputeCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "dispute", Short: "Dispute an inference answer's signed receipt, and vote on disputes"}
	var of txFlags
	var bond string
	open := &cobra.Command{
		Use:   "open ANSWER.json --bond AMOUNT --from KEY",
		Short: "Dispute a gateway answer: its receipt is checked by drawn referees, or voted on by validators",
		Long: `Read a gateway answer (the JSON body of /v1/chat/completions or /v1/completions,
which carries mycel_receipt and mycel_request; "-" reads stdin), upload the
evidence (the receipt, the request and the answer's text) and open a dispute
with a bond. Referees drawn from the providers check it: a receipt of the
deterministic runtime is re-executed, an external engine's answer is re-scored
on the built-in runtime (every token's rank under the named model). When they
cannot run the model, validators vote. The loser pays: a provider found wrong
is slashed (and banned when re-execution proves fraud); a disputer found wrong
loses the bond (docs/verification.md). Follow it with: mycel job verification ID.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var b []byte
			var err error
			if args[0] == "-" {
				b, err = io.ReadAll(os.Stdin)
			} else {
				b, err = os.ReadFile(args[0])
			}
			if err != nil {
				return err
			}
			ev, err := evidenceOf(b)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			amt, err := types.ParseAmount(bond)
			if err != nil {
				return fmt.Errorf("--bond: %w", err)
			}
			key, err := e.signer()
			if err != nil {
				return err
			}
			c := e.client()
			blob, _ := json.Marshal(ev)
			up, err := c.PutBlob(ctx, blob, key.Private)
			if err != nil {
				return fmt.Errorf("upload the evidence: %w", err)
			}
			m := compute.MsgDispute{Receipt: ev.Receipt.Fields(), PubKey: ev.Receipt.PubKey, Signature: ev.Receipt.Signature,
				Evidence: up.SHA256, Bond: amt}
			r, err := e.submit(ctx, &of, []tx.Msg{{Kind: compute.KindDispute, Body: m.Encode()}}, "open dispute")
			if err != nil {
				return err
			}
			id, _ := client.Event(r, "dispute_opened", "id")
			return e.print(map[string]any{"id": id, "tx": r.Hash, "height": r.Height, "evidence": up.SHA256}, func(w io.Writer) {
				fmt.Fprintf(w, "dispute %s opened in block %d against provider %s; follow it with: mycel job verification %s\n",
					id, r.Height, ev.Receipt.Provider, id)
			})
		},
	}
	open.Flags().StringVar(&bond, "bond", "1myc", "the bond, lost if the provider is found right")
	of.register(open)

	vote, reveal := e.ballotCmds(ballotSpec{
		kind: "dispute", parse: parseJobID,
		voteUse:   "vote ID --for provider|disputer --from VALIDATOR_KEY",
		voteShort: "Commit a validator's ballot on a dispute the referees could not settle",
		voteLong: `Commit a ballot (its hash; the vote stays secret until the commit window
closes) on a dispute in its voting phase. The salt is kept in --home/ballots;
reveal the ballot with mycel dispute reveal ID once the window has closed.
Ballots weigh their validator's bonded stake.`,
		sides: []ballotSide{{"provider", compute.VoteProvider, "its answer stands"}, {"disputer", compute.VoteDisputer, "the answer is wrong"}},
		commit: func(id uint64, voter types.Address, v uint8, salt [32]byte) tx.Msg {
			return tx.Msg{Kind: compute.KindBallot, Body: compute.MsgBallot{Subject: id, Commitment: compute.BallotCommitment(id, voter, v, salt)}.Encode()}
		},
		reveal: func(id uint64, v uint8, salt [32]byte) tx.Msg {
			return tx.Msg{Kind: compute.KindBallotReveal, Body: compute.MsgBallotReveal{Subject: id, Vote: v, Salt: salt}.Encode()}
		},
	})
	cmd.AddCommand(open, vote, reveal)
	return cmd
}

// evidenceOf reads a gateway answer into the evidence of a dispute.
func evidenceOf(b []byte) (inference.Evidence, error) {
	var a answerFile
	if err := json.Unmarshal(b, &a); err != nil {
		return inference.Evidence{}, fmt.Errorf("not a gateway answer: %w", err)
	}
	if a.Receipt == nil || a.Request == nil || len(a.Choices) != 1 {
		return inference.Evidence{}, fmt.Errorf("no mycel_receipt, mycel_request and one choice: save the whole JSON body of a non-streamed answer")
	}
	var text *string
	if a.Choices[0].Text != nil {
		text = a.Choices[0].Text
	} else if a.Choices[0].Message != nil {
		text = a.Choices[0].Message.Content
	}
	if text == nil {
		return inference.Evidence{}, fmt.Errorf("the answer has no text")
	}
	ev := inference.Evidence{Receipt: *a.Receipt, Request: *a.Request, Text: *text}
	if err := ev.Check(); err != nil {
		return ev, fmt.Errorf("the receipt cannot be disputed as it is: %w", err)
	}
	return ev, nil
}

// ballotSpec describes a commit-reveal ballot that validators cast:
// on a compute dispute, or on a report against an agent.
type ballotSpec struct {
	kind                         string // "dispute", "report": in messages and the salt's file name
	parse                        func(string) (uint64, error)
	voteUse, voteShort, voteLong string
	sides                        []ballotSide
	commit                       func(id uint64, voter types.Address, vote uint8, salt [32]byte) tx.Msg
	reveal                       func(id uint64, vote uint8, salt [32]byte) tx.Msg
}

// ballotSide is one value of --for.
type ballotSide struct {
	name string
	vote uint8
	says string
}

// ballotCmds makes the vote and reveal commands of a ballot: vote draws
// a salt, keeps it in --home/ballots and commits the hash; reveal opens it.
func (e *env) ballotCmds(b ballotSpec) (vote, reveal *cobra.Command) {
	var vf, rf txFlags
	var side string
	var help []string
	for _, s := range b.sides {
		help = append(help, fmt.Sprintf("%s (%s)", s.name, s.says))
	}
	sides := strings.Join(help, " or ")
	vote = &cobra.Command{
		Use: b.voteUse, Short: b.voteShort, Long: b.voteLong, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := b.parse(args[0])
			if err != nil {
				return err
			}
			v := uint8(0)
			for _, s := range b.sides {
				if s.name == side {
					v = s.vote
				}
			}
			if v == 0 {
				return fmt.Errorf("--for %q: %s", side, sides)
			}
			key, err := e.signer()
			if err != nil {
				return err
			}
			var salt [32]byte
			if _, err := rand.Read(salt[:]); err != nil {
				return err
			}
			if err := e.saveBallot(b.kind, id, key.Name, v, salt); err != nil {
				return err
			}
			return e.broadcast(cmd.Context(), &vf, []tx.Msg{b.commit(id, key.Address, v, salt)}, fmt.Sprintf("ballot on %s %d", b.kind, id))
		},
	}
	vote.Flags().StringVar(&side, "for", "", sides)
	vf.register(vote)
	reveal = &cobra.Command{
		Use:   "reveal ID --from VALIDATOR_KEY",
		Short: fmt.Sprintf("Reveal a committed ballot on a %s once its commit window has closed", b.kind),
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := b.parse(args[0])
			if err != nil {
				return err
			}
			key, err := e.signer()
			if err != nil {
				return err
			}
			v, salt, err := e.loadBallot(b.kind, id, key.Name)
			if err != nil {
				return err
			}
			return e.broadcast(cmd.Context(), &rf, []tx.Msg{b.reveal(id, v, salt)}, fmt.Sprintf("reveal ballot on %s %d", b.kind, id))
		},
	}
	rf.register(reveal)
	return vote, reveal
}

// A committed ballot's vote and salt, kept until it is revealed.
func (e *env) ballotPath(kind string, id uint64, key string) string {
	return filepath.Join(e.home, "ballots", kind+"-"+key+"-"+strconv.FormatUint(id, 10)+".json")
}

func (e *env) saveBallot(kind string, id uint64, key string, vote uint8, salt [32]byte) error {
	p := e.ballotPath(kind, id, key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]any{"vote": vote, "salt": hex.EncodeToString(salt[:])})
	return os.WriteFile(p, b, 0o600)
}

func (e *env) loadBallot(kind string, id uint64, key string) (uint8, [32]byte, error) {
	var salt [32]byte
	b, err := os.ReadFile(e.ballotPath(kind, id, key))
	if err != nil {
		return 0, salt, fmt.Errorf("no ballot of %s on %s %d in this home (commit one first): %w", key, kind, id, err)
	}
	var v struct {
		Vote uint8
		Salt string
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return 0, salt, err
	}
	s, err := hex.DecodeString(v.Salt)
	if err != nil || len(s) != 32 {
		return 0, salt, fmt.Errorf("ballot file %s is corrupt", e.ballotPath(kind, id, key))
	}
	copy(salt[:], s)
	return v.Vote, salt, nil
}
