package a2a

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Version is a protocol version of the JSON-RPC binding.
type Version int

// Versions.
const (
	// V03 is 0.3: message/send, tasks/get, "kind" discriminators.
	V03 Version = 3
	// V1 is 1.0: SendMessage, GetTask, protobuf-JSON.
	V1 Version = 10
)

func (v Version) String() string {
	if v == V1 {
		return "1.0"
	}
	return "0.3"
}

// Role says who wrote a message.
type Role string

// Roles.
const (
	RoleUser  Role = "user"
	RoleAgent Role = "agent"
)

// State is where a task is. The values are 0.3's names; 1.0 writes them
// as TASK_STATE_COMPLETED and so on.
type State string

// States.
const (
	StateSubmitted     State = "submitted"
	StateWorking       State = "working"
	StateCompleted     State = "completed"
	StateFailed        State = "failed"
	StateCanceled      State = "canceled"
	StateRejected      State = "rejected"
	StateInputRequired State = "input-required"
	StateAuthRequired  State = "auth-required"
)

var states = []State{StateSubmitted, StateWorking, StateCompleted, StateFailed, StateCanceled, StateRejected,
	StateInputRequired, StateAuthRequired}

// Terminal reports whether a task in state s is done for good.
func (s State) Terminal() bool {
	return s == StateCompleted || s == StateFailed || s == StateCanceled || s == StateRejected
}

// Interrupted reports whether a task in state s waits for its client.
func (s State) Interrupted() bool { return s == StateInputRequired || s == StateAuthRequired }

func (s State) v1() string {
	return "TASK_STATE_" + strings.ToUpper(strings.ReplaceAll(string(s), "-", "_"))
}

// ParseState reads a state in either version's spelling.
func ParseState(s string) (State, error) {
	for _, st := range states {
		if s == string(st) || s == st.v1() {
			return st, nil
		}
	}
	return "", fmt.Errorf("task state %q: want one of submitted, working, completed, failed, canceled, rejected, input-required, auth-required", s)
}

// Part is one piece of a message or an artifact: text, structured data,
// or a file given by URL or inline bytes.
type Part struct {
	Text      string          `json:"text,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	URL       string          `json:"url,omitempty"`
	Raw       []byte          `json:"raw,omitempty"`
	MediaType string          `json:"mediaType,omitempty"`
	Filename  string          `json:"filename,omitempty"`
	Metadata  map[string]any  `json:"metadata,omitempty"`
}

// TextPart returns a text part.
func TextPart(s string) Part { return Part{Text: s} }

// DataPart returns a part of structured data.
func DataPart(v any) (Part, error) {
	b, err := json.Marshal(v)
	return Part{Data: b}, err
}

// Kind is the part's kind in 0.3's words: text, data or file.
func (p Part) Kind() string {
	switch {
	case p.Data != nil:
		return "data"
	case p.URL != "" || p.Raw != nil:
		return "file"
	}
	return "text"
}

// Message is one turn of a conversation.
type Message struct {
	MessageID        string         `json:"messageId"`
	ContextID        string         `json:"contextId,omitempty"`
	TaskID           string         `json:"taskId,omitempty"`
	Role             Role           `json:"role"`
	Parts            []Part         `json:"parts"`
	Metadata         map[string]any `json:"metadata,omitempty"`
	ReferenceTaskIDs []string       `json:"referenceTaskIds,omitempty"`
}

// Text joins the message's text parts.
func (m *Message) Text() string {
	if m == nil {
		return ""
	}
	var b strings.Builder
	for _, p := range m.Parts {
		if p.Kind() == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// Status is a task's state with the message that goes with it.
type Status struct {
	State     State     `json:"state"`
	Message   *Message  `json:"message,omitempty"`
	Timestamp time.Time `json:"timestamp,omitzero"`
}

// Artifact is an output of a task.
type Artifact struct {
	ArtifactID  string         `json:"artifactId"`
	Name        string         `json:"name,omitempty"`
	Description string         `json:"description,omitempty"`
	Parts       []Part         `json:"parts"`
	Metadata    map[string]any `json:"metadata,omitempty"`
}

// Task is a unit of work an agent does for a client.
type Task struct {
	ID        string         `json:"id"`
	ContextID string         `json:"contextId"`
	Status    Status         `json:"status"`
	Artifacts []Artifact     `json:"artifacts,omitempty"`
	History   []Message      `json:"history,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
}

