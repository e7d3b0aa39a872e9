// Command jobs is the executor tests' guest program, built for
// GOOS=wasip1 GOARCH=wasm by the tests. It is one program with many
// behaviours, chosen by the first line of stdin, so that the tests
// compile one module rather than one per behaviour.
package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	in := bufio.NewReader(os.Stdin)
	mode, _ := in.ReadString('\n')
	rest, _ := io.ReadAll(in)
	switch strings.TrimSpace(mode) {
	case "upper":
		os.Stdout.Write([]byte(strings.ToUpper(string(rest))))
	case "sha256":
		fmt.Printf("%x\n", sha256.Sum256(rest))
	case "spin":
		spin()
	case "bomb":
		bomb()
	case "bigout":
		line := []byte(strings.Repeat("x", 1023) + "\n")
		for {
			os.Stdout.Write(line)
		}
	case "nan":
		nan(string(rest))
	case "exit3":
		fmt.Println("exiting with 3")
		os.Exit(3)
	case "recurse":
		n, _ := strconv.Atoi(strings.TrimSpace(string(rest)))
		fmt.Println(depth(n))
	case "world":
		world()
	case "panic":
		var m map[string]int
		m["x"] = 1
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %q\n", mode)
		os.Exit(1)
	}
}

//go:noinline
func spin() {
	x := uint64(1)
	for {
		x = x*6364136223846793005 + 1442695040888963407
		if x == 42 {
			fmt.Println(x)
		}
	}
}

// bomb keeps allocating and keeping memory until the runtime gives up.
func bomb() {
	var keep [][]byte
	for i := 0; ; i++ {
		b := make([]byte, 1<<20)
		b[i%len(b)] = byte(i)
		keep = append(keep, b)
		if i%64 == 0 {
			fmt.Println(len(keep), "MiB")
		}
	}
}

//go:noinline
func depth(n int) int {
	if n == 0 {
		return 0
	}
	return depth(n-1) + 1
}

// nan prints the bits of float results that are NaNs. The operands come
// from the input so that the compiler cannot fold them.
func nan(args string) {
	var zero, one, inf float64
	fmt.Sscan(args, &zero, &one, &inf)
	payload := math.Float64frombits(0x7ff4000000000001 + uint64(zero)) // signalling, with payload
	payload32 := math.Float32frombits(0x7fa00001 + uint32(zero))
	neg := -one
	results := []float64{
		inf - inf,
		zero / zero,
		inf * zero,
		math.Sqrt(neg),
		payload + one,
		payload * one,
		min(payload, one),
		max(one, payload),
		math.Floor(payload),
		math.Ceil(payload),
		math.Trunc(payload),
		float64(payload32),
	}
	for _, r := range results {
		fmt.Printf("%016x\n", math.Float64bits(r))
	}
	f32 := []float32{
		float32(inf) - float32(inf),
		float32(zero) / float32(zero),
		payload32 + float32(one),
		float32(math.Sqrt(neg)),
		float32(payload),
	}
	for _, r := range f32 {
		fmt.Printf("%08x\n", math.Float32bits(r))
	}
}

// world prints what the job sees of its environment: args, environment,
// clocks, sleep, randomness, map order and the filesystem.
func world() {
	fmt.Println("args", os.Args, "env", len(os.Environ()))
	t0 := time.Now()
	fmt.Println("now", t0.UTC().Format(time.RFC3339Nano))
	time.Sleep(2 * time.Second)
	fmt.Println("slept at least 2s:", time.Since(t0) >= 2*time.Second)
	b := make([]byte, 16)
	rand.Read(b)
	fmt.Printf("crypto/rand %x\n", b)
	fmt.Println("math/rand", mrand.Uint64())
	m := map[int]bool{}
	for i := 0; i < 20; i++ {
		m[i] = true
	}
	var order []int
	for k := range m {
		order = append(order, k)
	}
	fmt.Println("map order", order)
	_, err := os.ReadFile("/etc/passwd")
	fmt.Println("read /etc/passwd:", err != nil)
	_, err = os.ReadDir(".")
	fmt.Println("read .:", err != nil)
}
