package deptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/mycelnet/mycel"

type pkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
	Export     string
	Standard   bool
	Name       string
}

// list runs go list over the module's packages (with export data for
// type checking).
func list(t *testing.T) map[string]*pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-export", "-deps", "-json", module+"/...")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, errb.String())
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(&out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = &p
	}
	return pkgs
}

func ours(path string) bool { return path == module || strings.HasPrefix(path, module+"/") }

func rel(path string) string { return strings.TrimPrefix(strings.TrimPrefix(path, module), "/") }

// The deterministic core may use only these standard packages.
var coreStd = map[string]bool{
	"bytes": true, "crypto/ed25519": true, "crypto/sha256": true, "encoding/base64": true, "encoding/binary": true, "encoding/hex": true,
	"encoding/json": true, "errors": true, "fmt": true, "math": true, "math/bits": true, "regexp": false,
	"sort": true, "strconv": true, "strings": true, "unicode/utf8": true, "slices": true,
}

// coreExternal are the outside modules the core may use: an ordered map
// for the in-memory store, bech32 and Ed25519 verification.
var coreExternal = []string{
	"github.com/google/btree",
	"github.com/btcsuite/btcd/btcutil/bech32",
	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519",
}

// inward lists, for each layer, the layers of ours it must not import:
// edges import inward, never the other way.
var inward = map[string][]string{
	"types":   {"chain", "app", "storage", "node", "api", "client", "cli", "internal", "keyring", "blobstore"},
	"chain":   {"app", "storage", "node", "api", "client", "cli", "internal", "keyring", "blobstore"},
	"storage": {"app", "node", "api", "client", "cli"},
	"app":     {"node", "api", "client", "cli", "internal"},
	"api":     {"node", "client", "cli", "internal"},
	"client":  {"node", "cli", "internal"},
	"node":    {"cli"},
	"runtime": {"types", "chain", "app", "storage", "node", "api", "client", "cli", "internal", "keyring", "blobstore", "train"},
	"train":   {"types", "chain", "app", "storage", "node", "api", "client", "cli", "internal", "keyring", "blobstore"},
	// inference is the shared vocabulary of gateway, providers and
	// clients: it sees none of them.
	"inference": {"chain", "app", "storage", "node", "api", "client", "cli", "internal", "keyring", "blobstore", "worker", "train"},
	"models":    {"chain", "app", "storage", "node", "api", "client", "cli", "internal", "keyring", "blobstore", "worker", "train", "runtime"},
	// paywallet is shared by payers, payees and the gateway: it sees the
	// chain's vouchers, not the API or its client.
	"paywallet": {"app", "storage", "node", "api", "client", "cli", "internal", "keyring", "blobstore", "worker"},
	// discovery is the node's index of the agent registry: it reads chain
	// records handed to it, never the node, the API or the stores.
	"discovery": {"app", "storage", "node", "api", "client", "cli", "internal", "keyring", "blobstore", "worker"},
	// a2a is the protocol's model and JSON-RPC binding, agentmsg the
	// envelopes: both shared by nodes, agents and clients, so they see
	// none of them; the mailbox store sees only envelopes and storage;
	// the agent SDK is a client of a node, never a part of one.
	"a2a":      {"types", "chain", "app", "storage", "node", "api", "client", "cli", "internal", "keyring", "blobstore", "worker", "agentmsg", "mailbox", "agent"},
	"agentmsg": {"app", "storage", "node", "api", "client", "cli", "internal", "keyring", "blobstore", "worker", "mailbox", "agent"},
	"mailbox":  {"app", "node", "api", "client", "cli", "internal", "keyring", "blobstore", "worker", "agent"},
	"agent":    {"app", "storage", "node", "cli", "internal", "blobstore", "worker", "mailbox"},
}

func layer(path string) string {
	r := rel(path)
	if i := strings.Index(r, "/"); i >= 0 {
		return r[:i]
	}
	return r
}

func TestImportDirection(t *testing.T) {
	for path, p := range list(t) {
		if !ours(path) {
			continue
		}
		for _, imp := range p.Imports {
			if !ours(imp) {
				continue
			}
			for _, banned := range inward[layer(path)] {
				if layer(imp) == banned {
					t.Errorf("%s imports %s: %s may not depend on %s", rel(path), rel(imp), layer(path), banned)
				}
			}
		}
	}
}

func TestCoreImports(t *testing.T) {
	pkgs := list(t)
	for path, p := range pkgs {
		if !ours(path) || (layer(path) != "chain" && layer(path) != "types") {
			continue
		}
		for _, imp := range p.Imports {
			dep := pkgs[imp]
			switch {
			case ours(imp):
			case dep != nil && dep.Standard:
				if !coreStd[imp] {
					t.Errorf("%s imports %s: the deterministic core may not (no clock, randomness, I/O or concurrency)", rel(path), imp)
				}
			default:
				ok := false
				for _, e := range coreExternal {
					ok = ok || imp == e
				}
				if !ok {
					t.Errorf("%s imports %s, which is not on the core's list", rel(path), imp)
				}
			}
		}
	}
}

