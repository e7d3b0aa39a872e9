// Package types holds the plain values every layer of mycel shares:
// addresses, integer token amounts, fractions, hashes, block information,
// events and coded errors. It imports only the standard library and crypto,
// so the deterministic core (chain/) and the edges (api/, cli/) can both use
// it.
package types
