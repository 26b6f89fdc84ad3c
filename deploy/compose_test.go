package deploy_test

import (
	"bytes"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tidemark/tidemark/host/config"
)

// composeFile holds the Compose Specification keys the stack uses; it is
// decoded strictly, so a misspelt key (depends-on, heathcheck) fails.
type composeFile struct {
	Name     string                     `yaml:"name"`
	Services map[string]*composeService `yaml:"services"`
	Volumes  map[string]any             `yaml:"volumes"`
}

type composeService struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Restart     string            `yaml:"restart"`
	Command     []string          `yaml:"command"`
	Entrypoint  []string          `yaml:"entrypoint"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test        []string `yaml:"test"`
		Interval    string   `yaml:"interval"`
		Timeout     string   `yaml:"timeout"`
		Retries     int      `yaml:"retries"`
		StartPeriod string   `yaml:"start_period"`
		Disable     bool     `yaml:"disable"`
	} `yaml:"healthcheck"`
	Profiles []string `yaml:"profiles"`
}

func loadCompose(t *testing.T) *composeFile {
	t.Helper()
	var c composeFile
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, "docker-compose.yml")))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return &c
}

func TestComposeDependenciesAndHealth(t *testing.T) {
	c := loadCompose(t)
	conds := map[string]bool{"service_started": true, "service_healthy": true, "service_completed_successfully": true}
	for name, s := range c.Services {
		for dep, d := range s.DependsOn {
			target := c.Services[dep]
			switch {
			case target == nil:
				t.Errorf("%s depends on unknown service %s", name, dep)
			case !conds[d.Condition]:
				t.Errorf("%s depends on %s with condition %q", name, dep, d.Condition)
			case d.Condition == "service_healthy" && (target.Healthcheck == nil || target.Healthcheck.Disable):
				t.Errorf("%s waits for %s to be healthy, but it has no healthcheck", name, dep)
			case d.Condition == "service_healthy" && target.Image == c.Services["tidemark"].Image && !strings.Contains(strings.Join(target.Command, " "), "run"):
				t.Errorf("%s waits for %s's health, which the image checks on tidemark run's port", name, dep)
			}
		}
		if s.Restart == "" && len(s.Profiles) == 0 && !strings.Contains(name, "init") && name != "geoip" {
			t.Errorf("long-running service %s has no restart policy", name)
		}
		// The image's HEALTHCHECK probes tidemark run's /healthz; collect and
		// gen serve no such thing and must override it.
		if s.Image == c.Services["tidemark"].Image && len(s.Command) > 0 && s.Command[0] != "run" && s.Healthcheck == nil {
			t.Errorf("%s runs %q from the tidemark image without overriding its /healthz healthcheck", name, s.Command[0])
		}
		if hc := s.Healthcheck; hc != nil && !hc.Disable && len(hc.Test) == 0 {
			t.Errorf("%s: healthcheck without test", name)
		}
	}
}

func (c *composeFile) service(t *testing.T, name string) *composeService {
	t.Helper()
	s := c.Services[name]
	if s == nil {
		t.Fatalf("docker-compose.yml has no service %q (has %v)", name, keys(c.Services))
	}
	return s
}

var interpRe = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}`)

// interpolate applies compose's ${VAR:-default} with an empty environment,
// i.e. what a fresh checkout without deploy/.env runs with.
func interpolate(s string) string {
	return interpRe.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		return interpRe.FindStringSubmatch(m)[2]
	})
}

// mount splits a short-syntax volume "src:dst[:mode]".
func mount(v string) (src, dst string, ro bool) {
	parts := strings.Split(v, ":")
	src, dst = parts[0], parts[1]
	return src, dst, len(parts) > 2 && parts[2] == "ro"
}

// mountAt finds the mount whose target is dst.
func (s *composeService) mountAt(dst string) (src string, ok bool) {
	for _, v := range s.Volumes {
		if sv, d, _ := mount(v); d == dst {
			return sv, true
		}
	}
	return "", false
}

