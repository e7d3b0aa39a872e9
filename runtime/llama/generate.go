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
// character are released by a later step). Text is valid UTF-8: see
// Result.Text.
type Step struct {
	Token   int32
	Text    string
	Logprob float32
}

// Result is a finished generation.
type Result struct {
	Tokens []int32
	// Text is the tokens' bytes as valid UTF-8: each byte that does not
	// belong to a UTF-8 character (a byte token that splits one, a
	// character cut by MaxTokens) is U+FFFD, as JSON would carry it. The
	// steps' texts add up to it, so a receipt's output hash covers what
	// the client received.
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
		s := Step{Token: tok, Text: validText(text[emitted:upto]), Logprob: lp}
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
	res.Text = validText(text)
	return res, nil
}

// validText is b with each byte that is not part of a UTF-8 character
// replaced by U+FFFD. The replacement is byte by byte, so the texts of
// pieces cut between characters add up to the text of the whole.
func validText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var out strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out.WriteString("\uFFFD")
		} else {
			out.Write(b[:n])
		}
		b = b[n:]
	}
	return out.String()
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
// still become a stop string, nor an unfinished UTF-8 character (the
// start of one that later bytes may complete; a byte that can no longer
// be part of a character is shown, as U+FFFD).
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
	// The last character's start is at most utf8.UTFMax-1 bytes back.
	for i := end - 1; i >= max(from, end-(utf8.UTFMax-1)); i-- {
		if utf8.RuneStart(text[i]) {
			if !utf8.FullRune(text[i:end]) {
				end = i
			}
			break
		}
	}
	return max(end, from)
}
