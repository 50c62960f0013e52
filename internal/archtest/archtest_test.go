package archtest

import (
	"bufio"
	"bytes"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// productionCommands are the binaries that run in production.
var productionCommands = []string{"./cmd/poller", "./cmd/normalizer", "./cmd/sink"}

// forbiddenInProduction reports why a package must not be linked into a
// production command ("" = allowed): vendor sandboxes and test support.
func forbiddenInProduction(module, path string) string {
	rel := strings.TrimPrefix(path, module+"/")
	switch {
	case strings.Contains(path, "sandbox"):
		return "a sandbox package"
	case rel == "internal/vendortest" || strings.HasPrefix(rel, "internal/vendortest/"),
		rel == "internal/stagetest" || strings.HasPrefix(rel, "internal/stagetest/"):
		return "a test-support package"
	case strings.Contains(path, "testenv"):
		return "a test-environment package"
	}
	return ""
}

// TestProductionCommandsLinkNoSandbox runs `go list -deps` over the
// production commands and fails on any sandbox or test-support package.
func TestProductionCommandsLinkNoSandbox(t *testing.T) {
	root, module := moduleRoot(t)
	goTool := findGo(t)
	cmd := exec.Command(goTool, append([]string{"list", "-deps"}, productionCommands...)...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", strings.Join(productionCommands, " "), err, stderr.Bytes())
	}
	n := 0
	for _, path := range strings.Fields(string(out)) {
		n++
		if why := forbiddenInProduction(module, path); why != "" {
			t.Errorf("%s links %s, %s", strings.Join(productionCommands, ", "), path, why)
		}
	}
	if n == 0 {
		t.Fatal("go list -deps listed no packages")
	}
}

// TestForbiddenInProduction pins the rule the test above applies.
func TestForbiddenInProduction(t *testing.T) {
	const m = "github.com/yongjin-dev/yongjin"
	for path, bad := range map[string]bool{
		m + "/internal/sandbox":            true,
		m + "/internal/sandbox/douke":      true,
		m + "/internal/vendorsandbox":      true,
		m + "/internal/vendortest":         true,
		m + "/internal/stagetest":          true,
		m + "/internal/clickhouse/testenv": true,
		m + "/internal/poller":             false,
		m + "/pkg/vendors/douke":           false,
		"net/http":                         false,
	} {
		if got := forbiddenInProduction(m, path) != ""; got != bad {
			t.Errorf("forbiddenInProduction(%q) = %v, want %v", path, got, bad)
		}
	}
}

// TestPkgImportsNoInternal parses every .go file under pkg/ (test files
// included, like `grep -r '"<module>/internal' pkg/`) and fails on any
// import of the module's internal/ packages.
func TestPkgImportsNoInternal(t *testing.T) {
	root, module := moduleRoot(t)
	internal := module + "/internal"
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(filepath.Join(root, "pkg"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || (strings.HasPrefix(name, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		files++
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			if p == internal || strings.HasPrefix(p, internal+"/") {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s imports %s: nothing under pkg/ may import internal/", rel, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("found no .go files under pkg/")
	}
}

// moduleRoot returns the directory holding go.mod and the module path.
func moduleRoot(t *testing.T) (dir, module string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			sc := bufio.NewScanner(bytes.NewReader(b))
			for sc.Scan() {
				if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" {
					return dir, f[1]
				}
			}
			t.Fatalf("%s/go.mod names no module", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// findGo returns the go command: on PATH, else in GOROOT. Without one the
// test fails: the structure checks cannot be skipped.
func findGo(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); runtime.GOROOT() != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("the go command is not on PATH nor in GOROOT (needed for go list -deps)")
	return ""
}
