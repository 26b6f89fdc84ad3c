// Package deploy_test checks that the deployment files agree with the binary:
// the Dockerfile runs deploy/build.sh, compose and the Kubernetes manifests
// mount the paths configs/docker.toml names and set only TIDEMARK_* variables
// that are real config keys, and the Grafana dashboards query only
// measurements, tags and fields that configs/docker.toml writes and metric
// names that Tidemark exports. No container engine is needed.
package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/pipeline"
	"github.com/tidemark/tidemark/host/service"
)

// repoRoot is the repository root; go test runs in deploy/.
const repoRoot = ".."

func repoPath(p ...string) string { return filepath.Join(append([]string{repoRoot}, p...)...) }

// dockerConfigPath is the config the image ships and compose mounts.
var dockerConfigPath = repoPath("configs", "docker.toml")

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadDockerConfig loads configs/docker.toml with the given environment
// (nil: none, not the test process's environment).
func loadDockerConfig(t *testing.T, environ []string) *config.Config {
	t.Helper()
	if environ == nil {
		environ = []string{}
	}
	cfg, err := config.Load(dockerConfigPath, environ)
	if err != nil {
		t.Fatalf("configs/docker.toml with %v: %v", environ, err)
	}
	return cfg
}

// dockerPlan compiles configs/docker.toml the way `tidemark check
// --allow-missing-data` does (the GeoIP files exist only in the container).
func dockerPlan(t *testing.T) (*config.Config, *pipeline.Plan) {
	t.Helper()
	cfg := loadDockerConfig(t, nil)
	plan, _, err := service.Check(cfg, true)
	if err != nil {
		t.Fatalf("configs/docker.toml does not compile: %v", err)
	}
	return cfg, plan
}

func TestDockerConfigChecks(t *testing.T) {
	cfg, plan := dockerPlan(t)
	if len(plan.Pipes) != len(cfg.Pipeline) || len(plan.Pipes) == 0 {
		t.Fatalf("plan has %d pipelines, config %d", len(plan.Pipes), len(cfg.Pipeline))
	}
	// What the compose network and the image provide.
	if got := cfg.Input.Brokers; !reflect.DeepEqual(got, []string{"kafka:9092"}) {
		t.Errorf("input.brokers = %v, want [kafka:9092] (the compose service)", got)
	}
	if ix := cfg.Output.InfluxDB; ix == nil || ix.URL != "http://influxdb:8086" || ix.Org == "" || ix.Bucket == "" {
		t.Errorf("output.influxdb = %+v, want url http://influxdb:8086 with org and bucket", ix)
	} else if ix.Token != "" {
		t.Errorf("output.influxdb.token is in the file; it must come from TIDEMARK_OUTPUT_INFLUXDB_TOKEN")
	}
	if cfg.HTTP.Listen != "0.0.0.0:8080" {
		t.Errorf("http.listen = %q, want 0.0.0.0:8080 (reachable from outside the container)", cfg.HTTP.Listen)
	}
	for key, p := range map[string]string{"geoip.country": cfg.GeoIP.Country, "geoip.city": cfg.GeoIP.City, "geoip.asn": cfg.GeoIP.ASN} {
		for _, f := range splitList(p) {
			if filepath.Dir(f) != dataDir {
				t.Errorf("%s file %q is not in %s", key, f, dataDir)
			}
		}
	}
	if cfg.Plugins.Dir != pluginsDir {
		t.Errorf("plugins.dir = %q, want %q (the image's volume)", cfg.Plugins.Dir, pluginsDir)
	}
	for _, d := range []string{cfg.Plugins.CacheDir, cfg.Plugins.StateDir} {
		if !strings.HasPrefix(d, "/var/lib/tidemark/") {
			t.Errorf("plugins dir %q is outside /var/lib/tidemark, which the image makes writable for its user", d)
		}
	}
}

