package provider

import (
	"context"
	"testing"
)

func TestParseNvidiaSMI(t *testing.T) {
	gs := parseNvidiaSMI("NVIDIA H100 80GB HBM3, 81559\nNVIDIA GeForce RTX 4090, 24564\nbad line\n, x\n")
	if len(gs) != 2 || gs[0].model != "NVIDIA H100 80GB HBM3" || gs[0].memMB != 81559 || gs[1].memMB != 24564 {
		t.Fatalf("parsed %+v", gs)
	}
	if gs := parseNvidiaSMI(""); len(gs) != 0 {
		t.Fatalf("empty output parsed as %+v", gs)
	}
}

// Detect reads this machine: some cores and memory, whatever it is.
func TestDetect(t *testing.T) {
	p := Detect(context.Background())
	if p.Cores == 0 || p.MemoryMB == 0 || p.CPUModel == "" {
		t.Fatalf("detected %+v", p)
	}
	if p.Accel == 0 && (p.AccelCount != 0 || p.AccelMemoryMB != 0) {
		t.Fatalf("accelerator memory without an accelerator: %+v", p)
	}
}
