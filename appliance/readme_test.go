package appliance

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEHasTheConfigReference keeps the README's configuration
// reference identical to the built-in defaults.
func TestREADMEHasTheConfigReference(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := "```toml\n" + strings.TrimRight(DefaultTOML(), "\n") + "\n```"
	if !strings.Contains(string(readme), block) {
		t.Error("README.md's configuration block differs from appliance/default.toml: copy the file into the block")
	}
}
