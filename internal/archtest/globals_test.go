package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// globalsProblems reports the process-global mutable state of one package's
// non-test files (already parsed): a func init(), a package-level variable
// of a sync or sync/atomic type, and a package-level variable that any
// function of the package assigns, increments, indexes into on the left of
// an assignment, or passes to delete or clear. Package-level variables may
// hold values built once at declaration (tables, compiled templates, sentinel
// errors); what varies while the process runs belongs to a value someone
// owns (a Store, a Service, a handler).
func globalsProblems(fset *token.FileSet, files []*ast.File) []string {
	var problems []string
	globals := map[string]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.Name == "init" {
					problems = append(problems, fmt.Sprintf("%s: func init(): build package-level values at their declaration, "+
						"or give the state to a value someone owns", fset.Position(d.Pos())))
				}
			case *ast.GenDecl:
				if d.Tok != token.VAR {
					continue
				}
				for _, spec := range d.Specs {
					vs := spec.(*ast.ValueSpec)
					for _, n := range vs.Names {
						if n.Name != "_" {
							globals[n.Name] = true
						}
					}
					if vs.Type != nil {
						if sel, ok := vs.Type.(*ast.SelectorExpr); ok {
							if pkg, ok := sel.X.(*ast.Ident); ok && (pkg.Name == "sync" || pkg.Name == "atomic") {
								problems = append(problems, fmt.Sprintf("%s: package-level %s.%s %s is process-global mutable state",
									fset.Position(vs.Pos()), pkg.Name, sel.Sel.Name, vs.Names[0].Name))
							}
						}
					}
				}
			}
		}
	}
	// root returns the package-level variable an expression writes into:
	// x, x[k], x.f, x[k].f… (nil when the root is not such a variable).
	var root func(e ast.Expr) *ast.Ident
	root = func(e ast.Expr) *ast.Ident {
		switch e := e.(type) {
		case *ast.Ident:
			return e
		case *ast.IndexExpr:
			return root(e.X)
		case *ast.SelectorExpr:
			return root(e.X)
		case *ast.StarExpr:
			return root(e.X)
		case *ast.ParenExpr:
			return root(e.X)
		}
		return nil
	}
	for _, f := range files {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			// Names a function declares (parameters, results, locals) shadow
			// the package-level ones; a write to one of those is local.
			local := map[string]bool{}
			for _, fl := range []*ast.FieldList{fn.Recv, fn.Type.Params, fn.Type.Results} {
				if fl == nil {
					continue
				}
				for _, field := range fl.List {
					for _, n := range field.Names {
						local[n.Name] = true
					}
				}
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.AssignStmt:
					if n.Tok == token.DEFINE {
						for _, l := range n.Lhs {
							if id, ok := l.(*ast.Ident); ok {
								local[id.Name] = true
							}
						}
					}
				case *ast.ValueSpec:
					for _, id := range n.Names {
						local[id.Name] = true
					}
				case *ast.RangeStmt:
					for _, e := range []ast.Expr{n.Key, n.Value} {
						if id, ok := e.(*ast.Ident); ok && n.Tok == token.DEFINE {
							local[id.Name] = true
						}
					}
				case *ast.FuncLit:
					for _, field := range n.Type.Params.List {
						for _, id := range field.Names {
							local[id.Name] = true
						}
					}
				}
				var targets []ast.Expr
				switch n := n.(type) {
				case *ast.AssignStmt:
					if n.Tok != token.DEFINE {
						targets = n.Lhs
					}
				case *ast.IncDecStmt:
					targets = []ast.Expr{n.X}
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok && (id.Name == "delete" || id.Name == "clear") && len(n.Args) > 0 {
						targets = []ast.Expr{n.Args[0]}
					}
				}
				for _, t := range targets {
					if id := root(t); id != nil && globals[id.Name] && !local[id.Name] {
						problems = append(problems, fmt.Sprintf("%s: %s writes package-level variable %s: "+
							"process-global mutable state; give it to a value someone owns",
							fset.Position(t.Pos()), fn.Name.Name, id.Name))
					}
				}
				return true
			})
		}
	}
	return problems
}

// TestNoProcessGlobalState checks every package of the module with
// globalsProblems.
func TestNoProcessGlobalState(t *testing.T) {
	t.Parallel()
	root, _ := moduleRoot(t)
	byDir := map[string][]*ast.File{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil && p != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		byDir[filepath.Dir(p)] = append(byDir[filepath.Dir(p)], f)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	if len(byDir) < 10 {
		t.Fatalf("found only %d package directories under %s", len(byDir), root)
	}
	dirs := make([]string, 0, len(byDir))
	for d := range byDir {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	table := layerTable()
	for _, d := range dirs {
		rel, err := filepath.Rel(root, d)
		if err != nil {
			t.Fatal(err)
		}
		// The test helpers (testdb, testredis, llmtest) hold what one test
		// binary shares (a pool, a counter): tests only, by the layer rule.
		if table[filepath.ToSlash(rel)].kind == kindTestHelper {
			continue
		}
		for _, p := range globalsProblems(fset, byDir[d]) {
			t.Error(p)
		}
	}
}

// TestGlobalsProblems proves the check can fail.
func TestGlobalsProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      []string
	}{
		{"TableBuiltAtDeclaration", `package p
var names = map[string]int{"a": 1}
func Get(k string) int { return names[k] }`, nil},
		{"LocalShadowIsFine", `package p
var names = map[string]int{}
func F() { names := map[string]int{}; names["a"] = 1; _ = names }`, nil},
		{"Init", `package p
func init() {}`, []string{"func init()"}},
		{"MapWrite", `package p
var seen = map[string]bool{}
func Mark(k string) { seen[k] = true }`, []string{"Mark writes package-level variable seen"}},
		{"Delete", `package p
var seen = map[string]bool{}
func Drop(k string) { delete(seen, k) }`, []string{"Drop writes package-level variable seen"}},
		{"Reassign", `package p
var n int
func Bump() { n++ }`, []string{"Bump writes package-level variable n"}},
		{"FieldWrite", `package p
var cfg struct{ On bool }
func Set() { cfg.On = true }`, []string{"Set writes package-level variable cfg"}},
		{"SyncType", `package p
import "sync"
var mu sync.Mutex`, []string{"package-level sync.Mutex mu"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "p.go", tt.src, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			got := globalsProblems(fset, []*ast.File{f})
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
