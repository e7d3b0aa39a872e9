// Package model is the model registry: models registered by content hash
// (the sha256 of the model file, its identity) with an owner, a name, a
// format, a size, a license, an optional parent model and a description.
//
// A registration is the signer's claim that the file with this hash is its
// model, under this name and license. The hash, the format, the size and
// the parent never change; the owner may rename the model, change its
// license and description, and transfer it to another owner. A parent must
// be registered before its children, so every provenance chain ends at a
// model without a parent and has no cycle. Names are not unique: anyone
// may register a model called "llama-3-8b", so clients that want one
// owner's model filter by owner, and the hash is what a job or a receipt
// names.
//
// The bytes themselves live off chain in the nodes' blob stores, which
// keep the blobs of registered models (app.ReferencedBlobs).
//
// Models can be registered at genesis (height 0), with any owner address,
// which needs no account.
//
// State:
//
//	model/m/{hash}                                 model record
//	model/n/{len(name)}{name}{height}{hash}        index by name, then registration height
//	model/o/{owner}{hash}                          index by owner
//
// Invariant (CheckInvariant): every record is valid, its parent is
// registered, and the name and owner indexes hold exactly one entry for
// each model, matching its record.
package model