func (s *composeService) publishes(port string) bool {
	for _, p := range s.Ports {
		_, container, _ := strings.Cut(p, ":")
		if container == port || p == port {
			return true
		}
	}
	return false
}

func TestComposeImagesArePinned(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		if s.Image == "" {
			t.Errorf("service %s has no image", name)
			continue
		}
		repo, tag, ok := strings.Cut(s.Image, ":")
		if !ok || tag == "" || tag == "latest" {
			t.Errorf("service %s: image %q is not pinned to a tag", name, s.Image)
		}
		_ = repo
	}
	for _, want := range []struct{ svc, prefix string }{
		{"kafka", "apache/kafka:"}, {"influxdb", "influxdb:2."}, {"grafana", "grafana/grafana"}, {"prometheus", "prom/prometheus:"},
	} {
		if img := c.service(t, want.svc).Image; !strings.HasPrefix(img, want.prefix) {
			t.Errorf("%s image %q, want %s…", want.svc, img, want.prefix)
		}
	}
}

func TestComposeBindMountsExist(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			src, _, _ := mount(v)
			if !strings.HasPrefix(src, ".") && !strings.HasPrefix(src, "/") {
				if _, declared := c.Volumes[src]; !declared {
					t.Errorf("service %s mounts volume %q, which is not declared under volumes:", name, src)
				}
				continue
			}
			if _, err := os.Stat(src); err != nil {
				t.Errorf("service %s mounts %s: %v", name, src, err)
			}
		}
	}
}

func TestComposeKafka(t *testing.T) {
	c := loadCompose(t)
	cfg := loadDockerConfig(t, nil)
	k := c.service(t, "kafka")
	roles := k.Environment["KAFKA_PROCESS_ROLES"]
	if !strings.Contains(roles, "broker") || !strings.Contains(roles, "controller") {
		t.Errorf("KAFKA_PROCESS_ROLES = %q: want a single KRaft node (broker,controller)", roles)
	}
	for _, b := range cfg.Input.Brokers {
		if !strings.Contains(k.Environment["KAFKA_ADVERTISED_LISTENERS"], "://"+b) {
			t.Errorf("kafka does not advertise %s (input.brokers): %q", b, k.Environment["KAFKA_ADVERTISED_LISTENERS"])
		}
		if host, _, _ := net.SplitHostPort(b); c.Services[host] == nil {
			t.Errorf("input.brokers %s: no compose service %q", b, host)
		}
	}
	// The init job creates every topic the config reads or writes.
	init := strings.Join(c.service(t, "kafka-init").Command, "\n")
	topics := append(cfg.Topics(), cfg.Input.DeadLetterTopic, cfg.Alerts.Topic)
	for _, tp := range topics {
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(tp) + `:\d+\b`).MatchString(init) {
			t.Errorf("kafka-init does not create topic %q", tp)
		}
	}
	for _, svc := range []string{"tidemark", "collector"} {
		if c.service(t, svc).DependsOn["kafka-init"].Condition != "service_completed_successfully" {
			t.Errorf("%s does not wait for kafka-init to complete", svc)
		}
	}
}

