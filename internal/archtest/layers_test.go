// Package archtest holds tests about the shape of the module rather than its
// behaviour. layers_test.go enforces the package layer rule of
// ARCHITECTURE.md ("Packages and the dependency rule"), so a wrong import
// fails CI instead of slipping through review.
//
// The package has test files only: nothing imports it and it imports no
// module package.
package archtest

import (
	"bufio"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// kind says how a package takes part in the layer rule.
type kind int

const (
	// kindLayered packages import only module packages of a strictly lower
	// layer.
	kindLayered kind = iota

	// kindTestHelper packages (testdb, testredis) may be imported only by
	// _test.go files. They themselves may import layers 0–2 (the store, the
	// migrations, the queue), which sit below testHelperLayer.
	kindTestHelper

	// kindTestOnly packages consist of _test.go files only (this package).
	// Nothing can import them, and their tests may import anything.
	kindTestOnly
)

// testHelperLayer is the layer the test helpers are ranked at when they
// import something: above the store and the migrations they build on, below
// anything that could want them in non-test code. Two test helpers are on the
// same layer, so neither may import the other.
const testHelperLayer = 3

// rule is one row of the layer table.
type rule struct {
	kind  kind
	layer int

	// stdlibOnly packages import no third-party module at all (module
	// packages of a lower layer are still subject to the layer rule only).
	stdlibOnly bool
}

// layerTable is ARCHITECTURE.md's package table, keyed by the package's
// directory relative to the module root (slash-separated). A new package
// directory must be added here, with its layer, and to ARCHITECTURE.md.
func layerTable() map[string]rule {
	return map[string]rule{
		"internal/crm":     {layer: 0, stdlibOnly: true},
		"internal/stem":    {layer: 0, stdlibOnly: true},
		"internal/quality": {layer: 0, stdlibOnly: true},
		"internal/config":  {layer: 0},
		"internal/openapi": {layer: 0, stdlibOnly: true},

		// Outbound safety (webhook targets), below everything that sends.
		"internal/netguard":   {layer: 0, stdlibOnly: true},
		"internal/csvout":     {layer: 0, stdlibOnly: true},
		"internal/secretbox":  {layer: 0, stdlibOnly: true},
		"internal/vendorhook": {layer: 0, stdlibOnly: true},
		"internal/sse":        {layer: 0, stdlibOnly: true},

		"internal/transcript":        {layer: 1},
		"internal/llm/local/hashvec": {layer: 1, stdlibOnly: true},
		"internal/llm/local/speech":  {layer: 1, stdlibOnly: true},
		"internal/datephrase":        {layer: 1, stdlibOnly: true},
		"internal/safety":            {layer: 1, stdlibOnly: true},
		"prompts":                    {layer: 1},
		"internal/mailmsg":           {layer: 1},
		"migrations":                 {layer: 1},
		// Calendar data (ICS, CalDAV objects) into events and instances.
		"internal/calfeed": {layer: 1},

		"internal/store": {layer: 2},
		"internal/queue": {layer: 2},
		"internal/llm":   {layer: 2, stdlibOnly: true},

		"internal/ratelimit": {layer: 2},

		"summarize":           {layer: 3},
		"retrieval":           {layer: 3},
		"activity":            {layer: 3},
		"capture":             {layer: 3},
		"brief":               {layer: 3},
		"internal/llm/openai": {layer: 3},
		// The model-call metrics decorator, around either provider.
		"internal/llm/llmmetrics": {layer: 3},

		// The local provider sits above its answerer, which returns an
		// llm.AnswerOutput (layer 2); only cmd/logbook imports it.
		"internal/llm/local/answer": {layer: 3},
		"internal/llm/local":        {layer: 4},

		"worker": {layer: 4},
		"api":    {layer: 4},
		"web":    {layer: 4},
		// The imap connector kind (issue #14).
		"capture/mail": {layer: 4},

		// The calendar connectors (ics, caldav), above capture and activity.
		"capture/calendar": {layer: 4},
		// The note-takers' pulls (Recall.ai, Zoom): above capture and activity.
		"capture/notetaker": {layer: 4},

		"internal/app": {layer: 5},

		// The retrieval benchmark, a library of logbook-bench's so that
		// the binary's package stays small.
		"internal/retrievalbench": {layer: 6},

		"cmd/logbook":       {layer: 7},
		"cmd/logbook-bench": {layer: 7},

		"internal/testdb":      {kind: kindTestHelper, layer: testHelperLayer},
		"internal/testredis":   {kind: kindTestHelper, layer: testHelperLayer},
		"internal/llm/llmtest": {kind: kindTestHelper, layer: testHelperLayer},
		"internal/testdovecot": {kind: kindTestHelper, layer: testHelperLayer},

		"internal/archtest": {kind: kindTestOnly},
		// The web UI's browser tests (headless Chromium over chromedp)
		// against internal/app's server: test files only.
		"internal/browsertest": {kind: kindTestOnly},
	}
}

// pkgInfo is what the checker needs to know about one package directory.
type pkgInfo struct {
	// Dir is the directory relative to the module root, slash-separated;
	// "." is the root itself.
	Dir string

	// NonTestFiles counts the package's .go files that are not _test.go
	// files.
	NonTestFiles int

	// Imports are the import paths of the non-test files, sorted and
	// deduplicated. Test files may import anything, so their imports are not
	// listed.
	Imports []string
}

// checkPackage returns every rule p breaks, one message per broken rule and
// import, each written for the developer who has to fix it. modPath is the
// module path (from go.mod) and table the layer table.
func checkPackage(modPath string, table map[string]rule, p pkgInfo) []string {
	own, ok := table[p.Dir]
	if !ok {
		return []string{fmt.Sprintf(
			"package %q is not in the layer table: add it to layerTable in internal/archtest/layers_test.go "+
				"with its layer (and a row to ARCHITECTURE.md's package table), or move the code into an existing package",
			p.Dir)}
	}

	// The packages (and, for internal/llm, its subtree) that api must never
	// import: what it needs from them reaches it through small interfaces in
	// its Deps.
	apiForbidden := []string{"internal/llm", "summarize", "worker"}

	var problems []string
	if own.kind == kindTestOnly && p.NonTestFiles > 0 {
		problems = append(problems, fmt.Sprintf(
			"package %q is listed as test-only but has %d non-test .go file(s): keep only _test.go files there, "+
				"or give it a layer in layerTable", p.Dir, p.NonTestFiles))
	}

	for _, imp := range p.Imports {
		target, isModule := moduleRel(modPath, imp)
		if !isModule {
			if own.stdlibOnly && !isStdlib(imp) {
				problems = append(problems, fmt.Sprintf(
					"%s imports %q: this package may import only the standard library (ARCHITECTURE.md); "+
						"put the dependency in a higher-layer package behind an interface declared here", p.Dir, imp))
			}
			continue
		}

		tr, known := table[target]
		switch {
		case !known:
			problems = append(problems, fmt.Sprintf(
				"%s imports %q, which is not in the layer table: add %q to layerTable in internal/archtest/layers_test.go "+
					"(and to ARCHITECTURE.md) before importing it", p.Dir, imp, target))
			continue
		case tr.kind == kindTestHelper:
			problems = append(problems, fmt.Sprintf(
				"%s imports test helper %q from a non-test file: only _test.go files may import it", p.Dir, imp))
			continue
		case tr.kind == kindTestOnly:
			problems = append(problems, fmt.Sprintf(
				"%s imports test-only package %q: nothing may import it", p.Dir, imp))
			continue
		}

		if target == "internal/config" && !strings.HasPrefix(p.Dir, "cmd/") && p.Dir != "internal/app" {
			problems = append(problems, fmt.Sprintf(
				"%s imports %q: only cmd/... may import the config package (and internal/app, the wiring the commands share); "+
					"pass the values this package needs as its own small Config struct or constructor arguments", p.Dir, imp))
		}
		if p.Dir == "api" && slices.ContainsFunc(apiForbidden, func(f string) bool { return within(target, f) }) {
			problems = append(problems, fmt.Sprintf(
				"api imports %q: api never imports internal/llm/..., summarize or worker; "+
					"declare a small interface in api's Deps and let cmd/logbook supply the implementation", imp))
		}
		if tr.layer >= own.layer {
			direction := "sideways (same layer)"
			if tr.layer > own.layer {
				direction = "upwards"
			}
			problems = append(problems, fmt.Sprintf(
				"%s (layer %d) imports %s (layer %d), %s: a package may import only module packages of a strictly "+
					"lower layer (ARCHITECTURE.md); move the shared code down a layer or invert the dependency with an interface",
				p.Dir, own.layer, target, tr.layer, direction))
		}
	}
	return problems
}

// moduleRel reports whether imp is a package of the module modPath and, if
// so, its directory relative to the module root ("." for the root package).
func moduleRel(modPath, imp string) (string, bool) {
	if imp == modPath {
		return ".", true
	}
	if rest, ok := strings.CutPrefix(imp, modPath+"/"); ok {
		return rest, true
	}
	return "", false
}

// isStdlib reports whether imp, a path outside the module, is a standard
// library package: by the go command's convention, its first element has no
// dot. "C" (cgo) is not the standard library.
func isStdlib(imp string) bool {
	if imp == "C" {
		return false
	}
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}

// within reports whether dir is pkg or below it.
func within(dir, pkg string) bool {
	return dir == pkg || strings.HasPrefix(dir, pkg+"/")
}

// moduleRoot walks up from the working directory (the package directory
// while `go test` runs) to the directory holding go.mod, and returns it with
// the module path declared there.
func moduleRoot(t *testing.T) (root, modPath string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("archtest: getwd: %v", err)
	}
	for {
		f, err := os.Open(filepath.Join(dir, "go.mod"))
		if err == nil {
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				fields := strings.Fields(sc.Text())
				if len(fields) >= 2 && fields[0] == "module" {
					mp, uerr := strconv.Unquote(fields[1])
					if uerr != nil {
						mp = fields[1]
					}
					return dir, mp
				}
			}
			if err := sc.Err(); err != nil {
				t.Fatalf("archtest: read %s: %v", f.Name(), err)
			}
			t.Fatalf("archtest: %s has no module line", f.Name())
		}
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("archtest: open go.mod: %v", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("archtest: no go.mod found above the working directory")
		}
		dir = parent
	}
}

