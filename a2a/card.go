package a2a

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Protocol bindings a card may name.
const (
	BindingJSONRPC  = "JSONRPC"
	BindingGRPC     = "GRPC"
	BindingHTTPJSON = "HTTP+JSON"
)

// WellKnownPath is where an agent serves its card, relative to its base
// URL (0.3 and later; it was agent.json before).
const WellKnownPath = "/.well-known/agent-card.json"

// Card is an A2A Agent Card. Fields of both versions are here: 1.0 cards
// list supportedInterfaces, 0.3 cards carry url and preferredTransport.
// A node serves a registered card's bytes as they were uploaded (the
// chain holds their hash), never this struct re-encoded.
type Card struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Version     string `json:"version"`
	// SupportedInterfaces is 1.0's list of endpoints.
	SupportedInterfaces []Interface `json:"supportedInterfaces,omitempty"`
	// URL, PreferredTransport, ProtocolVersion and AdditionalInterfaces
	// are 0.3's.
	URL                  string          `json:"url,omitempty"`
	PreferredTransport   string          `json:"preferredTransport,omitempty"`
	ProtocolVersion      string          `json:"protocolVersion,omitempty"`
	AdditionalInterfaces []Interface     `json:"additionalInterfaces,omitempty"`
	Provider             *Provider       `json:"provider,omitempty"`
	DocumentationURL     string          `json:"documentationUrl,omitempty"`
	IconURL              string          `json:"iconUrl,omitempty"`
	Capabilities         Capabilities    `json:"capabilities"`
	DefaultInputModes    []string        `json:"defaultInputModes"`
	DefaultOutputModes   []string        `json:"defaultOutputModes"`
	Skills               []Skill         `json:"skills"`
	SecuritySchemes      json.RawMessage `json:"securitySchemes,omitempty"`
	SecurityRequirements json.RawMessage `json:"securityRequirements,omitempty"`
	Signatures           json.RawMessage `json:"signatures,omitempty"`
}

// Interface is one way to reach an agent. 0.3 calls the binding
// "transport" and has no protocol version per interface.
type Interface struct {
	URL             string `json:"url"`
	ProtocolBinding string `json:"protocolBinding,omitempty"`
	Transport       string `json:"transport,omitempty"`
	ProtocolVersion string `json:"protocolVersion,omitempty"`
	Tenant          string `json:"tenant,omitempty"`
}

// binding is the interface's binding, by either version's name.
func (in Interface) binding() string {
	if in.ProtocolBinding != "" {
		return in.ProtocolBinding
	}
	return in.Transport
}

// Provider is the organisation behind an agent.
type Provider struct {
	Organization string `json:"organization"`
	URL          string `json:"url"`
}

// Capabilities are what an agent supports beyond plain requests.
type Capabilities struct {
	Streaming         bool        `json:"streaming,omitempty"`
	PushNotifications bool        `json:"pushNotifications,omitempty"`
	Extensions        []Extension `json:"extensions,omitempty"`
	ExtendedAgentCard bool        `json:"extendedAgentCard,omitempty"`
}

// Extension is an extension of the protocol the agent supports, named by
// its URI, with parameters of the extension's own.
type Extension struct {
	URI         string         `json:"uri"`
	Description string         `json:"description,omitempty"`
	Required    bool           `json:"required,omitempty"`
	Params      map[string]any `json:"params,omitempty"`
}

// Skill is one thing an agent does.
type Skill struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	Examples    []string `json:"examples,omitempty"`
	InputModes  []string `json:"inputModes,omitempty"`
	OutputModes []string `json:"outputModes,omitempty"`
}

// MaxCardBytes bounds what ParseCard reads.
const MaxCardBytes = 1 << 20

// SetJSONRPC makes url the card's JSON-RPC endpoint for both protocol
// versions: 1.0's supportedInterfaces and 0.3's url and
// preferredTransport (the endpoint answers either version's methods).
func (c *Card) SetJSONRPC(url string) {
	c.SupportedInterfaces = []Interface{
		{URL: url, ProtocolBinding: BindingJSONRPC, ProtocolVersion: "1.0"},
		{URL: url, ProtocolBinding: BindingJSONRPC, ProtocolVersion: "0.3"},
	}
	c.URL, c.PreferredTransport, c.ProtocolVersion = url, BindingJSONRPC, "0.3.0"
}

// JSONRPCURL returns the card's JSON-RPC endpoint: the first JSONRPC
// interface of 1.0's list, else 0.3's url when its transport is JSON-RPC;
// empty when there is none.
func (c *Card) JSONRPCURL() string {
	for _, in := range c.SupportedInterfaces {
		if in.binding() == BindingJSONRPC {
			return in.URL
		}
	}
	if c.URL != "" && (c.PreferredTransport == "" || c.PreferredTransport == BindingJSONRPC) {
		return c.URL
	}
	for _, in := range c.AdditionalInterfaces {
		if in.binding() == BindingJSONRPC {
			return in.URL
		}
	}
	return ""
}