// The image's fixed paths; the Dockerfile, compose and k8s tests compare
// against these and TestDockerConfigChecks ties them to the config.
const (
	pluginsDir      = "/var/lib/tidemark/plugins"
	dataDir         = "/var/lib/tidemark/data"
	imageConfigPath = "/etc/tidemark/tidemark.toml"
)

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// TestGeoIPFilesAreFetched: the data files the config names are the ones
// scripts/geoip.sh (run by the compose geoip service and the k8s init
// container) produces.
func TestGeoIPFilesAreFetched(t *testing.T) {
	cfg := loadDockerConfig(t, nil)
	script := string(readFile(t, repoPath("scripts", "geoip.sh")))
	produced := map[string]bool{}
	for _, m := range regexp.MustCompile(`:([A-Za-z0-9._-]+)[ "]`).FindAllStringSubmatch(script, -1) {
		produced[m[1]] = true
	}
	var files []string
	for _, p := range []string{cfg.GeoIP.Country, cfg.GeoIP.City, cfg.GeoIP.ASN} {
		files = append(files, splitList(p)...)
	}
	if len(files) == 0 {
		t.Fatal("configs/docker.toml names no GeoIP files")
	}
	for _, f := range files {
		if !produced[filepath.Base(f)] {
			t.Errorf("geoip file %q is not produced by scripts/geoip.sh (it produces %v)", f, keys(produced))
		}
	}
}

// envTarget finds the config value a TIDEMARK_* variable sets, following the
// rules of host/config: TIDEMARK_ + key path with dots as underscores,
// uppercased; [[pipeline]] and [[analyzer]] keys by index. A name that
// matches no key is an error, although config.Load ignores it: a mistyped
// variable must not go unnoticed in a deployment file.
func envTarget(cfg *config.Config, name string) (reflect.Value, string, error) {
	if !strings.HasPrefix(name, config.EnvPrefix) {
		return reflect.Value{}, "", fmt.Errorf("%s does not start with %s", name, config.EnvPrefix)
	}
	rest := strings.ToLower(strings.TrimPrefix(name, config.EnvPrefix))
	return findKey(reflect.ValueOf(cfg).Elem(), rest, "")
}

var indexRe = regexp.MustCompile(`^(\d+)_(.+)$`)

func findKey(v reflect.Value, rest, path string) (reflect.Value, string, error) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("koanf")
		if tag == "" || tag == "-" {
			continue
		}
		f := v.Field(i)
		ft := f.Type()
		p := tag
		if path != "" {
			p = path + "." + tag
		}
		isStruct := ft.Kind() == reflect.Struct || (ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct)
		isTables := ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct
		switch {
		case rest == tag && !isStruct && !isTables:
			return f, p, nil
		case strings.HasPrefix(rest, tag+"_") && isStruct:
			if ft.Kind() == reflect.Pointer {
				if f.IsNil() {
					return reflect.Value{}, "", fmt.Errorf("[%s] is not in the file, so %s has nothing to override", p, strings.TrimPrefix(rest, tag+"_"))
				}
				f = f.Elem()
			}
			if got, gp, err := findKey(f, strings.TrimPrefix(rest, tag+"_"), p); err == nil {
				return got, gp, nil
			}
		case strings.HasPrefix(rest, tag+"_") && isTables:
			m := indexRe.FindStringSubmatch(strings.TrimPrefix(rest, tag+"_"))
			if m == nil {
				continue
			}
			idx, _ := strconv.Atoi(m[1])
			if idx >= f.Len() {
				return reflect.Value{}, "", fmt.Errorf("%s[%d] does not exist", p, idx)
			}
			return findKey(f.Index(idx), m[2], fmt.Sprintf("%s[%d]", p, idx))
		}
	}
	return reflect.Value{}, "", fmt.Errorf("no config key %q", strings.ReplaceAll(rest, "_", "."))
}

// checkEnv loads configs/docker.toml with env (name → value), and checks
// that each variable names a real key and that its value landed there.
func checkEnv(t *testing.T, where string, env map[string]string) {
	t.Helper()
	var environ []string
	for k, v := range env {
		if strings.HasPrefix(k, config.EnvPrefix) {
			environ = append(environ, k+"="+v)
		}
	}
	if len(environ) == 0 {
		return
	}
	cfg, err := config.Load(dockerConfigPath, environ)
	if err != nil {
		t.Errorf("%s: configs/docker.toml with %v: %v", where, environ, err)
		return
	}
	if _, _, err := service.Check(cfg, true); err != nil {
		t.Errorf("%s: configs/docker.toml with %v does not compile: %v", where, environ, err)
	}
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		got, path, err := envTarget(cfg, name)
		if err != nil {
			t.Errorf("%s: %s is not a config key: %v", where, name, err)
			continue
		}
		if err := valueIs(got, val); err != nil {
			t.Errorf("%s: %s did not land in %s: %v", where, name, path, err)
		}
	}
}

