// Command mycel is the mycel node, its workers and its command line.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mycelnet/mycel/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