// Extension returns the card's extension with this URI.
func (c *Card) Extension(uri string) (Extension, bool) {
	for _, e := range c.Capabilities.Extensions {
		if e.URI == uri {
			return e, true
		}
	}
	return Extension{}, false
}

// ParseCard reads a card leniently, as a client reads what an agent
// serves: a JSON object with a name and a way to reach the agent (1.0's
// supportedInterfaces or 0.3's url). Validate checks it against the
// specification's required fields.
func ParseCard(b []byte) (*Card, error) {
	if len(b) > MaxCardBytes {
		return nil, fmt.Errorf("agent card of %d bytes: at most %d", len(b), MaxCardBytes)
	}
	var c Card
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("agent card: %v", err)
	}
	if strings.TrimSpace(c.Name) == "" {
		return nil, fmt.Errorf("agent card has no \"name\"")
	}
	if len(c.SupportedInterfaces) == 0 && c.URL == "" {
		return nil, fmt.Errorf("agent card %q has neither \"supportedInterfaces\" (A2A 1.0) nor \"url\" (A2A 0.3): say where the agent is reached", c.Name)
	}
	return &c, nil
}

// ValidateCard parses a card and checks it as an A2A Agent Card: what
// ParseCard checks, plus the fields the specification requires (name,
// description, version, capabilities, defaultInputModes,
// defaultOutputModes and skills, each skill with an id, a name, a
// description and tags), and every interface: 1.0's supportedInterfaces
// each with an http(s) url, a protocolBinding of JSONRPC, GRPC or
// HTTP+JSON and a protocolVersion; or 0.3's url with a preferredTransport
// of those three (JSONRPC when absent, as 0.3 specifies). The error names
// the field and what it needs. The registry's CLI checks a card this way
// before uploading it, and a node before serving one.
func ValidateCard(b []byte) (*Card, error) {
	c, err := ParseCard(b)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&fields); err != nil {
		return nil, fmt.Errorf("agent card is not a JSON object: %v", err)
	}
	for _, f := range []string{"description", "version", "capabilities", "defaultInputModes", "defaultOutputModes", "skills"} {
		if v, ok := fields[f]; !ok || string(v) == "null" {
			return nil, fmt.Errorf("agent card %q has no %q: an A2A Agent Card requires it", c.Name, f)
		}
	}
	switch {
	case strings.TrimSpace(c.Description) == "":
		return nil, fmt.Errorf("agent card %q: \"description\" is empty", c.Name)
	case strings.TrimSpace(c.Version) == "":
		return nil, fmt.Errorf("agent card %q: \"version\" is empty (the agent's own version, such as \"1.0.0\")", c.Name)
	}
	for i, s := range c.Skills {
		switch {
		case s.ID == "":
			return nil, fmt.Errorf("agent card %q: skill %d has no \"id\"", c.Name, i)
		case s.Name == "":
			return nil, fmt.Errorf("agent card %q: skill %q has no \"name\"", c.Name, s.ID)
		case s.Description == "":
			return nil, fmt.Errorf("agent card %q: skill %q has no \"description\"", c.Name, s.ID)
		case s.Tags == nil:
			return nil, fmt.Errorf("agent card %q: skill %q has no \"tags\" (an empty list will do)", c.Name, s.ID)
		}
	}
	if len(c.SupportedInterfaces) > 0 {
		for i, in := range c.SupportedInterfaces {
			if err := checkInterface(in.URL, in.binding()); err != nil {
				return nil, fmt.Errorf("agent card %q: supportedInterfaces[%d]: %v", c.Name, i, err)
			}
			if in.ProtocolVersion == "" {
				return nil, fmt.Errorf("agent card %q: supportedInterfaces[%d] has no \"protocolVersion\" (such as \"1.0\")", c.Name, i)
			}
		}
		return c, nil
	}
	t := c.PreferredTransport
	if t == "" {
		t = BindingJSONRPC
	}
	if err := checkInterface(c.URL, t); err != nil {
		return nil, fmt.Errorf("agent card %q: %v", c.Name, err)
	}
	for i, in := range c.AdditionalInterfaces {
		if err := checkInterface(in.URL, in.binding()); err != nil {
			return nil, fmt.Errorf("agent card %q: additionalInterfaces[%d]: %v", c.Name, i, err)
		}
	}
	return c, nil
}

func checkInterface(url, binding string) error {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return fmt.Errorf("url %q: want an http:// or https:// URL", url)
	}
	switch binding {
	case BindingJSONRPC, BindingGRPC, BindingHTTPJSON:
		return nil
	}
	return fmt.Errorf("protocol binding %q: use JSONRPC, GRPC or HTTP+JSON", binding)
}
