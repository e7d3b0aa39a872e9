// Command kernelprog runs the benchmark kernel as a WASI job: it reads the
// matrix size n in decimal on stdin and prints kernel.Run(n) in decimal.
// The wasm benchmark runs its build, examples/wasm/kernel.wasm.
package main

import (
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/mycelnet/mycel/examples/wasm/kernel"
)

func main() {
	in, _ := io.ReadAll(os.Stdin)
	n, err := strconv.Atoi(strings.TrimSpace(string(in)))
	if err != nil || n < 1 || n > 4096 {
		os.Stderr.WriteString("kernelprog: stdin must hold a matrix size from 1 to 4096\n")
		os.Exit(2)
	}
	os.Stdout.WriteString(strconv.FormatUint(kernel.Run(n), 10) + "\n")
}
