package cli

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mycelnet/mycel/chain/model"
	"github.com/mycelnet/mycel/chain/tx"
	"github.com/mycelnet/mycel/client"
	"github.com/mycelnet/mycel/runtime/gguf"
	"github.com/mycelnet/mycel/types"
)

// formatByExt guesses a model file's format from its name.
var formatByExt = map[string]string{".gguf": "gguf", ".wasm": "wasm", ".onnx": "onnx", ".safetensors": "safetensors"}

func (e *env) modelAddCmd() *cobra.Command {
	var f txFlags
	var name, license, parent, description, format string
	var noUpload bool
	cmd := &cobra.Command{
		Use:   "add FILE [--name NAME] [--license L] [--parent HASH|FILE] [--description D] [--format F] --from KEY",
		Short: "Register a model file in the on-chain registry by its sha256, and upload it to the node's blob store",
		Long: `Register a model file in the on-chain model registry. The file's sha256 is the
model's identity; the signer (--from) owns the registration and can later rename
it, change its license and description (mycel model update) or transfer it
(mycel model transfer). The hash, format, size and parent never change.

The file is uploaded to the node's blob store first (signed by --from), and the
nodes keep the blobs of registered models; --no-upload registers a file that is
served some other way (one over the node's blob size limit, say).

--format defaults to the file's extension (.gguf, .wasm, .onnx, .safetensors),
else gguf. A GGUF file must parse, and --name defaults to its general.name.
--parent names the registered model this one was derived from (fine-tuned,
quantised, distilled). Prints the model's hash.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			path := args[0]
			key, err := e.signer()
			if err != nil {
				return err
			}
			st, err := os.Stat(path)
			if err != nil {
				return fmt.Errorf("model file: %w", err)
			}
			if !st.Mode().IsRegular() {
				return fmt.Errorf("model file %s is not a regular file", path)
			}
			if st.Size() == 0 {
				return fmt.Errorf("model file %s is empty", path)
			}
			if format == "" {
				format = formatByExt[strings.ToLower(filepath.Ext(path))]
				if format == "" {
					format = "gguf"
				}
			}
			fm, err := model.ParseFormat(format)
			if err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			if fm == model.FormatGGUF {
				gf, fh, err := gguf.Open(path)
				if err != nil {
					return fmt.Errorf("%w (the runtime cannot read it; if the file is not GGUF, pass --format wasm, onnx or safetensors)", err)
				}
				fh.Close()
				if name == "" {
					if name, err = nameFromGGUF(gf); err != nil {
						return fmt.Errorf("%s: %w", path, err)
					}
					e.progress("name %q, from the file's general.name", name)
				}
			}
			if name == "" {
				return fmt.Errorf("--name is required: a %s file carries no name of its own", fm)
			}
			if err := model.ValidateName(name); err != nil {
				return fmt.Errorf("--name: %w", err)
			}
			if err := model.ValidateLicense(license); err != nil {
				return fmt.Errorf("--license: %w", err)
			}
			if err := model.ValidateDescription(description); err != nil {
				return fmt.Errorf("--description: %w", err)
			}
			var parentHash types.Hash
			if parent != "" {
				if parentHash, err = modelArg("--parent", parent); err != nil {
					return err
				}
			}
			c := e.client()
			var data []byte
			var h types.Hash
			size := uint64(st.Size())
			if noUpload {
				if h, err = hashFile(path); err != nil {
					return err
				}
			} else {
				if data, err = os.ReadFile(path); err != nil {
					return fmt.Errorf("model file: %w", err)
				}
				h, size = types.SumHash(data), uint64(len(data))
			}
			// Refuse what the chain would refuse before uploading or
			// paying a fee.
			if m, err := c.RegistryModel(ctx, h); err == nil {
				return fmt.Errorf("%s is already registered: model %s, %q, owned by %s since height %d (see mycel model show %s)",
					path, h, m.Name, m.Owner, m.Registered, h)
			} else if !client.IsNotFound(err) {
				return err
			}
			if !parentHash.IsZero() {
				if _, err := c.RegistryModel(ctx, parentHash); client.IsNotFound(err) {
					return fmt.Errorf("--parent %s is not a registered model; register the parent first (mycel model add PARENT_FILE)", parentHash)
				} else if err != nil {
					return err
				}
			}
			if !noUpload {
				e.progress("uploading %s (%d bytes) ...", path, len(data))
				res, err := c.PutBlob(ctx, data, key.Private)
				var ce *client.Error
				if errors.As(err, &ce) && ce.Status == http.StatusRequestEntityTooLarge {
					return fmt.Errorf("upload %s: %w; register it without uploading with --no-upload, and serve the file some other way", path, err)
				}
				if err != nil {
					return fmt.Errorf("upload %s: %w", path, err)
				}
				if res.SHA256 != h {
					return fmt.Errorf("upload %s: the node stored sha256 %s, the file hashed to %s", path, res.SHA256, h)
				}
			}
			m := model.MsgRegisterModel{Hash: h, Name: name, Format: fm, Size: size, License: license,
				Parent: parentHash, Description: description}
			sub := f
			sub.async = false
			r, err := e.submit(ctx, &sub, []tx.Msg{{Kind: model.KindRegisterModel, Body: m.Encode()}}, fmt.Sprintf("register model %q", name))
			if err != nil {
				return err
			}
			out := map[string]any{"hash": h, "name": name, "size": m.Size, "format": fm, "owner": key.Address,
				"tx": r.Hash, "height": r.Height}
			return e.print(out, func(w io.Writer) {
				e.progress("registered %q (%s, %d bytes) in block %d, transaction %s; see it with: mycel model show %s",
					name, fm, m.Size, r.Height, r.Hash, h)
				fmt.Fprintln(w, h)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "", "the model's name: letters, digits and . _ : / - (default: a GGUF file's general.name)")
	fl.StringVar(&license, "license", "", "its license, an SPDX identifier such as MIT or Apache-2.0")
	fl.StringVar(&parent, "parent", "", "the registered model this one derives from: its sha256, or its file")
	fl.StringVar(&description, "description", "", "a description, at most 256 bytes")
	fl.StringVar(&format, "format", "", "gguf, wasm, onnx or safetensors (default: from the file's extension, else gguf)")
	fl.BoolVar(&noUpload, "no-upload", false, "register without uploading the file to the node's blob store")
	f.register(cmd)
	return cmd
}

// nameFromGGUF reads a GGUF file's general.name as a registry name:
// spaces become dashes and other characters a name cannot hold are
// dropped.
func nameFromGGUF(f *gguf.File) (string, error) {
	gn, ok := f.String("general.name")
	if !ok || gn == "" {
		return "", errors.New("the file has no general.name: pass --name")
	}
	if model.ValidateName(gn) == nil {
		return gn, nil
	}
	var b strings.Builder
	for _, r := range strings.TrimSpace(gn) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r < 0x80 && model.ValidateName("a"+string(r)) == nil:
			b.WriteRune(r)
		}
	}
	s := strings.TrimLeft(b.String(), "._:/-")
	if len(s) > model.MaxNameLen {
		s = s[:model.MaxNameLen]
	}
	if model.ValidateName(s) != nil {
		return "", fmt.Errorf("general.name %q makes no valid model name: pass --name", gn)
	}
	return s, nil
}

func hashFile(path string) (types.Hash, error) {
	f, err := os.Open(path)
	if err != nil {
		return types.Hash{}, fmt.Errorf("model file: %w", err)
	}
	defer f.Close()
	s := sha256.New()
	if _, err := io.Copy(s, f); err != nil {
		return types.Hash{}, fmt.Errorf("read %s: %w", path, err)
	}
	var h types.Hash
	copy(h[:], s.Sum(nil))
	return h, nil
}

func parseModelHash(what, s string) (types.Hash, error) {
	h, err := types.ParseHash(strings.ToLower(s))
	if err != nil {
		return h, fmt.Errorf("%s %q: want the 64 hex digits of a model file's sha256 (see mycel model list)", what, s)
	}
	return h, nil
}

// modelArg reads a model's hash, or hashes the file named.
func modelArg(what, s string) (types.Hash, error) {
	if h, err := parseModelHash(what, s); err == nil {
		return h, nil
	}
	if st, err := os.Stat(s); err == nil && st.Mode().IsRegular() {
		return hashFile(s)
	}
	return types.Hash{}, fmt.Errorf("%s %q: want the 64 hex digits of a model file's sha256, or the file (see mycel model list)", what, s)
}

func (e *env) modelListCmd() *cobra.Command {
	var name, owner, afterArg string
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--name NAME] [--owner ADDR_OR_KEY] [--after HASH] [--limit N]",
		Short: "List the models in the on-chain registry",
		Long: `List registered models: all of them in hash order, or those of one name in
registration order. Names are not unique; --owner narrows the list to one
owner's models. A full page ends with the --after to pass for the next.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f := model.Filter{Name: name, Limit: limit}
			if name != "" {
				if err := model.ValidateName(name); err != nil {
					return fmt.Errorf("--name: %w", err)
				}
			}
			if owner != "" {
				a, err := e.resolveAddress(owner)
				if err != nil {
					return fmt.Errorf("--owner: %w", err)
				}
				f.Owner = &a
			}
			if afterArg != "" {
				h, err := parseModelHash("--after", afterArg)
				if err != nil {
					return err
				}
				f.After = h
			}
			ms, err := e.client().RegistryModels(cmd.Context(), f)
			if err != nil {
				return err
			}
			if ms == nil {
				ms = []*model.Model{}
			}
			return e.print(ms, func(w io.Writer) {
				if len(ms) == 0 {
					fmt.Fprintln(w, "no models")
					return
				}
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "HASH\tNAME\tFORMAT\tSIZE\tLICENSE\tOWNER\tHEIGHT\n")
				for _, m := range ms {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", m.Hash, m.Name, m.Format, sizeIEC(m.Size), textOrDash(m.License), m.Owner, m.Registered)
				}
				tw.Flush()
				if len(ms) == limit {
					e.progress("more may follow: add --after %s", ms[len(ms)-1].Hash)
				}
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "", "only the models of this name, in registration order")
	fl.StringVar(&owner, "owner", "", "only this owner's models (address or key)")
	fl.StringVar(&afterArg, "after", "", "start after this model's hash (the last of the previous page)")
	fl.IntVar(&limit, "limit", 100, "models to list at most (up to 1000)")
	return cmd
}

func (e *env) modelShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show HASH|FILE",
		Short: "Show a registered model: owner, name, format, size, license, parent, registration height",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := modelArg("model", args[0])
			if err != nil {
				return err
			}
			c := e.client()
			m, err := c.RegistryModel(cmd.Context(), h)
			if client.IsNotFound(err) {
				return fmt.Errorf("model %s is not registered (register a file with: mycel model add FILE --from KEY)", h)
			}
			if err != nil {
				return err
			}
			parentName := ""
			if !m.Parent.IsZero() {
				if p, err := c.RegistryModel(cmd.Context(), m.Parent); err == nil {
					parentName = p.Name
				}
			}
			return e.print(m, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "model\t%s\n", m.Hash)
				fmt.Fprintf(tw, "name\t%s\n", m.Name)
				fmt.Fprintf(tw, "owner\t%s\n", m.Owner)
				fmt.Fprintf(tw, "format\t%s\n", m.Format)
				fmt.Fprintf(tw, "size\t%d bytes (%s)\n", m.Size, sizeIEC(m.Size))
				fmt.Fprintf(tw, "license\t%s\n", textOrDash(m.License))
				if m.Parent.IsZero() {
					fmt.Fprintf(tw, "parent\tnone\n")
				} else {
					fmt.Fprintf(tw, "parent\t%s %s\n", m.Parent, parentName)
				}
				if m.Description != "" {
					fmt.Fprintf(tw, "description\t%s\n", m.Description)
				}
				if m.Registered == 0 {
					fmt.Fprintf(tw, "registered\tat genesis\n")
				} else {
					fmt.Fprintf(tw, "registered\tat height %d\n", m.Registered)
				}
				tw.Flush()
			})
		},
	}
}

