// Package layers holds the test that keeps the project's packages in
// their layers: which package may import which, and who may choose an exit
// code. It has no code of its own.
package layers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/scaleacross/scaleacross/"

// pkg is what the test reads of one package's non-test files.
type pkg struct {
	imports   map[string]bool
	exitCodes []string // positions of ExitCode methods
	specErrs  []string // positions of spec.Errorf calls
}

func load(t *testing.T) map[string]*pkg {
	t.Helper()
	root := filepath.Join("..", "..")
	out := map[string]*pkg{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		p := out[rel]
		if p == nil {
			p = &pkg{imports: map[string]bool{}}
			out[rel] = p
		}
		for _, im := range f.Imports {
			v, _ := strconv.Unquote(im.Path.Value)
			if strings.HasPrefix(v, module) {
				p.imports[strings.TrimPrefix(v, module)] = true
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.FuncDecl:
				if x.Recv != nil && x.Name.Name == "ExitCode" {
					p.exitCodes = append(p.exitCodes, fset.Position(x.Pos()).String())
				}
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && id.Name == "spec" && x.Sel.Name == "Errorf" {
					p.specErrs = append(p.specErrs, fset.Position(x.Pos()).String())
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("found only %d packages under %s; the walk is broken", len(out), root)
	}
	return out
}

// The command line is the only place that maps errors to exit codes;
// below it, errors carry a kind from package fault, and spec's own error
// type is only read (a resolver turning a spec reading error into a
// fault.Field), never built.
func isCLI(rel string) bool { return rel == "internal/cli" || strings.HasPrefix(rel, "cmd/") }

func TestLeavesImportNothingOfTheProject(t *testing.T) {
	pkgs := load(t)
	for _, leaf := range []string{"spec", "fault"} {
		p, ok := pkgs[leaf]
		if !ok {
			t.Errorf("package %s not found", leaf)
			continue
		}
		for im := range p.imports {
			t.Errorf("%s imports %s; it must stay a leaf that imports nothing of the project", leaf, im)
		}
	}
}

func TestOnlyTheCLIChoosesExitCodes(t *testing.T) {
	for rel, p := range load(t) {
		if isCLI(rel) {
			continue
		}
		for _, pos := range p.exitCodes {
			t.Errorf("%s: an ExitCode method below the command line; give the error a kind from package fault instead", pos)
		}
		if rel == "spec" {
			continue
		}
		for _, pos := range p.specErrs {
			t.Errorf("%s: an error built with spec.Errorf below the command line; use fault.Field (spec's errors are for reading YAML)", pos)
		}
	}
}