// valueIs compares a decoded config value with the environment string.
func valueIs(v reflect.Value, s string) error {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return errors.New("still nil")
		}
		v = v.Elem()
	}
	var want any
	switch v.Kind() {
	case reflect.String:
		want = s
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("cannot compare a %s", v.Type())
		}
		want = splitList(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		want = b
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		want = reflect.ValueOf(n).Convert(v.Type()).Interface()
	default:
		return fmt.Errorf("cannot compare a %s from the environment", v.Type())
	}
	if got := v.Interface(); !reflect.DeepEqual(got, want) {
		return fmt.Errorf("got %#v, want %#v", got, want)
	}
	return nil
}

// TestEnvTargetRejectsUnknownNames: the env check can fail, for typos and
// for keys of sections or blocks the file does not have.
func TestEnvTargetRejectsUnknownNames(t *testing.T) {
	cfg := loadDockerConfig(t, nil)
	for _, name := range []string{
		"TIDEMARK_OUTPUT_INFLUXDB_TOKN",
		"TIDEMARK_INPUT",
		"TIDEMARK_PIPELINE_99_WINDOW",
		"TIDEMARK_PIPELINE_WINDOW",
		"TIDEMARK_OUTPUT_STDOUT_ENABLED", // [output.stdout] is not in the file
		"TIDEMARK_INFLUXD",               // the Makefile's, not a key
	} {
		if _, path, err := envTarget(cfg, name); err == nil {
			t.Errorf("%s resolved to %s; want an error", name, path)
		}
	}
	for name, want := range map[string]string{
		"TIDEMARK_OUTPUT_INFLUXDB_TOKEN":     "output.influxdb.token",
		"TIDEMARK_INPUT_DEAD_LETTER_TOPIC":   "input.dead_letter_topic",
		"TIDEMARK_INPUT_SASL_PASSWORD":       "input.sasl.password",
		"TIDEMARK_PIPELINE_1_WINDOW":         "pipeline[1].window",
		"TIDEMARK_PIPELINE_0_DISTINCT_EXACT": "pipeline[0].distinct_exact",
		"TIDEMARK_ANALYZER_0_HISTORY":        "analyzer[0].history",
	} {
		if _, path, err := envTarget(cfg, name); err != nil || path != want {
			t.Errorf("%s → %q, %v; want %s", name, path, err, want)
		}
	}
	// And a value that did not land is reported.
	checkValue := func(name, val string) error {
		v, _, err := envTarget(cfg, name)
		if err != nil {
			return err
		}
		return valueIs(v, val)
	}
	if err := checkValue("TIDEMARK_INPUT_TOPIC", "not-the-topic"); err == nil {
		t.Error("a value that is not in the config compared equal")
	}
	if err := checkValue("TIDEMARK_INPUT_BROKERS", "kafka:9092"); err != nil {
		t.Errorf("brokers from the file: %v", err)
	}
}

// TestEnvOverridesLand loads the config with overrides of each kind the
// deployment files use and checks the values arrive.
func TestEnvOverridesLand(t *testing.T) {
	checkEnv(t, "overrides", map[string]string{
		"TIDEMARK_OUTPUT_INFLUXDB_TOKEN": "s3cret",
		"TIDEMARK_INPUT_BROKERS":         "k1:9092,k2:9092",
		"TIDEMARK_OUTPUT_INFLUXDB_URL":   "http://influx.example:8086",
		"TIDEMARK_PIPELINE_0_WINDOW":     "1m",
		"TIDEMARK_LOG_LEVEL":             "debug",
	})
}

// --- YAML helpers

// yamlDocs decodes every document of a multi-document YAML file.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, path)))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
	return docs
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// flagValue returns the value after flag (--name or -name, or --name=value)
// in an argument list.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		for _, f := range []string{"-" + name, "--" + name} {
			if a == f && i+1 < len(args) {
				return args[i+1], true
			}
			if v, ok := strings.CutPrefix(a, f+"="); ok {
				return v, true
			}
		}
	}
	return "", false
}

// listenPort is the port of http.listen.
func listenPort(t *testing.T, cfg *config.Config) string {
	t.Helper()
	i := strings.LastIndex(cfg.HTTP.Listen, ":")
	if i < 0 {
		t.Fatalf("http.listen %q has no port", cfg.HTTP.Listen)
	}
	return cfg.HTTP.Listen[i+1:]
}
