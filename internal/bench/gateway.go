package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/mycelnet/mycel/inference"
	"github.com/mycelnet/mycel/internal/devnet"
	"github.com/mycelnet/mycel/models"
	"github.com/mycelnet/mycel/runtime/synth"
)

// GatewayOptions size the gateway benchmark.
type GatewayOptions struct {
	Runs      int `json:"runs"`
	GenTokens int `json:"generated_tokens"`
	// Model is the model timed: "kjv" (the default) for mycel-kjv, the
	// devnet's own 4M-parameter model; "100m" for the runtime
	// benchmark's generated Llama of 125M parameters, which the built-in
	// provider then serves beside it ("quick": a tiny generated one, for
	// tests).
	Model    string    `json:"model"`
	Progress io.Writer `json:"-"`
}

// GatewayResult is the gateway benchmark's outcome: median latencies of
// the same request run directly on the runtime and sent through the
// gateway, in the same process, interleaved in pairs. AddedSeconds is the
// median of the pairs' differences and Overhead that over the direct
// median; Ratio is direct over gateway (higher is better, 1 is no
// overhead).
type GatewayResult struct {
	Model          string         `json:"model"`
	Parameters     int64          `json:"parameters"`
	DirectSeconds  float64        `json:"direct_seconds"`
	GatewaySeconds float64        `json:"gateway_seconds"`
	AddedSeconds   float64        `json:"added_seconds"`
	Overhead       float64        `json:"overhead"`
	Ratio          float64        `json:"ratio"`
	Options        GatewayOptions `json:"options"`
	Settings       string         `json:"settings"`
}

