package main

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

// templates holds one project skeleton per language plus files common to all
// (manifest, README, sample config). Every file ends in .tmpl so that the Go
// tool never mistakes a template for a package of this module.
//
//go:embed templates
var templates embed.FS

const repoModule = "github.com/tidemark/tidemark"

// asVersion is the AssemblyScript compiler a new AS project pins (the one
// sdk/assemblyscript is tested with).
const asVersion = "0.28.20"

var moduleNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

func init() {
	pluginCommands["new"] = pluginCommand{summary: "scaffold an analyzer project (go, rust or as) that builds NAME.wasm", run: runPluginNew}
}

type projectData struct {
	Name, Ident, Lang, LangName, SDK, GoVersion, ASVersion, Source, TestWhat string
}

func runPluginNew(ctx context.Context, args []string) error {
	fset := flag.NewFlagSet("plugin new", flag.ContinueOnError)
	lang := fset.String("lang", "go", "language: go, rust or as (AssemblyScript)")
	sdk := fset.String("sdk", "", "Tidemark checkout whose SDK the project uses (default: the repository containing the working directory)")
	fset.Usage = func() {
		fmt.Fprintln(fset.Output(), "usage: tidemark plugin new [--lang go|rust|as] [--sdk PATH] NAME [DIR]")
		fset.PrintDefaults()
	}
	if err := fset.Parse(reorderFlags(args)); err != nil {
		return err
	}
	if fset.NArg() < 1 || fset.NArg() > 2 {
		fset.Usage()
		return errors.New("want NAME and optionally DIR")
	}
	name := fset.Arg(0)
	if !moduleNameRE.MatchString(name) {
		return fmt.Errorf("name %q: a module name is lower-case letters, digits, _ and - (at most 64, starting with a letter or digit)", name)
	}
	dir := name
	if fset.NArg() == 2 {
		dir = fset.Arg(1)
	}
	data := projectData{Name: name, Ident: identifier(name), Lang: *lang, ASVersion: asVersion}
	switch *lang {
	case "go":
		data.LangName, data.Source, data.TestWhat = "Go", "main.go", "go test: the built module under the real host runtime (sdk/go/tmtest), and natively"
	case "rust":
		data.LangName, data.Source, data.TestWhat = "Rust", "src/lib.rs", "cargo test: the analyzer natively with the SDK's harness"
	case "as", "assemblyscript":
		data.Lang = "as"
		data.LangName, data.Source, data.TestWhat = "AssemblyScript", "assembly/index.ts", "node --test: the built module with the SDK's JS harness"
	default:
		return fmt.Errorf("--lang %q: want go, rust or as", *lang)
	}
	root := *sdk
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if root = findRepoRoot(wd); root == "" {
			return fmt.Errorf("no Tidemark checkout (a go.mod with module %s) above %s: pass --sdk PATH", repoModule, wd)
		}
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	goVersion, ok := repoGoVersion(root)
	if !ok {
		return fmt.Errorf("--sdk %s: not a Tidemark checkout (no go.mod with module %s)", root, repoModule)
	}
	data.SDK, data.GoVersion = root, goVersion

	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s exists and is not empty", dir)
	}
	files, err := renderProject(data)
	if err != nil {
		return err
	}
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return err
		}
	}
	if data.Lang == "go" {
		// go.mod needs the SDK's dependencies listed (and go.sum their sums);
		// start from the checkout's go.sum and let go mod tidy settle it.
		if sum, err := os.ReadFile(filepath.Join(root, "go.sum")); err == nil {
			if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
				return err
			}
		}
		tidy := exec.CommandContext(ctx, "go", "mod", "tidy")
		tidy.Dir = dir
		if out, err := tidy.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "warning: go mod tidy in %s failed (run it before make): %v\n%s", dir, err, out)
		}
	}
	fmt.Printf("created %s (%s analyzer %q, SDK at %s)\n  cd %s && make      # builds %s.wasm\n", dir, data.LangName, name, root, dir, name)
	return nil
}

// renderProject returns the project's files (relative slash paths) for data.
func renderProject(data projectData) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, sub := range []string{"common", data.Lang} {
		base := "templates/" + sub
		err := fs.WalkDir(templates, base, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			src, err := templates.ReadFile(p)
			if err != nil {
				return err
			}
			t, err := template.New(path.Base(p)).Option("missingkey=error").Parse(string(src))
			if err != nil {
				return fmt.Errorf("template %s: %w", p, err)
			}
			var out bytes.Buffer
			if err := t.Execute(&out, data); err != nil {
				return fmt.Errorf("template %s: %w", p, err)
			}
			rel := strings.TrimSuffix(strings.TrimPrefix(p, base+"/"), ".tmpl")
			if rel == "gitignore" {
				rel = ".gitignore"
			}
			files[rel] = out.Bytes()
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// findRepoRoot walks up from dir to the directory whose go.mod declares the
// Tidemark module; "" if there is none.
func findRepoRoot(dir string) string {
	for {
		if _, ok := repoGoVersion(dir); ok {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// repoGoVersion reads dir/go.mod; ok if it is the Tidemark module. The go
// version is what generated Go projects declare.
func repoGoVersion(dir string) (version string, ok bool) {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 && fields[0] == "module" {
			ok = fields[1] == repoModule
		}
		if len(fields) == 2 && fields[0] == "go" {
			version = fields[1]
		}
	}
	return version, ok && version != ""
}

// identifier turns a module name into a type name: "dns-spike" → "DnsSpike".
func identifier(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		switch {
		case r == '-' || r == '_':
			up = true
		case up && r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
			up = false
		default:
			b.WriteRune(r)
			up = false
		}
	}
	s := b.String()
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "Analyzer" + s
	}
	return s
}
