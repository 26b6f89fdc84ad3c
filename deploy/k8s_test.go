package deploy_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// k8sObject is the part of a manifest the tests read; workloads decode
// their pod template into podSpec.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Namespace   string            `yaml:"namespace"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Replicas *int             `yaml:"replicas"`
		Type     string           `yaml:"type"`
		Selector map[string]any   `yaml:"selector"`
		Ports    []k8sServicePort `yaml:"ports"`
		Template *k8sPodTemplate  `yaml:"template"`
	} `yaml:"spec"`
	file string
}

type k8sServicePort struct {
	Name       string `yaml:"name"`
	Port       int    `yaml:"port"`
	TargetPort any    `yaml:"targetPort"`
	Protocol   string `yaml:"protocol"`
}

type k8sPodTemplate struct {
	Metadata struct {
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec struct {
		HostNetwork     bool           `yaml:"hostNetwork"`
		SecurityContext map[string]any `yaml:"securityContext"`
		InitContainers  []k8sContainer `yaml:"initContainers"`
		Containers      []k8sContainer `yaml:"containers"`
		Volumes         []struct {
			Name      string                 `yaml:"name"`
			ConfigMap *struct{ Name string } `yaml:"configMap"`
			EmptyDir  map[string]any         `yaml:"emptyDir"`
			PVC       *struct {
				ClaimName string `yaml:"claimName"`
			} `yaml:"persistentVolumeClaim"`
		} `yaml:"volumes"`
	} `yaml:"spec"`
}

type k8sContainer struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
	Env     []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
			ResourceFieldRef map[string]any `yaml:"resourceFieldRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
		HostPort      int    `yaml:"hostPort"`
		Protocol      string `yaml:"protocol"`
	} `yaml:"ports"`
	ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
	LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type k8sProbe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

// k8sObjects decodes the manifests kustomization.yaml lists, and the other
// *.yaml files in deploy/k8s (alternatives applied by hand).
func k8sObjects(t *testing.T) (listed, all []*k8sObject) {
	t.Helper()
	var kust struct {
		Resources []string `yaml:"resources"`
	}
	if err := yaml.Unmarshal(readFile(t, "k8s/kustomization.yaml"), &kust); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	inKust := set(kust.Resources...)
	files, _ := filepath.Glob("k8s/*.yaml")
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		for _, d := range yamlDocs(t, f) {
			b, _ := yaml.Marshal(d)
			var o k8sObject
			if err := yaml.Unmarshal(b, &o); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			o.file = filepath.Base(f)
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Errorf("%s: an object without apiVersion, kind or name", f)
			}
			if o.Kind != "Namespace" && o.Metadata.Namespace != "tidemark" {
				t.Errorf("%s: %s/%s is in namespace %q, want tidemark", f, o.Kind, o.Metadata.Name, o.Metadata.Namespace)
			}
			all = append(all, &o)
			if inKust[o.file] {
				listed = append(listed, &o)
			}
		}
	}
	for r := range inKust {
		if _, err := os.Stat(filepath.Join("k8s", r)); err != nil {
			t.Errorf("kustomization.yaml lists %s: %v", r, err)
		}
	}
	return listed, all
}

func findObject(t *testing.T, objs []*k8sObject, kind, name string) *k8sObject {
	t.Helper()
	for _, o := range objs {
		if o.Kind == kind && o.Metadata.Name == name {
			return o
		}
	}
	t.Fatalf("no %s %q in the kustomization", kind, name)
	return nil
}

func (c *k8sContainer) mountPath(volume string) (string, bool) {
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			return m.MountPath, true
		}
	}
	return "", false
}

func (p *k8sPodTemplate) volumeMountedAt(c *k8sContainer, path string) (string, bool) {
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return m.Name, true
		}
	}
	return "", false
}

func TestK8sConfigMapsAreTheRepoFiles(t *testing.T) {
	listed, _ := k8sObjects(t)
	cm := findObject(t, listed, "ConfigMap", "tidemark-config")
	if cm.Data["tidemark.toml"] != string(readFile(t, dockerConfigPath)) {
		t.Error("ConfigMap tidemark-config tidemark.toml differs from configs/docker.toml; copy it over")
	}
	gs := findObject(t, listed, "ConfigMap", "tidemark-geoip-script")
	if gs.Data["geoip.sh"] != string(readFile(t, repoPath("scripts", "geoip.sh"))) {
		t.Error("ConfigMap tidemark-geoip-script geoip.sh differs from scripts/geoip.sh; copy it over")
	}
	findObject(t, listed, "Namespace", "tidemark")
}

func TestK8sTidemarkDeployment(t *testing.T) {
	listed, _ := k8sObjects(t)
	cfg := loadDockerConfig(t, nil)
	port := listenPort(t, cfg)
	dep := findObject(t, listed, "Deployment", "tidemark")
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 {
		t.Error("Deployment tidemark must run exactly one replica per consumer group")
	}
	if !strings.Contains(string(readFile(t, filepath.Join("k8s", dep.file))), "Keep exactly one replica per consumer group") {
		t.Error("the Deployment does not say why it runs one replica")
	}
	tpl := dep.Spec.Template
	if tpl == nil || len(tpl.Spec.Containers) != 1 {
		t.Fatal("Deployment tidemark: want one container")
	}
	c := &tpl.Spec.Containers[0]
	if img := loadCompose(t).service(t, "tidemark").Image; c.Image != img {
		t.Errorf("k8s image %q, compose builds %q", c.Image, img)
	}
	if len(c.Args) == 0 || c.Args[0] != "run" {
		t.Fatalf("args %v: want run", c.Args)
	}
	// The config file: a ConfigMap mounted so that -c finds tidemark.toml.
	cpath, _ := flagValue(c.Args, "c")
	vol, ok := tpl.volumeMountedAt(c, filepath.Dir(cpath))
	if !ok {
		t.Errorf("nothing is mounted at %s for -c %s", filepath.Dir(cpath), cpath)
	}
	for _, v := range tpl.Spec.Volumes {
		if v.Name == vol && (v.ConfigMap == nil || v.ConfigMap.Name != "tidemark-config" || filepath.Base(cpath) != "tidemark.toml") {
			t.Errorf("-c %s is not the ConfigMap's tidemark.toml", cpath)
		}
	}
	// Probes on http.listen's port.
	var httpPort int
	for _, p := range c.Ports {
		if p.Name == "http" {
			httpPort = p.ContainerPort
		}
	}
	if strconv.Itoa(httpPort) != port {
		t.Errorf("container port http = %d, http.listen port %s", httpPort, port)
	}
	for name, pr := range map[string]struct {
		p    *k8sProbe
		path string
	}{"readiness": {c.ReadinessProbe, "/readyz"}, "liveness": {c.LivenessProbe, "/healthz"}} {
		if pr.p == nil || pr.p.HTTPGet == nil || pr.p.HTTPGet.Path != pr.path {
			t.Errorf("%s probe: want httpGet %s", name, pr.path)
		} else if pp := pr.p.HTTPGet.Port; pp != "http" && pp != httpPort {
			t.Errorf("%s probe port %v, want http", name, pp)
		}
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("resources %+v: want cpu and memory requests and a memory limit", c.Resources)
	}
	// Volumes at the paths the config names.
	for _, p := range []string{cfg.Plugins.Dir, dataDir, cfg.Plugins.CacheDir, cfg.Plugins.StateDir} {
		if _, ok := tpl.volumeMountedAt(c, p); !ok {
			t.Errorf("nothing is mounted at %s", p)
		}
	}
	// Built-in plugins are seeded into the plugins volume, GeoIP data into its.
	pluginsVol, _ := tpl.volumeMountedAt(c, cfg.Plugins.Dir)
	geoVol, _ := tpl.volumeMountedAt(c, dataDir)
	var seeded, fetched bool
	for i := range tpl.Spec.InitContainers {
		ic := &tpl.Spec.InitContainers[i]
		if p, ok := ic.mountPath(pluginsVol); ok && strings.Contains(strings.Join(ic.Command, " "), "/usr/share/tidemark/plugins/") && strings.Contains(strings.Join(ic.Command, " "), p) {
			seeded = ic.Image == c.Image
		}
		if p, ok := ic.mountPath(geoVol); ok {
			for _, e := range ic.Env {
				fetched = fetched || (e.Name == "DATA_DIR" && e.Value == p)
			}
		}
	}
	if !seeded {
		t.Error("no init container copies the image's built-in plugins into the plugins volume")
	}
	if !fetched {
		t.Error("no init container fetches the GeoIP data into the data volume")
	}
	// Prometheus discovers it by annotation.
	ann := tpl.Metadata.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != port || ann["prometheus.io/path"] != "/metrics" {
		t.Errorf("pod annotations %v: want prometheus.io scrape on %s /metrics", ann, port)
	}
	// Env: the token from the Secret, and only real config keys.
	env := map[string]string{}
	var tokenFromSecret bool
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			ref := e.ValueFrom.SecretKeyRef
			sec := findObject(t, listed, "Secret", ref.Name)
			if _, ok := sec.StringData[ref.Key]; !ok {
				t.Errorf("env %s: Secret %s has no key %s", e.Name, ref.Name, ref.Key)
			}
			v = "value-from-secret"
			tokenFromSecret = tokenFromSecret || e.Name == "TIDEMARK_OUTPUT_INFLUXDB_TOKEN"
		}
		env[e.Name] = v
	}
	if !tokenFromSecret {
		t.Error("TIDEMARK_OUTPUT_INFLUXDB_TOKEN does not come from a Secret")
	}
	checkEnv(t, "k8s Deployment tidemark", env)

	svc := findObject(t, listed, "Service", "tidemark")
	var svcOK bool
	for _, p := range svc.Spec.Ports {
		svcOK = svcOK || strconv.Itoa(p.Port) == port
	}
	if !svcOK {
		t.Errorf("Service tidemark does not expose %s", port)
	}
}

func TestK8sCollector(t *testing.T) {
	listed, all := k8sObjects(t)
	cfg := loadDockerConfig(t, nil)
	ds := findObject(t, listed, "DaemonSet", "tidemark-collector")
	tpl := ds.Spec.Template
	if tpl == nil || len(tpl.Spec.Containers) != 1 {
		t.Fatal("DaemonSet tidemark-collector: want one container")
	}
	c := &tpl.Spec.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "collect" {
		t.Fatalf("collector args %v: want collect", c.Args)
	}
	if v, _ := flagValue(c.Args, "listen"); v != ":6343" {
		t.Errorf("collect --listen %q, want :6343", v)
	}
	if v, _ := flagValue(c.Args, "topic"); !contains(cfg.Topics(), v) {
		t.Errorf("collect --topic %q is not a topic tidemark reads (%v)", v, cfg.Topics())
	}
	// The collector and tidemark use the same brokers.
	brokers, _ := flagValue(c.Args, "brokers")
	for _, e := range c.Env {
		brokers = strings.ReplaceAll(brokers, "$("+e.Name+")", e.Value)
	}
	dep := findObject(t, listed, "Deployment", "tidemark")
	for _, e := range dep.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "TIDEMARK_INPUT_BROKERS" && e.Value != brokers {
			t.Errorf("collector produces to %q, tidemark reads from %q", brokers, e.Value)
		}
	}
	udp := false
	for _, p := range c.Ports {
		udp = udp || (p.ContainerPort == 6343 && p.Protocol == "UDP")
	}
	if !udp {
		t.Error("collector has no UDP 6343 container port")
	}
	// Reachable from the agents: host network, or a UDP LoadBalancer.
	lb := false
	for _, o := range all {
		if o.Kind == "Service" && o.Spec.Type == "LoadBalancer" {
			for _, p := range o.Spec.Ports {
				lb = lb || (p.Port == 6343 && p.Protocol == "UDP")
			}
		}
	}
	if !tpl.Spec.HostNetwork && !lb {
		t.Error("the collector is neither on the host network nor behind a UDP LoadBalancer")
	}
	metrics, _ := flagValue(c.Args, "metrics")
	if ann := tpl.Metadata.Annotations; ann["prometheus.io/scrape"] != "true" || ":"+ann["prometheus.io/port"] != metrics {
		t.Errorf("collector annotations %v do not scrape --metrics %s", ann, metrics)
	}
}

func TestK8sRunsAsNonRoot(t *testing.T) {
	listed, _ := k8sObjects(t)
	for _, o := range listed {
		if o.Spec.Template == nil {
			continue
		}
		sc := o.Spec.Template.Spec.SecurityContext
		if sc["runAsNonRoot"] != true {
			t.Errorf("%s %s: pod securityContext lacks runAsNonRoot", o.Kind, o.Metadata.Name)
		}
	}
}
