package a2a

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

// FuzzDispatch feeds arbitrary bodies to the JSON-RPC binding: no panic,
// the body is not modified, every answer is a result or an error (never
// both), and a message or task that parses survives a round trip in both
// versions.
func FuzzDispatch(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"message":{"messageId":"m","role":"ROLE_USER","parts":[{"text":"hi"}]}}}`,
		`{"jsonrpc":"2.0","id":"x","method":"message/send","params":{"message":{"kind":"message","messageId":"m","role":"user","parts":[{"kind":"file","file":{"uri":"http://x"}}]},"configuration":{"blocking":false}}}`,
		`{"jsonrpc":"2.0","id":2,"method":"GetTask","params":{"id":"t1","historyLength":0}}`,
		`{"jsonrpc":"2.0","id":3,"method":"tasks/get","params":{"name":"tasks/t1"}}`,
		`{"id":"t","contextId":"c","status":{"state":"TASK_STATE_COMPLETED","timestamp":"2025-01-01T00:00:00Z"},"artifacts":[{"artifactId":"a","parts":[{"data":{"k":1}}]}]}`,
		`[1,2]`, `{}`, `null`,
	} {
		f.Add([]byte(s))
	}
	svc := &echo{tasks: map[string]Task{}}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := append([]byte(nil), b...)
		res, _, rerr := Dispatch(context.Background(), svc, b)
		if !bytes.Equal(in, b) {
			t.Fatal("Dispatch modified its input")
		}
		if (res == nil) == (rerr == nil) {
			t.Fatalf("result %v and error %v", res, rerr)
		}
		if m, err := ParseMessage(b); err == nil {
			for _, v := range []Version{V1, V03} {
				out, err := m.MarshalVersion(v)
				if err != nil {
					t.Fatal(err)
				}
				back, err := ParseMessage(out)
				if err != nil {
					t.Fatalf("%v: %v\n%s", v, err, out)
				}
				again, _ := back.MarshalVersion(v)
				if !bytes.Equal(out, again) {
					t.Fatalf("%v round trip:\n%s\n%s", v, out, again)
				}
			}
		}
		if task, err := ParseTask(b); err == nil {
			if _, err := json.Marshal(task); err != nil {
				t.Fatal(err)
			}
		}
		_, _ = ParseCard(b)
	})
}
