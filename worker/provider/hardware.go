package provider

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/mycelnet/mycel/chain/compute"
)

// Detect reads the machine's CPU, memory and NVIDIA GPUs (through
// nvidia-smi, when it is installed). The score is left to Benchmark.
func Detect(ctx context.Context) compute.Profile {
	p := compute.Profile{CPUModel: cpuModel(), Cores: uint32(runtime.NumCPU()), MemoryMB: memoryMB()}
	if gpus := nvidiaGPUs(ctx); len(gpus) > 0 {
		p.Accel, p.AccelModel, p.AccelCount, p.AccelMemoryMB = compute.AccelGPU, gpus[0].model, uint32(len(gpus)), gpus[0].memMB
		for _, g := range gpus[1:] {
			p.AccelMemoryMB = min(p.AccelMemoryMB, g.memMB) // the class holds for every card
		}
	}
	return p
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && (strings.TrimSpace(k) == "model name" || strings.TrimSpace(k) == "Model") {
			if m := strings.TrimSpace(v); m != "" {
				return truncate(m, 128)
			}
		}
	}
	return runtime.GOARCH
}

func memoryMB() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 1024
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return 1024
}

type gpu struct {
	model string
	memMB uint64
}

// nvidiaGPUs asks nvidia-smi, if there is one, for each card's name and
// memory.
func nvidiaGPUs(ctx context.Context) []gpu {
	path, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits").Output()
	if err != nil {
		return nil
	}
	return parseNvidiaSMI(string(out))
}

func parseNvidiaSMI(out string) []gpu {
	var gs []gpu
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, mem, ok := strings.Cut(line, ",")
		if !ok {
			continue
		}
		mb, err := strconv.ParseUint(strings.TrimSpace(mem), 10, 64)
		if err != nil {
			continue
		}
		gs = append(gs, gpu{model: truncate(strings.TrimSpace(name), 128), memMB: mb})
	}
	return gs
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