// WithHistory returns a copy of t with at most n messages of history (the
// latest); n < 0 keeps all.
func (t Task) WithHistory(n int) Task {
	if n >= 0 && len(t.History) > n {
		t.History = t.History[len(t.History)-n:]
	}
	if n == 0 {
		t.History = nil
	}
	return t
}

// ---- wire forms ----

// wirePart reads a part in either version: 0.3's {"kind": "text", ...} and
// {"kind": "file", "file": {...}}, or 1.0's {"text": ...}, {"data": ...},
// {"url": ...}, {"raw": ...}.
type wirePart struct {
	Kind      string          `json:"kind,omitempty"`
	Text      *string         `json:"text,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	URL       string          `json:"url,omitempty"`
	Raw       []byte          `json:"raw,omitempty"`
	MediaType string          `json:"mediaType,omitempty"`
	Filename  string          `json:"filename,omitempty"`
	Metadata  map[string]any  `json:"metadata,omitempty"`
	File      *wireFile       `json:"file,omitempty"`
}

type wireFile struct {
	URI      string `json:"uri,omitempty"`
	Bytes    []byte `json:"bytes,omitempty"`
	MimeType string `json:"mimeType,omitempty"`
	Name     string `json:"name,omitempty"`
}

func (w wirePart) part() (Part, error) {
	p := Part{MediaType: w.MediaType, Filename: w.Filename, Metadata: w.Metadata}
	n := 0
	if w.Text != nil {
		p.Text = *w.Text
		n++
	}
	if w.Data != nil && !bytes.Equal(w.Data, []byte("null")) {
		p.Data = w.Data
		n++
	}
	if w.URL != "" {
		p.URL = w.URL
		n++
	}
	if w.Raw != nil {
		p.Raw = w.Raw
		n++
	}
	if w.File != nil {
		p.URL, p.Raw = w.File.URI, w.File.Bytes
		if p.MediaType == "" {
			p.MediaType = w.File.MimeType
		}
		if p.Filename == "" {
			p.Filename = w.File.Name
		}
		if (p.URL == "") == (p.Raw == nil) {
			return p, fmt.Errorf("a file part needs a uri or bytes, not both or neither")
		}
		n++
	}
	switch w.Kind {
	case "", "text", "data", "file":
	default:
		return p, fmt.Errorf("part kind %q: want text, data or file", w.Kind)
	}
	if n != 1 {
		return p, fmt.Errorf("a part holds exactly one of text, data, url, raw or file; this one holds %d", n)
	}
	if w.Kind != "" && w.Kind != p.Kind() {
		return p, fmt.Errorf("part of kind %q holds %s", w.Kind, p.Kind())
	}
	return p, nil
}

func writePart(p Part, v Version) any {
	if v == V1 {
		w := wirePart{MediaType: p.MediaType, Filename: p.Filename, Metadata: p.Metadata}
		switch p.Kind() {
		case "data":
			w.Data = p.Data
		case "file":
			w.URL, w.Raw = p.URL, p.Raw
		default:
			t := p.Text
			w.Text = &t
		}
		return w
	}
	w := wirePart{Kind: p.Kind(), Metadata: p.Metadata}
	switch p.Kind() {
	case "data":
		w.Data = p.Data
	case "file":
		w.File = &wireFile{URI: p.URL, Bytes: p.Raw, MimeType: p.MediaType, Name: p.Filename}
	default:
		t := p.Text
		w.Text = &t
	}
	return w
}

func writeParts(ps []Part, v Version) []any {
	out := make([]any, 0, len(ps))
	for _, p := range ps {
		out = append(out, writePart(p, v))
	}
	return out
}

type wireMessage struct {
	Kind             string         `json:"kind,omitempty"`
	MessageID        string         `json:"messageId"`
	ContextID        string         `json:"contextId,omitempty"`
	TaskID           string         `json:"taskId,omitempty"`
	Role             string         `json:"role"`
	Parts            []wirePart     `json:"parts"`
	Metadata         map[string]any `json:"metadata,omitempty"`
	ReferenceTaskIDs []string       `json:"referenceTaskIds,omitempty"`
	Extensions       []string       `json:"extensions,omitempty"`
}

// ParseMessage reads a message in either version's JSON.
func ParseMessage(b []byte) (Message, error) {
	var w wireMessage
	if err := json.Unmarshal(b, &w); err != nil {
		return Message{}, fmt.Errorf("message: %w", err)
	}
	return w.message()
}

func (w wireMessage) message() (Message, error) {
	m := Message{MessageID: w.MessageID, ContextID: w.ContextID, TaskID: w.TaskID, Metadata: w.Metadata,
		ReferenceTaskIDs: w.ReferenceTaskIDs}
	switch w.Role {
	case "user", "ROLE_USER":
		m.Role = RoleUser
	case "agent", "ROLE_AGENT":
		m.Role = RoleAgent
	default:
		return m, fmt.Errorf("message role %q: want user or agent (ROLE_USER or ROLE_AGENT in 1.0)", w.Role)
	}
	if w.Kind != "" && w.Kind != "message" {
		return m, fmt.Errorf("message of kind %q", w.Kind)
	}
	if w.MessageID == "" {
		return m, fmt.Errorf("a message needs a messageId")
	}
	if len(w.Parts) == 0 {
		return m, fmt.Errorf("a message needs at least one part")
	}
	for i, wp := range w.Parts {
		p, err := wp.part()
		if err != nil {
			return m, fmt.Errorf("part %d: %w", i, err)
		}
		m.Parts = append(m.Parts, p)
	}
	return m, nil
}

// MarshalVersion writes m in a version's JSON.
func (m Message) MarshalVersion(v Version) ([]byte, error) { return json.Marshal(m.wire(v)) }

func (m Message) wire(v Version) map[string]any {
	out := map[string]any{"messageId": m.MessageID, "parts": writeParts(m.Parts, v)}
	if v == V1 {
		out["role"] = "ROLE_" + strings.ToUpper(string(m.Role))
	} else {
		out["kind"] = "message"
		out["role"] = string(m.Role)
	}
	if m.ContextID != "" {
		out["contextId"] = m.ContextID
	}
	if m.TaskID != "" {
		out["taskId"] = m.TaskID
	}
	if m.Metadata != nil {
		out["metadata"] = m.Metadata
	}
	if len(m.ReferenceTaskIDs) > 0 {
		out["referenceTaskIds"] = m.ReferenceTaskIDs
	}
	return out
}

// MarshalJSON writes the 1.0 form, the one mycel keeps messages in.
func (m Message) MarshalJSON() ([]byte, error) { return m.MarshalVersion(V1) }

// UnmarshalJSON reads either version.
func (m *Message) UnmarshalJSON(b []byte) error {
	msg, err := ParseMessage(b)
	if err != nil {
		return err
	}
	*m = msg
	return nil
}

func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (s Status) wire(v Version) map[string]any {
	out := map[string]any{}
	if v == V1 {
		out["state"] = s.State.v1()
	} else {
		out["state"] = string(s.State)
	}
	if s.Message != nil {
		out["message"] = s.Message.wire(v)
	}
	if !s.Timestamp.IsZero() {
		out["timestamp"] = timestamp(s.Timestamp)
	}
	return out
}

func (a Artifact) wire(v Version) map[string]any {
	out := map[string]any{"artifactId": a.ArtifactID, "parts": writeParts(a.Parts, v)}
	if a.Name != "" {
		out["name"] = a.Name
	}
	if a.Description != "" {
		out["description"] = a.Description
	}
	if a.Metadata != nil {
		out["metadata"] = a.Metadata
	}
	return out
}

func (t Task) wire(v Version) map[string]any {
	out := map[string]any{"id": t.ID, "contextId": t.ContextID, "status": t.Status.wire(v)}
	if v != V1 {
		out["kind"] = "task"
	}
	if len(t.Artifacts) > 0 {
		as := make([]any, 0, len(t.Artifacts))
		for _, a := range t.Artifacts {
			as = append(as, a.wire(v))
		}
		out["artifacts"] = as
	}
	if len(t.History) > 0 {
		hs := make([]any, 0, len(t.History))
		for _, m := range t.History {
			hs = append(hs, m.wire(v))
		}
		out["history"] = hs
	}
	if t.Metadata != nil {
		out["metadata"] = t.Metadata
	}
	return out
}

// MarshalVersion writes t in a version's JSON.
func (t Task) MarshalVersion(v Version) ([]byte, error) { return json.Marshal(t.wire(v)) }

type wireTask struct {
	Kind      string `json:"kind,omitempty"`
	ID        string `json:"id"`
	ContextID string `json:"contextId"`
	Status    struct {
		State     string       `json:"state"`
		Message   *wireMessage `json:"message,omitempty"`
		Timestamp string       `json:"timestamp,omitempty"`
	} `json:"status"`
	Artifacts []struct {
		ArtifactID  string         `json:"artifactId"`
		Name        string         `json:"name,omitempty"`
		Description string         `json:"description,omitempty"`
		Parts       []wirePart     `json:"parts"`
		Metadata    map[string]any `json:"metadata,omitempty"`
	} `json:"artifacts,omitempty"`
	History  []wireMessage  `json:"history,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// ParseTask reads a task in either version's JSON.
func ParseTask(b []byte) (Task, error) {
	var w wireTask
	if err := json.Unmarshal(b, &w); err != nil {
		return Task{}, fmt.Errorf("task: %w", err)
	}
	if w.Kind != "" && w.Kind != "task" {
		return Task{}, fmt.Errorf("task of kind %q", w.Kind)
	}
	if w.ID == "" {
		return Task{}, fmt.Errorf("a task needs an id")
	}
	t := Task{ID: w.ID, ContextID: w.ContextID, Metadata: w.Metadata}
	var err error
	if t.Status.State, err = ParseState(w.Status.State); err != nil {
		return t, err
	}
	if w.Status.Message != nil {
		m, err := w.Status.Message.message()
		if err != nil {
			return t, fmt.Errorf("status: %w", err)
		}
		t.Status.Message = &m
	}
	if w.Status.Timestamp != "" {
		if t.Status.Timestamp, err = time.Parse(time.RFC3339Nano, w.Status.Timestamp); err != nil {
			return t, fmt.Errorf("status timestamp: %w", err)
		}
	}
	for i, wa := range w.Artifacts {
		a := Artifact{ArtifactID: wa.ArtifactID, Name: wa.Name, Description: wa.Description, Metadata: wa.Metadata}
		for j, wp := range wa.Parts {
			p, err := wp.part()
			if err != nil {
				return t, fmt.Errorf("artifact %d part %d: %w", i, j, err)
			}
			a.Parts = append(a.Parts, p)
		}
		t.Artifacts = append(t.Artifacts, a)
	}
	for i, wm := range w.History {
		m, err := wm.message()
		if err != nil {
			return t, fmt.Errorf("history %d: %w", i, err)
		}
		t.History = append(t.History, m)
	}
	return t, nil
}

// MarshalJSON writes the 1.0 form.
func (t Task) MarshalJSON() ([]byte, error) { return t.MarshalVersion(V1) }

// UnmarshalJSON reads either version.
func (t *Task) UnmarshalJSON(b []byte) error {
	task, err := ParseTask(b)
	if err != nil {
		return err
	}
	*t = task
	return nil
}

// MarshalJSON writes the 1.0 form.
func (p Part) MarshalJSON() ([]byte, error) { return json.Marshal(writePart(p, V1)) }

// UnmarshalJSON reads either version.
func (p *Part) UnmarshalJSON(b []byte) error {
	var w wirePart
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	v, err := w.part()
	if err != nil {
		return err
	}
	*p = v
	return nil
}