// TestCoreDeterminism type-checks chain/ and refuses goroutines, floats
// and ranging over maps (whose order Go randomises), except a range marked
// //mycel:sorted that only collects keys to sort.
func TestCoreDeterminism(t *testing.T) {
	pkgs := list(t)
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		p := pkgs[path]
		if p == nil || p.Export == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(p.Export)
	})
	var paths []string
	for path := range pkgs {
		if ours(path) && layer(path) == "chain" {
			paths = append(paths, path)
		}
	}
	sort.Strings(paths)
	if len(paths) < 5 {
		t.Fatalf("found only %v under chain/", paths)
	}
	for _, path := range paths {
		p := pkgs[path]
		var files []*ast.File
		for _, f := range p.GoFiles {
			af, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, af)
		}
		info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
		conf := types.Config{Importer: imp}
		if _, err := conf.Check(path, fset, files, info); err != nil {
			t.Fatalf("type-check %s: %v", path, err)
		}
		for _, f := range files {
			// A map range marked //mycel:sorted collects keys to sort.
			sortedLines := map[int]bool{}
			for _, cg := range f.Comments {
				for _, c := range cg.List {
					if strings.Contains(c.Text, "mycel:sorted") {
						sortedLines[fset.Position(c.End()).Line] = true
					}
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.GoStmt:
					t.Errorf("%s: a goroutine in the deterministic core", fset.Position(n.Pos()))
				case *ast.RangeStmt:
					if tv, ok := info.Types[n.X]; ok {
						line := fset.Position(n.Pos()).Line
						if _, isMap := tv.Type.Underlying().(*types.Map); isMap && !sortedLines[line] && !sortedLines[line-1] {
							t.Errorf("%s: ranging over a map; iterate sorted keys", fset.Position(n.Pos()))
						}
					}
				case ast.Expr:
					if tv, ok := info.Types[n]; ok {
						if b, ok := tv.Type.Underlying().(*types.Basic); ok && b.Info()&types.IsFloat != 0 {
							t.Errorf("%s: a float in the deterministic core", fset.Position(n.Pos()))
							return false
						}
					}
				}
				return true
			})
		}
	}
}

// archMath are the functions of package math whose results may differ
// between architectures (assembly on some, fused multiply-adds on others,
// or no promise of correct rounding). The runtime uses its own
// (runtime/detmath); Sqrt, Abs, Floor and the bit conversions are exact
// everywhere and stay allowed.
var archMath = map[string]bool{
	"Exp": true, "Exp2": true, "Expm1": true, "Log": true, "Log2": true, "Log10": true, "Log1p": true,
	"Pow": true, "Pow10": true, "Sin": true, "Cos": true, "Sincos": true, "Tan": true, "Sinh": true,
	"Cosh": true, "Tanh": true, "Asin": true, "Acos": true, "Atan": true, "Atan2": true, "Asinh": true,
	"Acosh": true, "Atanh": true, "Erf": true, "Erfc": true, "Erfinv": true, "Erfcinv": true,
	"Gamma": true, "Lgamma": true, "Hypot": true, "Cbrt": true, "FMA": true, "J0": true, "J1": true,
	"Jn": true, "Y0": true, "Y1": true, "Yn": true, "Mod": true, "Remainder": true,
}

// TestRuntimeMath refuses calls of archMath functions in the runtime's
// computing packages: a result that differs in its last bit on another
// processor would break mycel-rt's same-bits promise.
func TestRuntimeMath(t *testing.T) {
	n := 0
	for path, p := range list(t) {
		r := rel(path)
		if !ours(path) || layer(path) != "runtime" || r == "runtime/detmath" {
			continue
		}
		fset := token.NewFileSet()
		for _, f := range p.GoFiles {
			af, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			mathName := ""
			for _, im := range af.Imports {
				if im.Path.Value == `"math"` {
					mathName = "math"
					if im.Name != nil {
						mathName = im.Name.Name
					}
				}
			}
			if mathName == "" {
				continue
			}
			n++
			ast.Inspect(af, func(x ast.Node) bool {
				if sel, ok := x.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == mathName && archMath[sel.Sel.Name] {
						t.Errorf("%s: math.%s in the runtime; use runtime/detmath", fset.Position(sel.Pos()), sel.Sel.Name)
					}
				}
				return true
			})
		}
	}
	if n == 0 {
		t.Fatal("found no runtime file importing math: is the rule looking in the right place?")
	}
}

func TestEveryPackageHasADocComment(t *testing.T) {
	for path, p := range list(t) {
		if !ours(path) || len(p.GoFiles) == 0 {
			continue
		}
		documented := false
		fset := token.NewFileSet()
		for _, f := range p.GoFiles {
			af, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			documented = documented || (af.Doc != nil && strings.HasPrefix(af.Doc.Text(), "Package "+af.Name.Name) ||
				af.Doc != nil && af.Name.Name == "main" && strings.HasPrefix(af.Doc.Text(), "Command "))
		}
		if !documented {
			t.Errorf("%s has no package doc comment (\"Package %s ...\")", rel(path), p.Name)
		}
	}
}
