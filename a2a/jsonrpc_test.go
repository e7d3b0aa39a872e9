package a2a

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// echo answers every message at once with a completed task.
type echo struct{ tasks map[string]Task }

func (e *echo) SendMessage(_ context.Context, r SendRequest) (SendResult, error) {
	reply := Message{MessageID: "r-" + r.Message.MessageID, Role: RoleAgent, Parts: []Part{TextPart("echo: " + r.Message.Text())}}
	t := Task{ID: "t1", ContextID: "c1", Status: Status{State: StateCompleted, Message: &reply, Timestamp: time.Unix(1, 0)},
		History:   []Message{r.Message, reply},
		Artifacts: []Artifact{{ArtifactID: "a1", Parts: []Part{TextPart("echo: " + r.Message.Text())}}}}
	e.tasks[t.ID] = t
	return SendResult{Task: &t}, nil
}

func (e *echo) GetTask(_ context.Context, id string, _ int) (Task, error) {
	t, ok := e.tasks[id]
	if !ok {
		return t, TaskNotFound(id)
	}
	return t, nil
}

func call(t *testing.T, srv *httptest.Server, body string) map[string]any {
	t.Helper()
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// Requests shaped as each version's specification writes them get
// answers in the same version's shapes.
func TestBothVersions(t *testing.T) {
	srv := httptest.NewServer(Handler(&echo{tasks: map[string]Task{}}))
	defer srv.Close()

	v1 := call(t, srv, `{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"message":
		{"messageId":"m1","role":"ROLE_USER","parts":[{"text":"hi"}]},"configuration":{"returnImmediately":false}}}`)
	if dig(v1, "id") != 1.0 || dig(v1, "result", "task", "status", "state") != "TASK_STATE_COMPLETED" ||
		dig(v1, "result", "task", "status", "message", "role") != "ROLE_AGENT" ||
		dig(v1, "result", "task", "artifacts", 0, "parts", 0, "text") != "echo: hi" || dig(v1, "result", "task", "kind") != nil {
		t.Fatalf("1.0: %v", v1)
	}
	v03 := call(t, srv, `{"jsonrpc":"2.0","id":"x","method":"message/send","params":{"message":
		{"kind":"message","messageId":"m2","role":"user","parts":[{"kind":"text","text":"yo"}]},"configuration":{"blocking":true}}}`)
	if dig(v03, "id") != "x" || dig(v03, "result", "kind") != "task" || dig(v03, "result", "status", "state") != "completed" ||
		dig(v03, "result", "status", "message", "parts", 0, "kind") != "text" || dig(v03, "result", "history", 0, "role") != "user" {
		t.Fatalf("0.3: %v", v03)
	}
	g := call(t, srv, `{"jsonrpc":"2.0","id":2,"method":"GetTask","params":{"id":"t1","historyLength":1}}`)
	if dig(g, "result", "id") != "t1" || len(dig(g, "result", "history").([]any)) != 1 {
		t.Fatalf("GetTask: %v", g)
	}
	g = call(t, srv, `{"jsonrpc":"2.0","id":3,"method":"tasks/get","params":{"id":"t1"}}`)
	if dig(g, "result", "kind") != "task" {
		t.Fatalf("tasks/get: %v", g)
	}
	for body, code := range map[string]float64{
		`{"jsonrpc":"2.0","id":4,"method":"tasks/get","params":{"id":"nope"}}`:                                                     CodeTaskNotFound,
		`{"jsonrpc":"2.0","id":5,"method":"Nope","params":{}}`:                                                                     CodeMethodNotFound,
		`{"jsonrpc":"2.0","id":6,"method":"SendMessage","params":{"message":{"messageId":"m","role":"ROLE_USER"}}}`:                CodeInvalidParams,
		`{"jsonrpc":"2.0","id":7,"method":"SendMessage","params":{"message":{"messageId":"m","role":"x","parts":[{"text":"a"}]}}}`: CodeInvalidParams,
		`{"jsonrpc":"1.0","id":8,"method":"GetTask"}`:                                                                              CodeInvalidRequest,
		`not json`:            CodeParseError,
		`[{"jsonrpc":"2.0"}]`: CodeInvalidRequest,
		`{"jsonrpc":"2.0","id":9,"method":"message/stream","params":{}}`:                                                                                     CodeUnsupportedOperation,
		`{"jsonrpc":"2.0","id":10,"method":"SendMessage","params":{"message":{"messageId":"m","role":"ROLE_USER","parts":[{"text":"a","url":"http://x"}]}}}`: CodeInvalidParams,
	} {
		if got := dig(call(t, srv, body), "error", "code"); got != code {
			t.Errorf("%s: error code %v, want %v", body, got, code)
		}
	}
}

func TestModelRoundTrip(t *testing.T) {
	task := Task{ID: "t", ContextID: "c", Status: Status{State: StateInputRequired, Timestamp: time.Unix(5, 0).UTC()},
		History: []Message{{MessageID: "m", Role: RoleUser, Parts: []Part{TextPart(""), {Data: json.RawMessage(`{"a":1}`)},
			{URL: "http://x/y", MediaType: "text/plain", Filename: "y"}, {Raw: []byte{1, 2}}}}}}
	for _, v := range []Version{V1, V03} {
		b, err := task.MarshalVersion(v)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseTask(b)
		if err != nil {
			t.Fatalf("%v: %v\n%s", v, err, b)
		}
		b2, _ := back.MarshalVersion(v)
		if string(b) != string(b2) {
			t.Fatalf("%v round trip:\n%s\n%s", v, b, b2)
		}
	}
}

func TestCard(t *testing.T) {
	c := Card{Name: "tides", Description: "tide tables", Version: "1.0.0", DefaultInputModes: []string{"text/plain"},
		DefaultOutputModes: []string{"text/plain"}, Skills: []Skill{{ID: "tide", Name: "Tides", Tags: []string{"sea"}}}}
	c.SetJSONRPC("http://127.0.0.1:8844/agents/1/a2a")
	b, _ := json.Marshal(c)
	back, err := ParseCard(b)
	if err != nil || back.JSONRPCURL() != "http://127.0.0.1:8844/agents/1/a2a" || back.URL != back.JSONRPCURL() {
		t.Fatalf("%v %s", err, b)
	}
	if _, err := ParseCard([]byte(`{"name":"x","version":"1"}`)); err == nil {
		t.Fatal("a card without an interface")
	}
}
