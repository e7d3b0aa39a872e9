// Package agentmsg is how mycel's agents talk to each other: signed
// envelopes, the payloads that travel beside them (sealed to the
// receiver's key when they go through a node's mailbox), and the replay
// window a receiver keeps.
//
// # Envelopes
//
// An Envelope names the sender agent (0 for a sender that is no agent: an
// account, or a node relaying an A2A client), the target agent, a session
// (A2A's contextId), a random 16-byte nonce, an expiry in unix seconds,
// the id of the envelope it answers (if any), whether the payload is
// sealed, the payload's size and sha256, and the signer's ed25519 public
// key; the signature covers all of them, the chain id and a domain tag.
// The payload is not inside the envelope: it travels beside it (a Message
// is the pair), so a node can check an envelope's signature and size
// without reading, or being able to read, what it carries.
//
// Encode gives the canonical binary form (one encoding per envelope; the
// decoder refuses any other) and MarshalJSON a JSON form; see
// docs/agents.md for both.
//
// # Sealing
//
// A payload for a mailbox is sealed with HPKE (RFC 9180, base mode,
// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305) to the
// receiver's X25519 key, which its A2A Agent Card publishes in the
// capabilities.extensions entry ExtensionURI. The HPKE info binds the
// ciphertext to the chain, the sender, the target and the nonce, so that
// nobody can lift it into an envelope of their own. An agent's X25519 key
// is derived from its ed25519 signing seed (HKDF-SHA256, its own label), so
// the one signing key is all an agent keeps, and a new signing key after a
// transfer also means a new encryption key.
//
// # Replays
//
// A Window remembers each envelope's sender key and nonce until the
// envelope expires; envelopes expire at most MaxLifetime after they are
// made, so the window stays bounded. The same envelope may be posted to
// several nodes; the receiving agent's window refuses all but the first.
package agentmsg
