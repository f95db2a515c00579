package archtest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// docRow is one row of ARCHITECTURE.md's package table.
type docRow struct {
	layer string // "0"…"6", or "test"
	dirs  []string
}

// parseDocTable reads the package table of ARCHITECTURE.md: the rows of the
// first Markdown table whose header starts "| layer | package |". A row
// names one or more package directories in backquotes in its second cell.
func parseDocTable(text string) ([]docRow, error) {
	var rows []docRow
	in := false
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !in {
			if strings.HasPrefix(line, "| layer | package |") {
				in = true
			}
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 3 || strings.HasPrefix(strings.TrimSpace(cells[0]), "---") {
			continue
		}
		r := docRow{layer: strings.TrimSpace(cells[0])}
		parts := strings.Split(cells[1], "`")
		for i := 1; i < len(parts); i += 2 {
			r.dirs = append(r.dirs, strings.TrimSpace(parts[i]))
		}
		if len(r.dirs) == 0 {
			return nil, fmt.Errorf("ARCHITECTURE.md: table row %q names no package in backquotes", line)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !in {
		return nil, fmt.Errorf(`ARCHITECTURE.md has no package table (a header "| layer | package | owns |")`)
	}
	return rows, nil
}

// docProblems compares the documented table with the layer table: every
// package of the table is documented once, on its layer ("test" for test
// helpers and test-only packages), and nothing else is documented.
func docProblems(rows []docRow, table map[string]rule) []string {
	var problems []string
	seen := map[string]bool{}
	for _, r := range rows {
		for _, dir := range r.dirs {
			if seen[dir] {
				problems = append(problems, fmt.Sprintf("ARCHITECTURE.md lists %s twice", dir))
			}
			seen[dir] = true
			rl, ok := table[dir]
			if !ok {
				problems = append(problems, fmt.Sprintf("ARCHITECTURE.md lists %s, which is not in layerTable: remove the row or add the package", dir))
				continue
			}
			want := strconv.Itoa(rl.layer)
			if rl.kind != kindLayered {
				want = "test"
			}
			if r.layer != want {
				problems = append(problems, fmt.Sprintf("ARCHITECTURE.md puts %s on layer %s, layerTable on %s", dir, r.layer, want))
			}
		}
	}
	var missing []string
	for dir := range table {
		if !seen[dir] {
			missing = append(missing, dir)
		}
	}
	slices.Sort(missing)
	for _, dir := range missing {
		problems = append(problems, fmt.Sprintf("%s is in layerTable but not in ARCHITECTURE.md's package table: add a row saying what it owns", dir))
	}
	return problems
}

// TestArchitectureDoc keeps the map true: ARCHITECTURE.md's package table
// and layerTable (which TestLayers enforces on the code) list the same
// packages on the same layers.
func TestArchitectureDoc(t *testing.T) {
	t.Parallel()
	root, _ := moduleRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "ARCHITECTURE.md"))
	if err != nil {
		t.Fatalf("the project's map: %v", err)
	}
	rows, err := parseDocTable(string(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range docProblems(rows, layerTable()) {
		t.Error(p)
	}
}

// TestDocProblems proves the comparison can fail.
func TestDocProblems(t *testing.T) {
	t.Parallel()
	table := map[string]rule{
		"internal/crm":      {layer: 0},
		"api":               {layer: 4},
		"internal/testdb":   {kind: kindTestHelper, layer: testHelperLayer},
		"internal/archtest": {kind: kindTestOnly},
	}
	doc := "intro\n\n| layer | package | owns |\n|---|---|---|\n" +
		"| 0 | `internal/crm` | types |\n| 3 | `api` | http |\n| test | `internal/testdb`, `internal/archtest` | helpers |\n" +
		"| 2 | `internal/gone` | old |\n\nafter\n"
	rows, err := parseDocTable(doc)
	if err != nil {
		t.Fatal(err)
	}
	got := docProblems(rows, table)
	want := []string{"puts api on layer 3, layerTable on 4", "lists internal/gone, which is not in layerTable"}
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
		}
	}
	delete(table, "internal/crm")
	table["worker"] = rule{layer: 4}
	got = docProblems(rows, table)
	if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "worker is in layerTable but not in ARCHITECTURE.md") }) {
		t.Errorf("a package missing from the doc is not reported: %q", got)
	}
	if _, err := parseDocTable("no table here"); err == nil {
		t.Error("a document without the table parses")
	}
}
