package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/abi"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case
	args string
	line int
}

type stage struct {
	name, from string
	ins        []instruction
}

// parseDockerfile splits a Dockerfile into stages, expanding global ARGs in
// FROM lines.
func parseDockerfile(t *testing.T, path string) (stages []*stage, args map[string]string) {
	t.Helper()
	args = map[string]string{}
	var cur *stage
	lines := strings.Split(string(readFile(t, path)), "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		for strings.HasSuffix(l, "\\") && i+1 < len(lines) {
			i++
			next := strings.TrimSpace(lines[i])
			if strings.HasPrefix(next, "#") {
				continue
			}
			l = strings.TrimSuffix(l, "\\") + " " + next
		}
		cmd, rest, _ := strings.Cut(l, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(rest), line: start}
		switch in.cmd {
		case "ARG":
			if cur == nil {
				k, v, _ := strings.Cut(in.args, "=")
				args[k] = v
				continue
			}
		case "FROM":
			from := os.Expand(in.args, func(k string) string { return args[k] })
			f := strings.Fields(from)
			st := &stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			cur = st
			continue
		}
		if cur == nil {
			t.Fatalf("%s:%d: %s before FROM", path, start, in.cmd)
		}
		cur.ins = append(cur.ins, in)
	}
	return stages, args
}

func (s *stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.ins {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// execForm parses a JSON-array instruction argument (["a", "b"]).
func execForm(t *testing.T, in instruction) []string {
	t.Helper()
	s := strings.TrimSpace(in.args)
	if !strings.HasPrefix(s, "[") {
		t.Fatalf("Dockerfile:%d: %s %s is not in exec form", in.line, in.cmd, s)
	}
	var out []string
	for _, m := range regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

const buildOut = "/out"

func dockerStages(t *testing.T) (build, runtime *stage, args map[string]string) {
	t.Helper()
	stages, args := parseDockerfile(t, "Dockerfile")
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a build and a runtime stage", len(stages))
	}
	return stages[0], stages[len(stages)-1], args
}

// TestDockerfileBuildStageRunsBuildScript: the build stage's only build
// command is deploy/build.sh, so CI running the script runs what the image
// build runs.
func TestDockerfileBuildStageRunsBuildScript(t *testing.T) {
	build, runtime, args := dockerStages(t)
	if build.name == "" || !strings.HasPrefix(build.from, "golang:") {
		t.Errorf("build stage FROM %s AS %q: want a named golang stage", build.from, build.name)
	}
	// The Go image is the version go.mod asks for.
	gomod := string(readFile(t, repoPath("go.mod")))
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	if args["GO_VERSION"] != m[1] || !strings.HasPrefix(build.from, "golang:"+m[1]) {
		t.Errorf("build stage uses %s (GO_VERSION=%s); go.mod wants go %s", build.from, args["GO_VERSION"], m[1])
	}
	var ranScript bool
	for _, r := range build.all("RUN") {
		switch r.args {
		case "go mod download": // a cache layer only
		case "./deploy/build.sh " + buildOut:
			ranScript = true
		default:
			t.Errorf("Dockerfile:%d: build stage runs %q; build steps belong in deploy/build.sh", r.line, r.args)
		}
	}
	if !ranScript {
		t.Errorf("the build stage does not RUN ./deploy/build.sh %s", buildOut)
	}
	if st, err := os.Stat("build.sh"); err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Errorf("deploy/build.sh is not executable, so RUN ./deploy/build.sh fails: %v", err)
	}
	// Everything the runtime stage takes from the build stage is under the
	// script's output directory.
	for _, c := range runtime.all("COPY") {
		if !strings.Contains(c.args, "--from=") {
			continue
		}
		if !strings.Contains(c.args, "--from="+build.name) {
			t.Errorf("Dockerfile:%d: COPY %s is not from the build stage", c.line, c.args)
		}
		if src := copySource(c); !strings.HasPrefix(src, buildOut+"/") {
			t.Errorf("Dockerfile:%d: COPY from %s, outside build.sh's output %s", c.line, src, buildOut)
		}
	}
}

// copySource is the first non-flag argument of a COPY.
func copySource(c instruction) string {
	for _, f := range strings.Fields(c.args) {
		if !strings.HasPrefix(f, "--") {
			return f
		}
	}
	return ""
}

func copyDest(c instruction) string {
	f := strings.Fields(c.args)
	return f[len(f)-1]
}

func TestDockerfileRuntimeStage(t *testing.T) {
	_, rt, _ := dockerStages(t)
	cfg := loadDockerConfig(t, nil)
	if !strings.HasPrefix(rt.from, "alpine:") && !strings.HasPrefix(rt.from, "gcr.io/distroless/static") {
		t.Errorf("runtime stage FROM %s: want a minimal image (alpine or distroless static)", rt.from)
	}
	users := rt.all("USER")
	if len(users) == 0 {
		t.Fatal("runtime stage has no USER: it would run as root")
	}
	if u := users[len(users)-1].args; u == "root" || u == "0" || strings.HasPrefix(u, "0:") || strings.HasPrefix(u, "root:") {
		t.Errorf("runtime stage runs as %q", u)
	}
	exposed := map[string]bool{}
	for _, e := range rt.all("EXPOSE") {
		for _, p := range strings.Fields(e.args) {
			exposed[p] = true
		}
	}
	for _, p := range []string{listenPort(t, cfg), "6343/udp"} {
		if !exposed[p] {
			t.Errorf("EXPOSE lacks %s (have %v)", p, keys(exposed))
		}
	}
	volumes := map[string]bool{}
	for _, v := range rt.all("VOLUME") {
		for _, p := range execForm(t, v) {
			volumes[p] = true
		}
	}
	if !volumes[cfg.Plugins.Dir] {
		t.Errorf("VOLUME %v lacks plugins.dir %s", keys(volumes), cfg.Plugins.Dir)
	}
	hc := rt.all("HEALTHCHECK")
	if len(hc) != 1 || !strings.Contains(hc[0].args, "127.0.0.1:"+listenPort(t, cfg)+"/healthz") {
		t.Errorf("HEALTHCHECK %v: want one probing /healthz on http.listen's port", hc)
	}
	var entry, cmd []string
	for _, e := range rt.all("ENTRYPOINT") {
		entry = execForm(t, e)
	}
	for _, c := range rt.all("CMD") {
		cmd = execForm(t, c)
	}
	if len(entry) != 1 || filepath.Base(entry[0]) != "tidemark" {
		t.Errorf("ENTRYPOINT %v: want the tidemark binary", entry)
	}
	if len(cmd) == 0 || cmd[0] != "run" {
		t.Errorf("CMD %v: want run", cmd)
	}
	if c, _ := flagValue(cmd, "c"); c != imageConfigPath {
		t.Errorf("CMD reads config %q, want %s", c, imageConfigPath)
	}
	// The binary, the config and the plugins land where CMD and the config
	// expect them.
	dests := map[string]string{}
	for _, c := range rt.all("COPY") {
		dests[copyDest(c)] = copySource(c)
	}
	if dests[entry[0]] == "" {
		t.Errorf("nothing is copied to the ENTRYPOINT %s", entry[0])
	}
	if dests[filepath.Dir(imageConfigPath)+"/"] == "" {
		t.Errorf("nothing is copied to %s/", filepath.Dir(imageConfigPath))
	}
	if dests[cfg.Plugins.Dir+"/"] == "" {
		t.Errorf("the built-in plugins are not copied to plugins.dir %s/", cfg.Plugins.Dir)
	}
	// BuildKit reads deploy/Dockerfile.dockerignore for this Dockerfile; the
	// 60 MB influxd in bin/ must not go into the build context.
	ign := string(readFile(t, "Dockerfile.dockerignore"))
	for _, p := range []string{"bin", ".git", "data"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(p) + `/?$`).MatchString(ign) {
			t.Errorf("Dockerfile.dockerignore does not exclude %s", p)
		}
	}
}