// loadPackages finds every package directory of the module under root: every
// directory holding a .go file, skipping testdata, vendor, hidden and
// underscore directories (the go command ignores them too) and nested modules
// (a directory with its own go.mod, such as a future tools/go.mod). Imports
// are read with go/parser from every .go file whatever its build constraints,
// so a file for another OS or behind a build tag cannot hide an import.
func loadPackages(t *testing.T, root string) []pkgInfo {
	t.Helper()
	byDir := map[string]*pkgInfo{}
	imports := map[string]map[string]bool{}
	fset := token.NewFileSet()

	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p == root {
				return nil
			}
			if name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			return nil
		}

		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		info := byDir[rel]
		if info == nil {
			info = &pkgInfo{Dir: rel}
			byDir[rel] = info
			imports[rel] = map[string]bool{}
		}
		if strings.HasSuffix(name, "_test.go") {
			return nil // tests may import anything
		}
		info.NonTestFiles++

		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return fmt.Errorf("parse imports: %w", err)
		}
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return fmt.Errorf("%s: bad import path %s: %w", p, spec.Path.Value, err)
			}
			imports[rel][imp] = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("archtest: walk %s: %v", root, err)
	}

	pkgs := make([]pkgInfo, 0, len(byDir))
	for dir, info := range byDir {
		for imp := range imports[dir] {
			info.Imports = append(info.Imports, imp)
		}
		slices.Sort(info.Imports)
		pkgs = append(pkgs, *info)
	}
	slices.SortFunc(pkgs, func(a, b pkgInfo) int { return strings.Compare(a.Dir, b.Dir) })
	return pkgs
}

