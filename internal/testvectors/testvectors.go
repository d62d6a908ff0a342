// Package testvectors loads the shared test vectors of
// appliance/testdata/vectors (Kotori's cases and real firmware captures),
// so that the fuzz targets of every package start from what devices really
// send. It is for tests only.
package testvectors

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Vector is the part of a test vector the fuzz targets use.
type Vector struct {
	ID              any             `json:"id"`
	Transport       string          `json:"transport"`
	TopicOrPath     string          `json:"topic_or_path"`
	ContentType     *string         `json:"content_type"`
	Payload         *string         `json:"payload"`
	PayloadEncoding string          `json:"payload_encoding"`
	ExpectedTime    json.RawMessage `json:"expected_time"`
}

// Body returns the payload as sent (base64 text stays text, as the
// device sent it); a missing payload is empty.
func (v Vector) Body() []byte {
	if v.Payload == nil {
		return nil
	}
	return []byte(*v.Payload)
}

// Slot returns the last segment of the topic or path, without a query.
func (v Vector) Slot() string {
	p, _, _ := strings.Cut(v.TopicOrPath, "?")
	return p[strings.LastIndexByte(p, '/')+1:]
}

// Type returns the content type, "" when the vector has none.
func (v Vector) Type() string {
	if v.ContentType == nil {
		return ""
	}
	return *v.ContentType
}

// Load returns the vectors of kotori.json and firmware.json, found from
// the module root above the working directory.
func Load(tb testing.TB) []Vector {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("testvectors: no go.mod above the working directory")
		}
		dir = parent
	}
	var all []Vector
	for _, name := range []string{"kotori.json", "firmware.json"} {
		b, err := os.ReadFile(filepath.Join(dir, "appliance", "testdata", "vectors", name))
		if err != nil {
			tb.Fatal(err)
		}
		var vs []Vector
		if err := json.Unmarshal(b, &vs); err != nil {
			tb.Fatalf("testvectors: %s: %v", name, err)
		}
		all = append(all, vs...)
	}
	return all
}
