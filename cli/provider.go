package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/app"
	"github.com/mycelnet/mycel/chain/compute"
	examples "github.com/mycelnet/mycel/examples/wasm"
	"github.com/mycelnet/mycel/runtime/backend/cpu"
	"github.com/mycelnet/mycel/types"
	"github.com/mycelnet/mycel/worker/provider"
	oaexec "github.com/mycelnet/mycel/worker/provider/executor/openai"
	rtexec "github.com/mycelnet/mycel/worker/provider/executor/runtime"
	"github.com/mycelnet/mycel/worker/provider/executor/wasm"
)

// providerFlags are the registration settings of provider register and run.
type providerFlags struct {
	price, stake, tier, region string
	slots                      int
}

func (f *providerFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.price, "price", "1umyc", "price per compute unit (one million metered instructions)")
	fl.StringVar(&f.stake, "stake", "", "provider stake to hold (default: twice the chain's minimum, so one slash leaves it working)")
	fl.StringVar(&f.tier, "tier", "consumer", "datacenter or consumer")
	fl.StringVar(&f.region, "region", "", "where the machine is, e.g. eu-west (free text, at most 32 bytes)")
	fl.IntVar(&f.slots, "slots", 0, "jobs to run at once (default: half the CPU cores, at least 1)")
}

// config builds a provider configuration: the detected hardware, the
// benchmark score, the flags.
// providerConfig builds a provider's configuration from the flags: its
// key, logger, measured hardware and executors. closeExec releases the
// WebAssembly executor.
func (e *env) providerConfig(ctx context.Context, f *providerFlags) (cfg provider.Config, closeExec func(), err error) {
	log, err := e.logger()
	if err != nil {
		return cfg, nil, err
	}
	ex, err := wasm.New(ctx, wasm.Options{})
	if err != nil {
		return cfg, nil, err
	}
	defer func() {
		if err != nil {
			ex.Close(context.Background())
		}
	}()
	cfg, err = e.providerSettings(ctx, f, ex)
	cfg.Logger = log
	return cfg, func() { ex.Close(context.Background()) }, err
}

func (e *env) providerSettings(ctx context.Context, f *providerFlags, ex *wasm.Executor) (provider.Config, error) {
	key, err := e.signer()
	if err != nil {
		return provider.Config{}, err
	}
	price, err := types.ParseAmount(f.price)
	if err != nil {
		return provider.Config{}, fmt.Errorf("--price: %w", err)
	}
	var stake types.Amount
	if f.stake != "" {
		if stake, err = types.ParseAmount(f.stake); err != nil {
			return provider.Config{}, fmt.Errorf("--stake: %w", err)
		}
	}
	tier, err := compute.ParseTier(f.tier)
	if err != nil {
		return provider.Config{}, fmt.Errorf("--tier: %w", err)
	}
	e.progress("detecting hardware and measuring speed ...")
	profile := provider.Detect(ctx)
	score, err := provider.CachedBenchmark(ctx, provider.WasmExecutor{E: ex}, examples.Kernel(), []byte("128"), profile,
		filepath.Join(e.home, "provider", "score.json"))
	if err != nil {
		return provider.Config{}, fmt.Errorf("benchmark: %w", err)
	}
	profile.Score = score
	gpu := "no GPU"
	if profile.Accel == compute.AccelGPU {
		gpu = fmt.Sprintf("%d × %s (%d MB)", profile.AccelCount, profile.AccelModel, profile.AccelMemoryMB)
	}
	e.progress("  %s, %d cores, %d MB memory, %s; %d compute units/s", profile.CPUModel, profile.Cores, profile.MemoryMB, gpu, profile.Score)
	slots := f.slots
	if slots <= 0 {
		slots = max(int(profile.Cores)/2, 1)
	}
	engine := rtexec.New(cpu.New(0))
	return provider.Config{
		Client: e.client(), Key: key.Private, Profile: profile, Price: price, Tier: tier, Region: f.region, Slots: slots, Stake: stake,
		Executors: map[compute.Kind]provider.Executor{compute.KindWasm: provider.WasmExecutor{E: ex},
			compute.KindInference: provider.InferenceExecutor{E: engine}, compute.KindCheck: provider.CheckExecutor{E: engine}},
		StateFile: filepath.Join(e.home, "provider", key.Name+".json"),
	}, nil
}

