// Package provider is the provider daemon: it detects the machine's
// hardware, registers a profile with a price and a stake, then pulls work
// from a node's API (outbound connections only, so it runs behind NAT),
// runs each job with the executor of its kind, uploads the output, and
// commits and reveals the result. Its state on disk (salts, results,
// what was sent) lets it restart without losing or double-running
// assigned work.
package provider
