package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed static
var staticFS embed.FS

// assets serves the embedded static files under content-hashed URLs
// (/static/name?v=hash), cacheable for a year, gzipped for clients that
// accept it: echarts.min.js is 1.1 MB raw and about a third of that gzipped,
// which matters on a phone at the edge of the apiary's WiFi.
type assets struct {
	files map[string]*asset
}

type asset struct {
	name  string
	data  []byte
	hash  string
	ctype string
	once  sync.Once
	gz    []byte
}

func newAssets() *assets {
	a := &assets{files: make(map[string]*asset)}
	entries, err := staticFS.ReadDir("static")
	if err != nil {
		panic("ui: embedded static files missing: " + err.Error())
	}
	for _, e := range entries {
		data, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			panic("ui: read embedded " + e.Name() + ": " + err.Error())
		}
		sum := sha256.Sum256(data)
		ctype := mime.TypeByExtension(path.Ext(e.Name()))
		if ctype == "" {
			ctype = "text/plain; charset=utf-8"
		}
		a.files[e.Name()] = &asset{name: e.Name(), data: data, hash: hex.EncodeToString(sum[:6]), ctype: ctype}
	}
	return a
}

// url returns the content-hashed URL of a static file.
func (a *assets) url(name string) string {
	f := a.files[name]
	if f == nil {
		return "/static/" + name
	}
	return "/static/" + name + "?v=" + f.hash
}

func (a *assets) serve(w http.ResponseWriter, r *http.Request) {
	f := a.files[r.PathValue("name")]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", `"`+f.hash+`"`)
	h.Set("Vary", "Accept-Encoding")
	if r.URL.Query().Get("v") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if match := r.Header.Get("If-None-Match"); match == `"`+f.hash+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.data
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") && compressible(f.ctype) {
		body = f.gzipped()
		h.Set("Content-Encoding", "gzip")
	}
	w.Write(body)
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") || strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
}

func (f *asset) gzipped() []byte {
	f.once.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(f.data)
		zw.Close()
		f.gz = b.Bytes()
	})
	return f.gz
}
