package agentmsg

import (
	"encoding/json"
	"fmt"

	"github.com/mycelnet/mycel/a2a"
)

// ExtensionURI names mycel's messaging extension in an Agent Card's
// capabilities.extensions. Its params say how to reach the agent with
// signed envelopes:
//
//	{"uri": "urn:mycel:a2a:agentmsg:v1",
//	 "description": "...", "required": false,
//	 "params": {
//	   "encryption_key": {"kty": "OKP", "crv": "X25519", "x": "<base64url>"},
//	   "hpke_suite": "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305",
//	   "mailboxes": ["http://node.example:8844"],
//	   "envelope_url": "https://agent.example/mycel/envelope"}}
//
// encryption_key is a JSON Web Key (RFC 8037) of the agent's X25519 key;
// mailboxes are the nodes whose mailbox the agent polls (empty when it has
// its own host); envelope_url is where its own host takes envelopes
// (absent behind NAT). Extensions are A2A's place for what the core
// protocol does not define, and a client that does not know this one
// ignores it, so the card stays a valid Agent Card.
const ExtensionURI = "urn:mycel:a2a:agentmsg:v1"

// CardInfo is what the extension says.
type CardInfo struct {
	EncryptionKey EncryptionKey
	Mailboxes     []string
	EnvelopeURL   string
}

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
}

// SetCardInfo puts the extension in a card, replacing any earlier one.
func SetCardInfo(c *a2a.Card, info CardInfo) {
	params := map[string]any{
		"encryption_key": jwk{Kty: "OKP", Crv: "X25519", X: info.EncryptionKey.String()},
		"hpke_suite":     Suite,
	}
	if len(info.Mailboxes) > 0 {
		params["mailboxes"] = info.Mailboxes
	}
	if info.EnvelopeURL != "" {
		params["envelope_url"] = info.EnvelopeURL
	}
	ext := a2a.Extension{URI: ExtensionURI, Params: params,
		Description: "mycel signed envelopes; payloads for the mailbox sealed with HPKE to encryption_key (see mycel's docs/agents.md)"}
	var exts []a2a.Extension
	for _, e := range c.Capabilities.Extensions {
		if e.URI != ExtensionURI {
			exts = append(exts, e)
		}
	}
	c.Capabilities.Extensions = append(exts, ext)
}

// CardInfoOf reads the extension from a card.
func CardInfoOf(c *a2a.Card) (CardInfo, error) {
	ext, ok := c.Extension(ExtensionURI)
	if !ok {
		return CardInfo{}, fmt.Errorf("agent card %q has no %s extension: it takes no mycel envelopes", c.Name, ExtensionURI)
	}
	b, err := json.Marshal(ext.Params)
	if err != nil {
		return CardInfo{}, err
	}
	var p struct {
		EncryptionKey jwk      `json:"encryption_key"`
		Suite         string   `json:"hpke_suite"`
		Mailboxes     []string `json:"mailboxes"`
		EnvelopeURL   string   `json:"envelope_url"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return CardInfo{}, fmt.Errorf("agent card %q: %s params: %w", c.Name, ExtensionURI, err)
	}
	if p.EncryptionKey.Kty != "OKP" || p.EncryptionKey.Crv != "X25519" {
		return CardInfo{}, fmt.Errorf("agent card %q: encryption_key must be an OKP JWK on X25519", c.Name)
	}
	if p.Suite != "" && p.Suite != Suite {
		return CardInfo{}, fmt.Errorf("agent card %q: hpke_suite %q: this node seals with %s", c.Name, p.Suite, Suite)
	}
	k, err := ParseEncryptionKey(p.EncryptionKey.X)
	if err != nil {
		return CardInfo{}, fmt.Errorf("agent card %q: %w", c.Name, err)
	}
	return CardInfo{EncryptionKey: k, Mailboxes: p.Mailboxes, EnvelopeURL: p.EnvelopeURL}, nil
}

// SetCardInfoJSON puts the extension in a card's JSON, replacing any
// earlier one, and keeps every other member as it is, including those the
// a2a package does not model (a card written by hand may carry more than
// this package reads). Members come back in sorted order, indented.
func SetCardInfoJSON(card []byte, info CardInfo) ([]byte, error) {
	var c, caps map[string]json.RawMessage
	if err := json.Unmarshal(card, &c); err != nil || c == nil {
		return nil, fmt.Errorf("agent card: want a JSON object: %v", err)
	}
	if raw, ok := c["capabilities"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &caps); err != nil {
			return nil, fmt.Errorf("agent card: capabilities: %v", err)
		}
	}
	if caps == nil {
		caps = map[string]json.RawMessage{}
	}
	var exts []json.RawMessage
	if raw, ok := caps["extensions"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &exts); err != nil {
			return nil, fmt.Errorf("agent card: capabilities.extensions: %v", err)
		}
	}
	// The extension as SetCardInfo writes it, so the two never disagree.
	var one a2a.Card
	SetCardInfo(&one, info)
	ours, err := json.Marshal(one.Capabilities.Extensions[0])
	if err != nil {
		return nil, err
	}
	kept := make([]json.RawMessage, 0, len(exts)+1)
	for _, raw := range exts {
		var e struct {
			URI string `json:"uri"`
		}
		if json.Unmarshal(raw, &e) == nil && e.URI == ExtensionURI {
			continue
		}
		kept = append(kept, raw)
	}
	if caps["extensions"], err = json.Marshal(append(kept, ours)); err != nil {
		return nil, err
	}
	if c["capabilities"], err = json.Marshal(caps); err != nil {
		return nil, err
	}
	return json.MarshalIndent(c, "", "  ")
}
