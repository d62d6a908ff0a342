package ui

import (
	"bytes"
	"go/format"
	"os"
	"path/filepath"
	"testing"

	"github.com/a-h/templ"
	"github.com/a-h/templ/generator"
	parser "github.com/a-h/templ/parser/v2"
)

// TestGeneratedTemplatesAreFresh fails when a .templ file changed but its
// _templ.go was not regenerated (run `go tool templ generate` at the
// repository root, then commit both).
func TestGeneratedTemplatesAreFresh(t *testing.T) {
	files, err := filepath.Glob("*.templ")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates found: %v", err)
	}
	for _, name := range files {
		tf, err := parser.Parse(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var b bytes.Buffer
		// templ generate names files relative to the directory it runs in:
		// the repository root.
		_, err = generator.Generate(tf, &b, generator.WithVersion(templ.Version()), generator.WithFileName("ui/"+name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := format.Source(b.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		goName := name[:len(name)-len(".templ")] + "_templ.go"
		got, err := os.ReadFile(goName)
		if err != nil {
			t.Fatalf("%s: %v (run `go tool templ generate`)", goName, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `go tool templ generate` at the repository root and commit the result", goName)
		}
	}
}