func (e *env) providerCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "provider", Short: "Offer this machine's compute, and see the providers"}
	var rf providerFlags
	register := &cobra.Command{
		Use:   "register --from KEY",
		Short: "Detect the hardware, measure it, and register it with a price and a stake",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, closeExec, err := e.providerConfig(cmd.Context(), &rf)
			if err != nil {
				return err
			}
			defer closeExec()
			p, err := provider.New(cfg)
			if err != nil {
				return err
			}
			if err := p.Register(cmd.Context()); err != nil {
				return err
			}
			info, err := cfg.Client.Provider(cmd.Context(), p.Address())
			if err != nil {
				return err
			}
			return e.print(info, func(w io.Writer) { printProvider(w, info, 0) })
		},
	}
	rf.register(register)
	register.Flags().StringVar(&e.logLevel, "log-level", "info", "log level")

	var runf providerFlags
	var serveModels, openaiModels []string
	var openaiURL, listen, publicURL string
	var serveSlots int
	var misbehave string
	var pricePerToken, redeemAbove string
	run := &cobra.Command{
		Use:   "run --from KEY [--node URL]",
		Short: "Register this machine and run jobs until interrupted",
		Long: `Register this machine as a provider (detecting its CPU, memory and NVIDIA GPUs and
measuring its speed) and run the jobs the network assigns it, pulling work from
the node over outbound connections only, so it works behind NAT. It keeps its
job states in --home/provider/KEY.json and resumes them after a restart.

With --serve-model it also answers inference requests for those GGUF models
through the node's OpenAI-compatible gateway (/v1/chat/completions), with the
built-in deterministic runtime, signing a receipt for every answer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, closeExec, err := e.providerConfig(cmd.Context(), &runf)
			if err != nil {
				return err
			}
			defer closeExec()
			if cfg.Misbehave, err = provider.ParseMisbehaviour(misbehave); err != nil {
				return fmt.Errorf("--misbehave: %w", err)
			}
			if cfg.Misbehave.Kind != "" {
				e.progress("WARNING: --misbehave %s: this provider cheats, for testing verification; it will be slashed", misbehave)
			}
			var engines provider.Engines
			if len(serveModels) > 0 {
				// The engine that runs inference jobs serves the gateway too.
				engine := cfg.Executors[compute.KindInference].(provider.InferenceExecutor).E
				for _, spec := range serveModels {
					path, id, _ := strings.Cut(spec, "=")
					path, err := e.modelFile(cmd.Context(), path)
					if err != nil {
						return fmt.Errorf("--serve-model %s: %w", spec, err)
					}
					info, err := engine.AddFile(path, id)
					if err != nil {
						return fmt.Errorf("--serve-model %s: %w", spec, err)
					}
					e.progress("serving %s (%s, sha256 %s, context %d)", info.ID, path, info.Hash, info.Context)
				}
				engines = append(engines, engine)
			}
			if len(openaiModels) > 0 {
				var ms []oaexec.Model
				for _, spec := range openaiModels {
					up, id, _ := strings.Cut(spec, "=")
					ms = append(ms, oaexec.Model{Upstream: up, ID: id})
				}
				engine, err := oaexec.New(cmd.Context(), openaiURL, os.Getenv("MYCEL_OPENAI_API_KEY"), ms)
				if err != nil {
					return fmt.Errorf("--openai-url: %w", err)
				}
				for _, m := range engine.Models() {
					e.progress("serving %s through %s (not deterministic: answers are checked by disputes, not re-execution)", m.ID, openaiURL)
				}
				engines = append(engines, engine)
			} else if openaiURL != "" {
				return fmt.Errorf("--openai-url needs at least one --openai-model NAME[=ID]")
			}
			if len(engines) > 0 {
				cfg.Engine, cfg.ServeSlots = engines, serveSlots
			}
			if pricePerToken != "" && cfg.Engine == nil {
				return fmt.Errorf("--price-per-token prices the models served: give --serve-model or --openai-url too")
			}
			if pricePerToken != "" {
				pay, closeWallet, err := e.providerPayments(cmd.Context(), cfg.Client, cfg.Key, pricePerToken)
				if err != nil {
					return err
				}
				defer closeWallet()
				cfg.Payments = pay
				if redeemAbove != "" {
					if cfg.RedeemAbove, err = types.ParseAmount(redeemAbove); err != nil {
						return fmt.Errorf("--redeem-above: %w", err)
					}
				}
			}
			if listen != "" {
				if cfg.Engine == nil {
					return fmt.Errorf("--listen serves models: give --serve-model or --openai-url too")
				}
				ln, err := net.Listen("tcp", listen)
				if err != nil {
					return fmt.Errorf("--listen: %w", err)
				}
				cfg.PublicURL = publicURL
				if cfg.PublicURL == "" {
					cfg.PublicURL = "http://" + ln.Addr().String()
				}
				srv := &http.Server{Handler: provider.DirectHandler(cfg.Key, cfg.Engine, cfg.Payments), ReadHeaderTimeout: 10 * time.Second}
				go srv.Serve(ln)
				defer srv.Close()
				e.progress("answering inference requests straight at %s (announced as %s)", ln.Addr(), cfg.PublicURL)
			}
			p, err := provider.New(cfg)
			if err != nil {
				return err
			}
			e.progress("provider %s pulling work from %s (Ctrl-C stops it)", p.Address(), cfg.Client.URL())
			return p.Run(cmd.Context())
		},
	}
	runf.register(run)
	run.Flags().StringVar(&e.logLevel, "log-level", "info", "log level")
	run.Flags().StringArrayVar(&serveModels, "serve-model", nil, "serve this GGUF model through the gateway: FILE, or the SHA256 of a registered model (fetched from the node), optionally =ID (repeatable)")
	run.Flags().StringVar(&openaiURL, "openai-url", "", "also serve models of this OpenAI-compatible engine (vLLM, llama.cpp server, Ollama, a mycel gateway), such as http://127.0.0.1:8000/v1; its API key, if any, from $MYCEL_OPENAI_API_KEY")
	run.Flags().StringArrayVar(&openaiModels, "openai-model", nil, "a model of --openai-url to serve, as NAME or NAME=ID (repeatable)")
	run.Flags().StringVar(&listen, "listen", "", "with a public address: answer the node's inference requests straight on this address (host:port), not through long polls")
	run.Flags().StringVar(&publicURL, "public-url", "", "the URL nodes reach --listen at (default http://LISTEN)")
	run.Flags().IntVar(&serveSlots, "serve-slots", 0, "inference requests answered at once (default: the job slots)")
	run.Flags().StringVar(&pricePerToken, "price-per-token", "", "charge this much per generated token for the models served (like 2umyc), paid with payment channel vouchers to this provider (docs/gateway.md); default free")
	run.Flags().StringVar(&redeemAbove, "redeem-above", "", "with --price-per-token: also redeem a channel lane on chain once it has grown this much (default: only when the payer settles)")
	run.Flags().StringVar(&misbehave, "misbehave", "", "for testing verification only: cheat (lie, lie=RATE or silent)")
	_ = run.Flags().MarkHidden("misbehave")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the registered providers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ps, err := e.client().Providers(cmd.Context(), nil, 1000)
			if err != nil {
				return err
			}
			return e.print(ps, func(w io.Writer) {
				if len(ps) == 0 {
					fmt.Fprintln(w, "no providers yet; offer this machine with: mycel provider run --from KEY")
					return
				}
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "PROVIDER\tPRICE/CU\tCORES\tMEMORY\tGPU\tSCORE\tJOBS\tSTATE\n")
				for _, p := range ps {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%d MB\t%s\t%d CU/s\t%d/%d\t%s\n", p.Address, p.Price, p.Profile.Cores,
						p.Profile.MemoryMB, gpuString(p.Profile), p.Profile.Score, p.Active, p.Slots, providerState(p))
				}
				tw.Flush()
			})
		},
	}
	show := &cobra.Command{
		Use:   "show ADDRESS_OR_KEY",
		Short: "Show a provider: hardware, price, stake, jobs done, faults, how long registered",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := e.resolveAddress(args[0])
			if err != nil {
				return err
			}
			c := e.client()
			info, err := c.Provider(cmd.Context(), a)
			if err != nil {
				return err
			}
			st, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			return e.print(info, func(w io.Writer) { printProvider(w, info, st.Height) })
		},
	}
	cmd.AddCommand(register, run, list, show)
	return cmd
}

func gpuString(p compute.Profile) string {
	if p.Accel != compute.AccelGPU {
		return "-"
	}
	return fmt.Sprintf("%d× %s %d MB", p.AccelCount, p.AccelModel, p.AccelMemoryMB)
}

func providerState(p app.ProviderInfo) string {
	switch {
	case p.Retired:
		return "retired"
	case p.Jailed:
		return "jailed"
	case p.Available:
		return "available"
	case p.Active >= p.Slots:
		return "busy"
	}
	return "lease lapsed"
}

func printProvider(w io.Writer, p app.ProviderInfo, height int64) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "provider\t%s\n", p.Address)
	fmt.Fprintf(tw, "state\t%s\n", providerState(p))
	fmt.Fprintf(tw, "hardware\t%s, %d cores, %d MB, GPU %s\n", p.Profile.CPUModel, p.Profile.Cores, p.Profile.MemoryMB, gpuString(p.Profile))
	fmt.Fprintf(tw, "score\t%d compute units/s\n", p.Profile.Score)
	fmt.Fprintf(tw, "price\t%s per compute unit\n", p.Price)
	fmt.Fprintf(tw, "tier, region\t%s, %s\n", p.Tier, p.Region)
	fmt.Fprintf(tw, "stake\t%s\n", p.Stake)
	fmt.Fprintf(tw, "jobs\t%d running of %d slots; %d done, %d failed on their own, %d deadlines missed\n", p.Active, p.Slots, p.Done, p.Failed, p.Missed)
	fmt.Fprintf(tw, "faults\t%d proven (results that re-execution contradicted), %s slashed for them\n", p.Faults, p.Slashed)
	fmt.Fprintf(tw, "earned\t%s (job payments and rewards)\n", p.Earned)
	fmt.Fprintf(tw, "reputation\t%.3f of 1 (from settled work, misses, faults, age and stake; docs/verification.md)\n", float64(p.Reputation)/types.FractionOne)
	if p.Locked > 0 {
		fmt.Fprintf(tw, "stake locked\t%s by open optimistic jobs\n", p.Locked)
	}
	if height > 0 {
		fmt.Fprintf(tw, "registered\tat height %d, %d blocks ago\n", p.Since, height-p.Since)
		fmt.Fprintf(tw, "lease\tuntil height %d\n", p.Lease)
	} else {
		fmt.Fprintf(tw, "registered\tat height %d\n", p.Since)
	}
	tw.Flush()
}

// readFile reads a file named on the command line, naming it on error.
func readFile(flag, path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return b, nil
}

// modelFile returns a model's file: path itself when it exists, else,
// when it is a sha256, the registered model's file fetched from the
// node's blob store into --home/models (kept for the next start).
func (e *env) modelFile(ctx context.Context, path string) (string, error) {
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	h, err := types.ParseHash(path)
	if err != nil {
		return "", fmt.Errorf("no file %s, and it is not a model's sha256", path)
	}
	cached := filepath.Join(e.home, "models", h.String()+".gguf")
	if _, err := os.Stat(cached); err == nil {
		return cached, nil
	}
	c := e.client()
	if _, err := c.RegistryModel(ctx, h); err != nil {
		return "", fmt.Errorf("model %s: %w (register it with mycel model add)", h, err)
	}
	e.progress("fetching model %s from %s ...", h, c.URL())
	b, err := c.GetBlob(ctx, h)
	if err != nil {
		return "", fmt.Errorf("fetch model %s: %w", h, err)
	}
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
		return "", err
	}
	tmp := cached + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return "", err
	}
	return cached, os.Rename(tmp, cached)
}