// TestLayers checks every package of the module against the layer table.
func TestLayers(t *testing.T) {
	t.Parallel()

	root, modPath := moduleRoot(t)
	pkgs := loadPackages(t, root)
	table := layerTable()

	// Guard against a walk that silently finds nothing (wrong root, a new
	// skip rule gone too far): this package and the bottom layer must be
	// among the packages found.
	var dirs []string
	for _, p := range pkgs {
		dirs = append(dirs, p.Dir)
	}
	for _, want := range []string{"internal/archtest", "internal/crm"} {
		if !slices.Contains(dirs, want) {
			t.Fatalf("archtest: package walk from %s found %v, which lacks %s", root, dirs, want)
		}
	}

	for _, p := range pkgs {
		for _, problem := range checkPackage(modPath, table, p) {
			t.Error(problem)
		}
	}
}

// TestCheckPackage proves checkPackage can fail: each case feeds it a fake
// package and expects the violations (by substring) it must report, or none.
func TestCheckPackage(t *testing.T) {
	t.Parallel()

	const mod = "example.test/logbook"
	m := func(rel string) string { return mod + "/" + rel }

	tests := []struct {
		name string
		pkg  pkgInfo
		want []string // one substring per expected violation; nil means none
	}{
		{
			name: "StoreImportsCrmAndThirdParty",
			pkg:  pkgInfo{Dir: "internal/store", NonTestFiles: 1, Imports: []string{"context", "github.com/jackc/pgx/v5", m("internal/crm")}},
		},
		{
			name: "CmdImportsConfigAndEverythingBelow",
			pkg: pkgInfo{Dir: "cmd/logbook", NonTestFiles: 1, Imports: []string{
				m("api"), m("internal/config"), m("internal/llm/openai"), m("worker"),
			}},
		},
		{
			name: "AppImportsConfigAndEverythingBelow",
			pkg: pkgInfo{Dir: "internal/app", NonTestFiles: 1, Imports: []string{
				m("api"), m("internal/config"), m("internal/store"), m("worker"),
			}},
		},
		{
			name: "BenchCmdImportsAppAndConfig",
			pkg:  pkgInfo{Dir: "cmd/logbook-bench", NonTestFiles: 1, Imports: []string{m("internal/app"), m("internal/config")}},
		},
		{
			name: "TestHelperImportsStoreAndMigrations",
			pkg:  pkgInfo{Dir: "internal/testdb", NonTestFiles: 1, Imports: []string{"testing", m("internal/store"), m("migrations")}},
		},
		{
			name: "LlmImportsCrm",
			pkg:  pkgInfo{Dir: "internal/llm", NonTestFiles: 1, Imports: []string{"context", m("internal/crm")}},
		},
		{
			name: "LlmImportsPrompts",
			pkg:  pkgInfo{Dir: "internal/llm", NonTestFiles: 1, Imports: []string{"context", m("prompts")}},
		},
		{
			name: "TestOnlyPackageWithoutNonTestFiles",
			pkg:  pkgInfo{Dir: "internal/archtest"},
		},
		{
			name: "SidewaysImportFails",
			pkg:  pkgInfo{Dir: "summarize", NonTestFiles: 1, Imports: []string{m("retrieval")}},
			want: []string{"summarize (layer 3) imports retrieval (layer 3), sideways"},
		},
		{
			name: "SummarizeImportsLlmAdapterFails",
			pkg:  pkgInfo{Dir: "summarize", NonTestFiles: 1, Imports: []string{m("internal/llm"), m("internal/llm/openai")}},
			want: []string{"summarize (layer 3) imports internal/llm/openai (layer 3), sideways"},
		},
		{
			name: "WorkerImportsLocalProviderFails",
			pkg:  pkgInfo{Dir: "worker", NonTestFiles: 1, Imports: []string{m("internal/llm"), m("internal/llm/local")}},
			want: []string{"worker (layer 4) imports internal/llm/local (layer 4), sideways"},
		},
		{
			name: "PromptsImportsLlmFails",
			pkg:  pkgInfo{Dir: "prompts", NonTestFiles: 1, Imports: []string{m("internal/llm")}},
			want: []string{"prompts (layer 1) imports internal/llm (layer 2), upwards"},
		},
		{
			name: "UpwardImportFails",
			pkg:  pkgInfo{Dir: "internal/store", NonTestFiles: 1, Imports: []string{m("summarize")}},
			want: []string{"internal/store (layer 2) imports summarize (layer 3), upwards"},
		},
		{
			name: "CrmImportsConfigFails",
			pkg:  pkgInfo{Dir: "internal/crm", NonTestFiles: 1, Imports: []string{m("internal/config")}},
			want: []string{"only cmd/... may import the config package", "sideways"},
		},
		{
			name: "CrmImportsThirdPartyFails",
			pkg:  pkgInfo{Dir: "internal/crm", NonTestFiles: 1, Imports: []string{"github.com/google/uuid", "strings"}},
			want: []string{`imports "github.com/google/uuid": this package may import only the standard library`},
		},
		{
			name: "LlmImportsThirdPartyFails",
			pkg:  pkgInfo{Dir: "internal/llm", NonTestFiles: 1, Imports: []string{"github.com/sashabaranov/go-openai"}},
			want: []string{"may import only the standard library"},
		},
		{
			name: "LlmImportsCgoFails",
			pkg:  pkgInfo{Dir: "internal/llm", NonTestFiles: 1, Imports: []string{"C"}},
			want: []string{"may import only the standard library"},
		},
		{
			name: "WorkerImportsConfigFails",
			pkg:  pkgInfo{Dir: "worker", NonTestFiles: 1, Imports: []string{m("internal/config")}},
			want: []string{"only cmd/... may import the config package"},
		},
		{
			name: "AppImportsCmdFails",
			pkg:  pkgInfo{Dir: "internal/app", NonTestFiles: 1, Imports: []string{m("cmd/logbook")}},
			want: []string{"internal/app (layer 5) imports cmd/logbook (layer 7), upwards"},
		},
		{
			name: "CmdImportsOtherCmdFails",
			pkg:  pkgInfo{Dir: "cmd/logbook-bench", NonTestFiles: 1, Imports: []string{m("cmd/logbook")}},
			want: []string{"cmd/logbook-bench (layer 7) imports cmd/logbook (layer 7), sideways"},
		},
		{
			name: "StoreImportsConfigFails",
			pkg:  pkgInfo{Dir: "internal/store", NonTestFiles: 1, Imports: []string{m("internal/config")}},
			want: []string{"only cmd/... may import the config package"},
		},
		{
			name: "ApiImportsLlmFails",
			pkg:  pkgInfo{Dir: "api", NonTestFiles: 1, Imports: []string{m("internal/llm")}},
			want: []string{"api never imports internal/llm/..., summarize or worker"},
		},
		{
			name: "ApiImportsLlmAdapterFails",
			pkg:  pkgInfo{Dir: "api", NonTestFiles: 1, Imports: []string{m("internal/llm/openai")}},
			want: []string{"api never imports"},
		},
		{
			name: "ApiImportsSummarizeFails",
			pkg:  pkgInfo{Dir: "api", NonTestFiles: 1, Imports: []string{m("summarize")}},
			want: []string{"api never imports"},
		},
		{
			name: "ApiImportsWorkerFails",
			pkg:  pkgInfo{Dir: "api", NonTestFiles: 1, Imports: []string{m("worker")}},
			want: []string{"api never imports", "sideways"},
		},
		{
			name: "NonTestImportOfTestHelperFails",
			pkg:  pkgInfo{Dir: "internal/store", NonTestFiles: 1, Imports: []string{m("internal/testdb")}},
			want: []string{`imports test helper "example.test/logbook/internal/testdb" from a non-test file`},
		},
		{
			name: "CmdImportOfTestHelperFails",
			pkg:  pkgInfo{Dir: "cmd/logbook", NonTestFiles: 1, Imports: []string{m("internal/testredis")}},
			want: []string{"from a non-test file"},
		},
		{
			name: "TestHelperImportsTestHelperFails",
			pkg:  pkgInfo{Dir: "internal/testredis", NonTestFiles: 1, Imports: []string{m("internal/testdb")}},
			want: []string{"from a non-test file"},
		},
		{
			name: "TestHelperImportsHigherLayerFails",
			pkg:  pkgInfo{Dir: "internal/testdb", NonTestFiles: 1, Imports: []string{m("retrieval")}},
			want: []string{"internal/testdb (layer 3) imports retrieval (layer 3), sideways"},
		},
		{
			name: "UnknownPackageFails",
			pkg:  pkgInfo{Dir: "internal/util", NonTestFiles: 1, Imports: []string{"strings"}},
			want: []string{`package "internal/util" is not in the layer table: add it to layerTable`},
		},
		{
			name: "RootPackageIsUnknown",
			pkg:  pkgInfo{Dir: ".", NonTestFiles: 1},
			want: []string{`package "." is not in the layer table`},
		},
		{
			name: "ImportOfUnknownPackageFails",
			pkg:  pkgInfo{Dir: "worker", NonTestFiles: 1, Imports: []string{m("internal/helpers")}},
			want: []string{`which is not in the layer table: add "internal/helpers"`},
		},
		{
			name: "TestOnlyPackageWithNonTestFilesFails",
			pkg:  pkgInfo{Dir: "internal/archtest", NonTestFiles: 2},
			want: []string{"listed as test-only but has 2 non-test .go file(s)"},
		},
		{
			name: "ImportOfTestOnlyPackageFails",
			pkg:  pkgInfo{Dir: "cmd/logbook", NonTestFiles: 1, Imports: []string{m("internal/archtest")}},
			want: []string{"imports test-only package"},
		},
		{
			name: "EveryViolationIsReported",
			pkg: pkgInfo{Dir: "internal/queue", NonTestFiles: 1, Imports: []string{
				m("internal/store"), m("summarize"), m("worker"),
			}},
			want: []string{"imports internal/store (layer 2), sideways", "imports summarize (layer 3), upwards", "imports worker (layer 4), upwards"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got := checkPackage(mod, layerTable(), tt.pkg)
			if len(got) != len(tt.want) {
				t.Fatalf("checkPackage(%+v) returned %d violation(s), want %d:\n%s",
					tt.pkg, len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("violation %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

// TestLayerTable keeps the table itself sane: layered packages sit on layers
// 0–7 and the helpers on testHelperLayer.
func TestLayerTable(t *testing.T) {
	t.Parallel()

	for dir, r := range layerTable() {
		switch r.kind {
		case kindLayered:
			if r.layer < 0 || r.layer > 7 {
				t.Errorf("%s: layer %d outside 0–7", dir, r.layer)
			}
		case kindTestHelper:
			if r.layer != testHelperLayer {
				t.Errorf("%s: test helper on layer %d, want %d", dir, r.layer, testHelperLayer)
			}
		case kindTestOnly:
		}
		if path.Clean(dir) != dir || strings.HasPrefix(dir, "/") {
			t.Errorf("%q: table keys are clean module-relative directories", dir)
		}
	}
}
