package gcmod_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestEveryFunctionHasExample checks that every exported function and
// method of the package has an Example.
func TestEveryFunctionHasExample(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool { return true }, 0)
	if err != nil {
		t.Fatal(err)
	}
	examples := map[string]bool{}
	var funcs []string
	for _, pkg := range pkgs {
		for name, f := range pkg.Files {
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok {
					continue
				}
				if strings.HasSuffix(name, "_test.go") {
					if n, ok := strings.CutPrefix(fd.Name.Name, "Example"); ok {
						examples[n] = true
					}
					continue
				}
				if !fd.Name.IsExported() {
					continue
				}
				id := fd.Name.Name
				if fd.Recv != nil {
					typ := fd.Recv.List[0].Type
					if star, ok := typ.(*ast.StarExpr); ok {
						typ = star.X
					}
					recv := typ.(*ast.Ident).Name
					if !ast.IsExported(recv) {
						continue
					}
					id = recv + "_" + id
				}
				funcs = append(funcs, id)
			}
		}
	}
	for _, f := range funcs {
		if !examples[f] {
			t.Errorf("%s has no Example", strings.Replace(f, "_", ".", 1))
		}
	}
}