// fakeTree lays out a copy of the parts of the repository build.sh uses,
// with a make that pretends to build (and writes wasm only when asked).
func fakeTree(t *testing.T, wasm bool) (root, pathEnv string) {
	t.Helper()
	root = t.TempDir()
	for _, d := range []string{"deploy", "configs", "fakebin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string, b []byte, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(root, p), b, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("deploy/build.sh", readFile(t, "build.sh"), 0o755)
	write("configs/docker.toml", readFile(t, dockerConfigPath), 0o644)
	makeScript := `#!/bin/sh
set -e
[ "$*" = "build plugins" ] || { echo "fake make: want 'build plugins', got '$*'" >&2; exit 2; }
[ "$CGO_ENABLED" = 0 ] || { echo "fake make: CGO_ENABLED=$CGO_ENABLED" >&2; exit 3; }
[ -f configs/docker.toml ] || { echo "fake make: not run from the repository root" >&2; exit 4; }
mkdir -p bin plugins
printf 'tidemark binary' > bin/tidemark
`
	if wasm {
		makeScript += "printf '\\000asm' > plugins/deviation.wasm\nprintf '\\000asm' > plugins/ewma.wasm\n"
	}
	write("fakebin/make", []byte(makeScript), 0o755)
	return root, filepath.Join(root, "fakebin") + string(os.PathListSeparator) + os.Getenv("PATH")
}

// TestBuildScriptStagesWhatTheImageCopies runs deploy/build.sh (with a fake
// make) and checks that every path the Dockerfile copies from the build
// stage is produced.
func TestBuildScriptStagesWhatTheImageCopies(t *testing.T) {
	root, pathEnv := fakeTree(t, true)
	out := filepath.Join(t.TempDir(), "rootfs")
	cmd := exec.Command("sh", filepath.Join(root, "deploy", "build.sh"), out)
	cmd.Env = append(os.Environ(), "PATH="+pathEnv)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, b)
	}
	_, rt, _ := dockerStages(t)
	for _, c := range rt.all("COPY") {
		src := copySource(c)
		if !strings.HasPrefix(src, buildOut+"/") {
			continue
		}
		p := filepath.Join(out, strings.TrimPrefix(src, buildOut+"/"))
		if _, err := os.Stat(p); err != nil {
			t.Errorf("Dockerfile:%d copies %s, which build.sh did not produce: %v", c.line, src, err)
		}
	}
	if got := string(readFile(t, filepath.Join(out, strings.TrimPrefix(imageConfigPath, "/")))); got != string(readFile(t, dockerConfigPath)) {
		t.Errorf("staged %s is not configs/docker.toml", imageConfigPath)
	}
	wasm, _ := filepath.Glob(filepath.Join(out, "usr/share/tidemark/plugins/*.wasm"))
	if len(wasm) != 2 {
		t.Errorf("staged plugins %v, want deviation.wasm and ewma.wasm", wasm)
	}
	st, err := os.Stat(filepath.Join(out, "usr/local/bin/tidemark"))
	if err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Errorf("staged binary: %v, mode %v", err, st.Mode())
	}
}

