package a2a

import (
	"strings"
	"testing"
)

const v1Card = `{"name": "Tide Oracle", "description": "Tide tables for any harbour", "version": "1.0.0",
 "supportedInterfaces": [{"url": "https://tides.example/a2a", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}],
 "capabilities": {"streaming": false}, "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"],
 "skills": [{"id": "tide-tables", "name": "Tide tables", "description": "High and low water", "tags": ["ocean"]}]}`

const v03Card = `{"name": "Echo", "description": "Says it back", "version": "0.1", "url": "http://127.0.0.1:9/a2a",
 "preferredTransport": "JSONRPC", "protocolVersion": "0.3.0", "capabilities": {},
 "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"], "skills": []}`

// ValidateCard takes both versions' shapes and names what a card lacks.
func TestValidateCard(t *testing.T) {
	for _, good := range []string{v1Card, v03Card, strings.Replace(v03Card, `"preferredTransport": "JSONRPC",`, "", 1)} {
		if _, err := ValidateCard([]byte(good)); err != nil {
			t.Errorf("%v\n%s", err, good)
		}
	}
	for _, tc := range []struct{ card, want string }{
		{`[1]`, "agent card: json"},
		{`{"name": "x", "url": "http://h"}`, `has no "description"`},
		{strings.Replace(v1Card, `"version": "1.0.0",`, "", 1), `has no "version"`},
		{strings.Replace(v1Card, `"capabilities": {"streaming": false},`, "", 1), `has no "capabilities"`},
		{strings.Replace(v1Card, `"skills": [`, `"skillz": [`, 1), `has no "skills"`},
		{strings.Replace(v1Card, `"tags": ["ocean"]`, `"tagz": []`, 1), `skill "tide-tables" has no "tags"`},
		{strings.Replace(v1Card, `"description": "High and low water", `, "", 1), `skill "tide-tables" has no "description"`},
		{strings.Replace(v1Card, `"protocolBinding": "JSONRPC"`, `"protocolBinding": "SOAP"`, 1), `protocol binding "SOAP": use JSONRPC, GRPC or HTTP+JSON`},
		{strings.Replace(v1Card, `, "protocolVersion": "1.0"`, "", 1), `has no "protocolVersion"`},
		{strings.Replace(v1Card, `https://tides.example/a2a`, `tides.example`, 1), `url "tides.example": want an http:// or https:// URL`},
		{strings.Replace(v03Card, `"url": "http://127.0.0.1:9/a2a",`, "", 1), `neither "supportedInterfaces" (A2A 1.0) nor "url" (A2A 0.3)`},
		{strings.Replace(v03Card, `"JSONRPC"`, `"WS"`, 1), `protocol binding "WS"`},
	} {
		_, err := ValidateCard([]byte(tc.card))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s\ngot %v, want %q", tc.card, err, tc.want)
		}
	}
}
