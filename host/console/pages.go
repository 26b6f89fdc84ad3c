package console

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// dist is the front end built from web/ by web/build.sh and committed, so
// the binary builds without npm. TestDistIsFresh fails when web/ changed
// and dist was not rebuilt.
//
//go:embed all:dist
var dist embed.FS

// buildHash is the hash of the web/ sources dist was built from.
func buildHash() string {
	b, err := dist.ReadFile("dist/BUILD_HASH")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// pagePaths are the console's pages; the front end routes between them
// by path, so each serves the same index.html.
var pagePaths = []string{"GET /{$}", "GET /pipelines/{name}", "GET /alerts", "GET /analyzers"}

func registerPages(mux *http.ServeMux) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees dist exists
	}
	index, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		panic("console: dist/index.html missing from the embedded build: " + err.Error())
	}
	// Assets are not content-hashed, so browsers revalidate; the build hash
	// is a strong ETag for all of them.
	etag := `"` + buildHash() + `"`
	page := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(index)
	}
	for _, p := range pagePaths {
		mux.HandleFunc(p, page)
	}
	files := http.FileServerFS(sub)
	mux.Handle("GET /assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", etag)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		files.ServeHTTP(w, r)
	}))
}