func TestComposeInfluxDB(t *testing.T) {
	c := loadCompose(t)
	cfg := loadDockerConfig(t, nil)
	ix := cfg.Output.InfluxDB
	u, err := url.Parse(ix.URL)
	if err != nil {
		t.Fatal(err)
	}
	s := c.service(t, u.Hostname())
	env := s.Environment
	for k, want := range map[string]string{
		"DOCKER_INFLUXDB_INIT_MODE":   "setup",
		"DOCKER_INFLUXDB_INIT_ORG":    ix.Org,
		"DOCKER_INFLUXDB_INIT_BUCKET": ix.Bucket,
	} {
		if env[k] != want {
			t.Errorf("%s = %q, want %q", k, env[k], want)
		}
	}
	if u.Port() != "8086" {
		t.Errorf("output.influxdb.url port %s; the influxdb image listens on 8086", u.Port())
	}
	ret, err := config.ParseDuration(env["DOCKER_INFLUXDB_INIT_RETENTION"])
	if err != nil || ret != cfg.Retention() {
		t.Errorf("DOCKER_INFLUXDB_INIT_RETENTION %q (%v) differs from output.influxdb.retention %v", env["DOCKER_INFLUXDB_INIT_RETENTION"], err, cfg.Retention())
	}
	if pw := interpolate(env["DOCKER_INFLUXDB_INIT_PASSWORD"]); len(pw) < 8 {
		t.Errorf("the default InfluxDB password %q is shorter than the 8 characters influx setup requires", pw)
	}
	// One token: InfluxDB's admin token is what tidemark and Grafana use.
	token := env["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"]
	if token == "" || !strings.Contains(token, "${INFLUXDB_TOKEN") {
		t.Errorf("DOCKER_INFLUXDB_INIT_ADMIN_TOKEN = %q: want it from ${INFLUXDB_TOKEN}", token)
	}
	if got := c.service(t, "tidemark").Environment["TIDEMARK_OUTPUT_INFLUXDB_TOKEN"]; got != token {
		t.Errorf("tidemark's TIDEMARK_OUTPUT_INFLUXDB_TOKEN = %q, InfluxDB's admin token %q", got, token)
	}
	if got := c.service(t, "grafana").Environment["INFLUXDB_TOKEN"]; got != token {
		t.Errorf("grafana's INFLUXDB_TOKEN = %q, InfluxDB's admin token %q", got, token)
	}
	if s.DependsOn != nil {
		t.Errorf("influxdb depends on %v; it should start on its own", keys(s.DependsOn))
	}
	if c.service(t, "tidemark").DependsOn[u.Hostname()].Condition != "service_healthy" {
		t.Errorf("tidemark does not wait for a healthy %s", u.Hostname())
	}
}

func TestComposeTidemark(t *testing.T) {
	c := loadCompose(t)
	cfg := loadDockerConfig(t, nil)
	s := c.service(t, "tidemark")
	if s.Build == nil {
		t.Fatal("tidemark has no build section")
	}
	df := filepath.Join(s.Build.Context, s.Build.Dockerfile)
	if abs, _ := filepath.Abs(df); abs != mustAbs(t, "Dockerfile") {
		t.Errorf("tidemark builds %s, want deploy/Dockerfile", df)
	}
	if s.Build.Context != repoRoot {
		t.Errorf("build context %q, want the repository root %q (build.sh needs the whole tree)", s.Build.Context, repoRoot)
	}
	if len(s.Command) == 0 || s.Command[0] != "run" {
		t.Fatalf("tidemark command %v: want run", s.Command)
	}
	cpath, _ := flagValue(s.Command, "c")
	src, ok := s.mountAt(cpath)
	if !ok {
		t.Errorf("tidemark reads %s, which is not mounted", cpath)
	} else if abs, _ := filepath.Abs(src); abs != mustAbs(t, dockerConfigPath) {
		t.Errorf("%s is mounted from %s, want configs/docker.toml", cpath, src)
	}
	if src, ok := s.mountAt(cfg.Plugins.Dir); !ok || strings.HasPrefix(src, ".") {
		t.Errorf("plugins.dir %s: mounted from %q; want a named volume (seeded with the built-in analyzers)", cfg.Plugins.Dir, src)
	}
	geo, ok := s.mountAt(dataDir)
	if !ok {
		t.Fatalf("the GeoIP directory %s is not mounted", dataDir)
	}
	if g := c.service(t, "geoip"); !hasMount(g, geo) {
		t.Errorf("the geoip service does not fill volume %q", geo)
	} else if s.DependsOn["geoip"].Condition != "service_completed_successfully" {
		t.Errorf("tidemark does not wait for the GeoIP data")
	}
	if !s.publishes(listenPort(t, cfg)) {
		t.Errorf("tidemark does not publish http.listen's port %s: %v", listenPort(t, cfg), s.Ports)
	}
	if s.Environment["TIDEMARK_OUTPUT_INFLUXDB_TOKEN"] == "" {
		t.Error("tidemark gets no TIDEMARK_OUTPUT_INFLUXDB_TOKEN")
	}
}