// Gateway starts a devnet whose built-in provider serves mycel's model
// (and the generated one o.Model names), and times a completion of
// GenTokens tokens (greedy, a fixed prompt) through POST /v1/completions
// against the same request run directly on the provider's engine in this
// process.
func Gateway(ctx context.Context, o GatewayOptions) (GatewayResult, error) {
	var spec *synth.Spec
	switch o.Model {
	case "", "kjv":
		o.Model = "kjv"
	case "100m":
		spec = &benchModel
	case "quick":
		spec = &quickModel
	default:
		return GatewayResult{}, fmt.Errorf("model %q: kjv (mycel-kjv, 4M parameters) or 100m (a generated 125M-parameter Llama)", o.Model)
	}
	if o.Runs <= 0 {
		o.Runs = 150
		if spec != nil {
			o.Runs = 30 // a request takes 20 times longer
		}
	}
	if o.GenTokens <= 0 {
		o.GenTokens = 32
	}
	res := GatewayResult{Model: models.KJVName, Options: o, Settings: "one-validator devnet in process (1 s blocks); its built-in provider answers through a long poll; " +
		"HTTP on loopback; the same request on the provider's engine in this process, alternating which goes first; medians, the added time the median of the pairs' differences"}
	home, err := os.MkdirTemp("", "mycel-bench-gateway-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(home)
	say(o.Progress, "gateway: starting a devnet ...")
	// One-second blocks, as `mycel devnet` makes them: the requests never
	// wait on a block, and faster blocks would only add consensus work
	// competing for the two paths' cores.
	net, err := devnet.Start(ctx, devnet.Options{Home: home, APIAddr: "127.0.0.1:0", RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0",
		BlockTime: time.Second, Logger: quiet(), Provider: true})
	if err != nil {
		return res, err
	}
	defer net.Stop()
	// The provider's own engine: the same kernels and thread pool on both
	// paths, so the difference is the gateway alone.
	engine, info := net.Engine, net.Model
	if spec != nil {
		say(o.Progress, "gateway: generating a %d-layer %d-dim Q8_0 model ...", spec.Layers, spec.Dim)
		var file bytes.Buffer
		if err := synth.Write(&file, *spec); err != nil {
			return res, err
		}
		if info, err = engine.Add(file.Bytes(), spec.Name); err != nil {
			return res, err
		}
		res.Model = spec.Name
	}
	if m, ok := engine.Model(info.Hash); ok {
		res.Parameters = m.Params()
	}
	req := inference.Request{Model: info.Hash, Prompt: "And it came to pass", MaxTokens: o.GenTokens, TopP: 1}
	completion := func(model string, tokens int) []byte {
		b, _ := json.Marshal(map[string]any{"model": model, "prompt": req.Prompt, "max_tokens": tokens,
			"temperature": 0, "seed": 0, "stop": nil})
		return b
	}
	body, kjvBody := completion(res.Model, o.GenTokens), completion(models.KJVName, 1)
	url := net.Nodes[0].APIURL() + "/v1/completions"
	post := func(body []byte) (inference.Completion, error) { return postCompletion(http.DefaultClient, url, body) }
	viaGateway := func() (time.Duration, error) {
		start := time.Now()
		c, err := post(body)
		if err != nil {
			return 0, err
		}
		if c.Usage == nil || c.Usage.CompletionTokens != o.GenTokens {
			return 0, fmt.Errorf("gateway generated %+v tokens, want %d", c.Usage, o.GenTokens)
		}
		return time.Since(start), nil
	}
	direct := func() (time.Duration, error) {
		start := time.Now()
		f, err := engine.Run(ctx, req, func(inference.Event) error { return nil })
		if err != nil {
			return 0, err
		}
		if f.CompletionTokens != o.GenTokens {
			return 0, fmt.Errorf("generated %d tokens, want %d", f.CompletionTokens, o.GenTokens)
		}
		return time.Since(start), nil
	}
	// Wait for the provider's first poll, then warm both paths.
	say(o.Progress, "gateway: waiting for the built-in provider ...")
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := viaGateway()
		if err == nil {
			break
		}
		// 404: the provider has not announced the model yet.
		if he, ok := err.(*httpError); !ok || he.status != http.StatusNotFound || time.Now().After(deadline) {
			return res, fmt.Errorf("the gateway did not answer: %w", err)
		}
		if spec != nil {
			// The provider announces its models as each poll starts: a
			// task of mycel-kjv sends one poll back with the new list.
			_, _ = post(kjvBody)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := direct(); err != nil {
		return res, err
	}
	say(o.Progress, "gateway: %d requests of %d tokens each way ...", o.Runs, o.GenTokens)
	var d, g, diffs []time.Duration
	for i := 0; i < o.Runs; i++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		// Alternate which goes first, so neither gains from the other's
		// warm caches and spinning helpers.
		var dt, gt time.Duration
		var err error
		if i%2 == 0 {
			if dt, err = direct(); err == nil {
				gt, err = viaGateway()
			}
		} else {
			if gt, err = viaGateway(); err == nil {
				dt, err = direct()
			}
		}
		if err != nil {
			return res, err
		}
		d, g = append(d, dt), append(g, gt)
		diffs = append(diffs, gt-dt)
	}
	slices.Sort(d)
	slices.Sort(g)
	slices.Sort(diffs)
	res.DirectSeconds, res.GatewaySeconds = d[len(d)/2].Seconds(), g[len(g)/2].Seconds()
	// The added time is the median of the pairs' differences: on a shared
	// machine it drifts less than the difference of the medians.
	res.AddedSeconds = diffs[len(diffs)/2].Seconds()
	res.Overhead = res.AddedSeconds / res.DirectSeconds
	res.Ratio = res.DirectSeconds / res.GatewaySeconds
	return res, nil
}

// postCompletion posts a completion request to url and decodes the
// answer; a status other than 200 is an *httpError.
func postCompletion(hc *http.Client, url string, body []byte) (inference.Completion, error) {
	var c inference.Completion
	resp, err := hc.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return c, err
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &c) != nil {
		return c, &httpError{resp.StatusCode, fmt.Sprintf("gateway answered %s: %s", resp.Status, b)}
	}
	return c, nil
}

type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }
