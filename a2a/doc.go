// Package a2a is mycel's side of the Agent2Agent (A2A) protocol: the
// Agent Card, the message and task model, and the JSON-RPC 2.0 binding of
// both protocol versions clients speak today, 1.0 (SendMessage, GetTask;
// protobuf-JSON shapes: roles ROLE_USER, states TASK_STATE_COMPLETED, parts
// told apart by their field) and 0.3 (message/send, tasks/get; parts and
// results told apart by "kind", lower-case roles and states).
//
// The model here is version-neutral; Handler reads a request in the
// version its method name implies and answers in the same version. A node
// serves it for the agents it relays (POST /agents/{id}/a2a), and the
// agent SDK serves it on an agent's own host. The package uses only the
// standard library.
package a2a