// TestBuildScriptFailsWithoutPlugins: an image whose config names an
// analyzer but ships none must not build.
func TestBuildScriptFailsWithoutPlugins(t *testing.T) {
	root, pathEnv := fakeTree(t, false)
	cmd := exec.Command("sh", filepath.Join(root, "deploy", "build.sh"), filepath.Join(t.TempDir(), "rootfs"))
	cmd.Env = append(os.Environ(), "PATH="+pathEnv)
	b, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "no plugins/*.wasm") {
		t.Errorf("build.sh without wasm: err %v, output %s; want a failure naming the missing plugins", err, b)
	}
}

// TestBuiltinAnalyzers: every module the image's config runs is a built-in
// (plugins/<module>/ is built by make plugins), its options pass the
// module's manifest, and every option naming a field (…field, …fields, with
// defaults applied) names an aggregate of the analyzer's pipeline.
func TestBuiltinAnalyzers(t *testing.T) {
	cfg, plan := dockerPlan(t)
	aggs := map[string]map[string]bool{}
	for _, p := range plan.Pipes {
		aggs[p.Name] = map[string]bool{}
		for _, a := range p.Window.Aggs {
			aggs[p.Name][a.Name] = true
		}
	}
	if len(cfg.Analyzer) == 0 {
		t.Fatal("configs/docker.toml runs no analyzer")
	}
	for i, a := range cfg.Analyzer {
		js, err := os.ReadFile(repoPath("plugins", a.Module, "manifest.json"))
		if err != nil {
			t.Errorf("analyzer[%d] module %q is not a built-in: %v", i, a.Module, err)
			continue
		}
		m, err := abi.ParseManifest(js)
		if err != nil {
			t.Fatalf("plugins/%s/manifest.json: %v", a.Module, err)
		}
		opts, err := m.ResolveOptions(a.Options)
		if err != nil {
			t.Errorf("analyzer[%d] %s: options: %v", i, a.Name, err)
			continue
		}
		n := 0
		for k, v := range opts {
			if !strings.HasSuffix(k, "field") && !strings.HasSuffix(k, "fields") {
				continue
			}
			var names []string
			switch v := v.(type) {
			case string:
				names = []string{v}
			case []string:
				names = v
			case []any:
				for _, x := range v {
					s, _ := x.(string)
					names = append(names, s)
				}
			}
			for _, f := range names {
				f, _, _ = strings.Cut(f, ":") // "sum_bytes:5" sets a per-field factor
				n++
				if !aggs[a.Pipeline][f] {
					t.Errorf("analyzer[%d] %s: option %s names %q, which pipeline %s does not aggregate (%v)", i, a.Name, k, f, a.Pipeline, sorted(keys(aggs[a.Pipeline])))
				}
			}
		}
		if n == 0 {
			t.Errorf("analyzer[%d] %s: no option names a field to watch", i, a.Name)
		}
	}
}