func hasMount(s *composeService, src string) bool {
	for _, v := range s.Volumes {
		if sv, _, _ := mount(v); sv == src {
			return true
		}
	}
	return false
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestComposeEnv: every TIDEMARK_* variable any service sets is a config key
// and its value lands there.
func TestComposeEnv(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		env := map[string]string{}
		for k, v := range s.Environment {
			env[k] = interpolate(v)
		}
		checkEnv(t, "compose service "+name, env)
	}
}

func TestComposeCollector(t *testing.T) {
	c := loadCompose(t)
	cfg := loadDockerConfig(t, nil)
	s := c.service(t, "collector")
	if s.Image != c.service(t, "tidemark").Image {
		t.Errorf("collector image %q, tidemark %q: want the same image", s.Image, c.service(t, "tidemark").Image)
	}
	if len(s.Command) == 0 || s.Command[0] != "collect" {
		t.Fatalf("collector command %v: want collect", s.Command)
	}
	if v, _ := flagValue(s.Command, "listen"); v != ":6343" {
		t.Errorf("collect --listen %q, want :6343", v)
	}
	if v, _ := flagValue(s.Command, "brokers"); v != strings.Join(cfg.Input.Brokers, ",") {
		t.Errorf("collect --brokers %q, tidemark reads from %v", v, cfg.Input.Brokers)
	}
	topic, _ := flagValue(s.Command, "topic")
	found := false
	for _, tp := range cfg.Topics() {
		found = found || tp == topic
	}
	if !found {
		t.Errorf("collect --topic %q is not a topic tidemark reads (%v)", topic, cfg.Topics())
	}
	if !s.publishes("6343/udp") {
		t.Errorf("collector does not publish 6343/udp: %v", s.Ports)
	}
	// Prometheus scrapes both.
	metrics, _ := flagValue(s.Command, "metrics")
	_, mport, _ := net.SplitHostPort(metrics)
	targets := prometheusTargets(t, c)
	for _, want := range []string{"collector:" + mport, "tidemark:" + listenPort(t, cfg)} {
		if !targets[want] {
			t.Errorf("prometheus.yml does not scrape %s (targets %v)", want, keys(targets))
		}
	}
	// The demo generator sends to the collector.
	if g := c.Services["traffic-gen"]; g != nil {
		if udp, _ := flagValue(g.Command, "udp"); udp != "collector:6343" {
			t.Errorf("traffic-gen sends to %q, want collector:6343", udp)
		}
		if len(g.Profiles) == 0 {
			t.Error("traffic-gen runs by default; it belongs in a profile")
		}
	}
}

func prometheusTargets(t *testing.T, c *composeFile) map[string]bool {
	t.Helper()
	p := c.service(t, "prometheus")
	src, ok := p.mountAt("/etc/prometheus/prometheus.yml")
	if !ok {
		t.Fatal("prometheus has no /etc/prometheus/prometheus.yml mounted")
	}
	var pc struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(readFile(t, src), &pc); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	out := map[string]bool{}
	for _, sc := range pc.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, tg := range st.Targets {
				out[tg] = true
			}
		}
	}
	return out
}

func TestComposeGrafanaMounts(t *testing.T) {
	c := loadCompose(t)
	g := c.service(t, "grafana")
	if src, ok := g.mountAt("/etc/grafana/provisioning"); !ok || filepath.Clean(src) != "grafana/provisioning" {
		t.Errorf("grafana provisioning mounted from %q, want ./grafana/provisioning", src)
	}
	providerPath := dashboardProviderPath(t)
	if src, ok := g.mountAt(providerPath); !ok || filepath.Clean(src) != "grafana/dashboards" {
		t.Errorf("the dashboard provider reads %s, mounted from %q; want ./grafana/dashboards", providerPath, src)
	}
	if home := g.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; home != "" {
		rel, err := filepath.Rel(providerPath, home)
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("home dashboard %s is outside %s", home, providerPath)
		} else if _, err := os.Stat(filepath.Join("grafana", "dashboards", rel)); err != nil {
			t.Errorf("home dashboard: %v", err)
		}
	}
}
