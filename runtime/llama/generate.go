package llama

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mycelnet/mycel/runtime/sample"
)

// Request is a generation request.
type Request struct {
	Prompt    []int32
	MaxTokens int
	Sample    sample.Params
	// Stop ends generation at the first of these strings; it is not
	// part of the output.
	Stop []string
	// Logprobs records each generated token's log probability.
	Logprobs bool
}

// Step is one generated token as streamed: the text it completes (bytes
// held back while they might start a stop string or an unfinished UTF-8
// character are released by a later step).
type Step struct {
	Token   int32
	Text    string
	Logprob float32
}

// Result is a finished generation.
type Result struct {
	Tokens   []int32
	Text     string
	Logprobs []float32
	// Finish is "stop" (end of generation or a stop string) or "length".
	Finish       string
	PromptTokens int
	// PromptTime is how long the prompt took; GenTime the tokens after
	// it (for tokens per second, not part of any result's bits).
	PromptTime, GenTime time.Duration
}

// Generate runs the prompt and then samples up to MaxTokens tokens,
// calling emit (if not nil) as text becomes final.
func (m *Model) Generate(ctx context.Context, req Request, emit func(Step) error) (res Result, err error) {
	res = Result{PromptTokens: len(req.Prompt), Finish: "length"}
	if len(req.Prompt) == 0 {
		return res, fmt.Errorf("empty prompt")
	}
	if len(req.Prompt)+req.MaxTokens > m.Context {
		return res, fmt.Errorf("%d prompt tokens and %d to generate exceed the context of %d", len(req.Prompt), req.MaxTokens, m.Context)
	}
	st := m.NewState(len(req.Prompt) + req.MaxTokens)
	sm := sample.New(req.Sample)
	start := time.Now()
	logits, err := m.Forward(st, req.Prompt, false, nil)
	if err != nil {
		return res, err
	}
	res.PromptTime = time.Since(start)
	start = time.Now()
	defer func() { res.GenTime = time.Since(start) }()
	var text []byte
	emitted := 0
	flush := func(upto int, tok int32, lp float32) error {
		if emit == nil || upto <= emitted {
			return nil
		}
		s := Step{Token: tok, Text: string(text[emitted:upto]), Logprob: lp}
		emitted = upto
		return emit(s)
	}
	for i := 0; i < req.MaxTokens; i++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		tok := sm.Sample(logits)
		var lp float32
		if req.Logprobs {
			lp = sample.Logprob(logits, tok)
		}
		if m.Tok.IsEndOfGeneration(tok) {
			res.Finish = "stop"
			break
		}
		res.Tokens = append(res.Tokens, tok)
		if req.Logprobs {
			res.Logprobs = append(res.Logprobs, lp)
		}
		text = append(text, m.Tok.TokenBytes(tok)...)
		if at, ok := findStop(text, req.Stop); ok {
			text = text[:at]
			res.Finish = "stop"
			if err := flush(len(text), tok, lp); err != nil {
				return res, err
			}
			break
		}
		if err := flush(safePrefix(text, emitted, req.Stop), tok, lp); err != nil {
			return res, err
		}
		if i == req.MaxTokens-1 {
			break
		}
		if logits, err = m.Forward(st, []int32{tok}, false, nil); err != nil {
			return res, err
		}
	}
	if err := flush(len(text), -1, 0); err != nil {
		return res, err
	}
	res.Text = string(text)
	return res, nil
}

// findStop returns where the first stop string starts in text.
func findStop(text []byte, stops []string) (int, bool) {
	best := -1
	for _, s := range stops {
		if s == "" {
			continue
		}
		if i := strings.Index(string(text), s); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best, best >= 0
}

// safePrefix is how much of text may be shown: not a tail that could
// still become a stop string, nor an unfinished UTF-8 character.
func safePrefix(text []byte, from int, stops []string) int {
	end := len(text)
	for _, s := range stops {
		for k := min(len(s)-1, len(text)); k > 0; k-- {
			if strings.HasSuffix(string(text), s[:k]) {
				end = min(end, len(text)-k)
				break
			}
		}
	}
	for end > from && !utf8.Valid(text[from:end]) {
		end--
	}
	return end
}
