// Package api is the node's HTTP API (default 127.0.0.1:8844): status,
// accounts with proofs, transactions, the blob store, the chain's rules,
// and Prometheus metrics. Handlers work over the Backend and BlobStore
// interfaces defined here; node implements them. Errors are JSON
// {"error": {"code", "message"}}, mapped to HTTP statuses in one place
// (errors.go).
package api