func (e *env) modelUpdateCmd() *cobra.Command {
	var f txFlags
	var name, license, description string
	cmd := &cobra.Command{
		Use:   "update HASH|FILE [--name NAME] [--license L] [--description D] --from KEY",
		Short: "Rename a model you own, or change its license or description",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := modelArg("model", args[0])
			if err != nil {
				return err
			}
			fl := cmd.Flags()
			if !fl.Changed("name") && !fl.Changed("license") && !fl.Changed("description") {
				return errors.New("nothing to change: pass --name, --license or --description")
			}
			cur, err := e.client().RegistryModel(cmd.Context(), h)
			if client.IsNotFound(err) {
				return fmt.Errorf("model %s is not registered", h)
			}
			if err != nil {
				return err
			}
			m := model.MsgUpdateModel{Hash: h, Name: cur.Name, License: cur.License, Description: cur.Description}
			if fl.Changed("name") {
				m.Name = name
			}
			if fl.Changed("license") {
				m.License = license
			}
			if fl.Changed("description") {
				m.Description = description
			}
			for _, c := range []struct {
				flag string
				err  error
			}{{"--name", model.ValidateName(m.Name)}, {"--license", model.ValidateLicense(m.License)}, {"--description", model.ValidateDescription(m.Description)}} {
				if c.err != nil {
					return fmt.Errorf("%s: %w", c.flag, c.err)
				}
			}
			return e.broadcast(cmd.Context(), &f, []tx.Msg{{Kind: model.KindUpdateModel, Body: m.Encode()}}, fmt.Sprintf("update model %s", h))
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the new name")
	cmd.Flags().StringVar(&license, "license", "", "the new license (empty to clear it)")
	cmd.Flags().StringVar(&description, "description", "", "the new description (empty to clear it)")
	f.register(cmd)
	return cmd
}

func (e *env) modelTransferCmd() *cobra.Command {
	var f txFlags
	cmd := &cobra.Command{
		Use:   "transfer HASH|FILE TO --from KEY",
		Short: "Give a model you own to another owner (TO is an address or a key name)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := modelArg("model", args[0])
			if err != nil {
				return err
			}
			to, err := e.resolveAddress(args[1])
			if err != nil {
				return err
			}
			m := model.MsgTransferModel{Hash: h, NewOwner: to}
			return e.broadcast(cmd.Context(), &f, []tx.Msg{{Kind: model.KindTransferModel, Body: m.Encode()}}, fmt.Sprintf("transfer model %s to %s", h, to))
		},
	}
	f.register(cmd)
	return cmd
}

// sizeIEC shows a size in binary units.
func sizeIEC(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func textOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
