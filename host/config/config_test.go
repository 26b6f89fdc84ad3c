package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const base = `
[input]
brokers = ["127.0.0.1:9092"]
topic = "sflow"

[[pipeline]]
name = "p"
aggregate = ["count()"]

[output.influxdb]
url = "http://127.0.0.1:8086"
bucket = "db/autogen"
`

func parse(t *testing.T, src string, env ...string) (*Config, Errors) {
	t.Helper()
	if env == nil {
		env = []string{}
	}
	c, err := Parse("t.toml", []byte(src), env)
	if err == nil {
		return c, nil
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T, want Errors: %v", err, err)
	}
	return nil, es
}

func TestValidConfigAndDefaults(t *testing.T) {
	c, errs := parse(t, base)
	if errs != nil {
		t.Fatalf("unexpected errors:\n%v", errs)
	}
	if c.Input.Group != DefaultGroup || c.Input.Format != "sflowtool" || c.Pipeline[0].Records != "flow" {
		t.Errorf("defaults not applied: %+v", c.Input)
	}
	if l := c.Limits(0); l.Window != DefaultWindow || l.Lateness != DefaultLateness {
		t.Errorf("limits = %+v", l)
	}
	if c.MemoryLimit() != 64<<20 {
		t.Errorf("memory limit = %d", c.MemoryLimit())
	}
}

// Each validation error class, with the message the operator reads.
func TestValidationErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      string // substring of one error: "file:line: path: msg"
	}{
		{"unknown top key", base + "\n[outptu]\nx = 1\n", `t.toml:14: outptu: unknown key "outptu" (did you mean "output"?)`},
		{"unknown nested key", strings.Replace(base, `name = "p"`, "name = \"p\"\nwindw = \"10s\"", 1), `t.toml:8: pipeline[0].windw: unknown key "windw" (did you mean "window"?)`},
		{"no brokers", strings.Replace(base, `brokers = ["127.0.0.1:9092"]`, "brokers = []", 1), `t.toml:3: input.brokers: at least one broker is required`},
		{"bad broker", strings.Replace(base, `"127.0.0.1:9092"`, `"localhost"`, 1), `input.brokers[0]: "localhost" is not host:port`},
		{"no topic", strings.Replace(base, `topic = "sflow"`, "", 1), `input.topic: a topic is required`},
		{"bad format", strings.Replace(base, `topic = "sflow"`, "topic = \"sflow\"\nformat = \"jsn\"", 1), `t.toml:5: input.format: unknown format "jsn" (want sflowtool, csv or json) (did you mean "json"?)`},
		{"csv without columns", strings.Replace(base, `topic = "sflow"`, "topic = \"sflow\"\nformat = \"csv\"", 1), `input.columns: format "csv" needs columns`},
		{"bad column type", strings.Replace(base, `topic = "sflow"`, "topic = \"sflow\"\nformat = \"csv\"\ncolumns = [\"a:nmber\"]", 1), `t.toml:6: input.columns[0]: column "a": unknown type "nmber" (want number, string or time) (did you mean "number"?)`},
		{"bad window", strings.Replace(base, `name = "p"`, "name = \"p\"\nwindow = \"10 seconds\"", 1), `t.toml:8: pipeline[0].window: want a positive duration like "10s", got "10 seconds"`},
		{"no aggregates", strings.Replace(base, `aggregate = ["count()"]`, "", 1), `pipeline[0].aggregate: at least one aggregate is required`},
		{"duplicate pipeline", base + "\n[[pipeline]]\nname = \"p\"\naggregate = [\"count()\"]\n", `pipeline[1].name: "p" is already the name of pipeline[0]`},
		{"late dead letter without topic", strings.Replace(base, `name = "p"`, "name = \"p\"\nlate = \"dead_letter\"", 1), `pipeline[0].late: dead_letter needs input.dead_letter_topic`},
		{"no output", strings.Split(base, "[output.influxdb]")[0], `output: configure [output.influxdb] or [output.stdout] enabled = true`},
		{"bad influx url", strings.Replace(base, `http://127.0.0.1:8086`, `127.0.0.1:8086`, 1), `output.influxdb.url: want an http(s) URL`},
		{"bad retention", base + "retention = \"30 days\"\n", `output.influxdb.retention: want a duration like "30d", got "30 days"`},
		{"memory too small", base + "\n[plugins]\nmemory_limit = \"1MiB\"\n", `plugins.memory_limit: 1MiB is too small`},
		{"bad size", base + "\n[plugins]\nmemory_limit = \"lots\"\n", `plugins.memory_limit: want a size like "64MiB", got "lots"`},
		{"analyzer unknown pipeline", base + "\n[[analyzer]]\nmodule = \"zscore\"\nname = \"z\"\npipeline = \"pq\"\n", `analyzer[0].pipeline: no pipeline named "pq" (did you mean "p"?)`},
		{"analyzer bad history", base + "\n[[analyzer]]\nmodule = \"zscore\"\nname = \"z\"\npipeline = \"p\"\nhistory = \"thirty\"\n", `analyzer[0].history: want "N windows", got "thirty"`},
		{"analyzer capability", base + "\n[[analyzer]]\nmodule = \"zscore\"\nname = \"z\"\npipeline = \"p\"\ncapabilities = [\"network\"]\n", `analyzer[0].capabilities[0]: unknown capability "network"`},
		{"type error", strings.Replace(base, `name = "p"`, "name = \"p\"\nmax_keys = \"many\"", 1), `pipeline[0].max_keys`},
		{"invalid toml", "[input\nbrokers=", `invalid TOML`},
		{"log level", base + "\n[log]\nlevel = \"loud\"\n", `log.level: want debug, info, warn or error, got "loud"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := parse(t, tc.src)
			if errs == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(errs.Error(), tc.want) {
				t.Fatalf("errors:\n%v\nwant one containing:\n%s", errs, tc.want)
			}
		})
	}
}

func TestAllErrorsAtOnce(t *testing.T) {
	src := strings.Replace(base, `name = "p"`, "name = \"p\"\nwindow = \"x\"\nlateness = \"y\"\nlate = \"maybe\"", 1)
	_, errs := parse(t, src)
	if len(errs) != 3 {
		t.Fatalf("got %d errors, want 3:\n%v", len(errs), errs)
	}
	// In file order.
	for i := 1; i < len(errs); i++ {
		if errs[i].Line < errs[i-1].Line {
			t.Errorf("errors not in file order:\n%v", errs)
		}
	}
}

func TestEnvOverrides(t *testing.T) {
	c, errs := parse(t, base,
		"TIDEMARK_OUTPUT_INFLUXDB_TOKEN=s3cret",
		"TIDEMARK_INPUT_DEAD_LETTER_TOPIC=dlq",
		"TIDEMARK_INPUT_BROKERS=a:1,b:2",
		"TIDEMARK_PIPELINE_0_WINDOW=1m",
		"TIDEMARK_PIPELINE_0_GROUP_BY=src_ip,dst_ip",
		"TIDEMARK_GEOIP_ASN=a.csv,b.csv",
		"TIDEMARK_INFLUXD=/not/a/key",
	)
	if errs != nil {
		t.Fatalf("errors: %v", errs)
	}
	if c.Output.InfluxDB.Token != "s3cret" {
		t.Errorf("token = %q", c.Output.InfluxDB.Token)
	}
	if c.Input.DeadLetterTopic != "dlq" {
		t.Errorf("dead letter topic = %q", c.Input.DeadLetterTopic)
	}
	if len(c.Input.Brokers) != 2 || c.Input.Brokers[1] != "b:2" {
		t.Errorf("brokers = %v", c.Input.Brokers)
	}
	if c.GeoIP.ASN != "a.csv,b.csv" {
		t.Errorf("a comma in a string key split it: geoip.asn = %q", c.GeoIP.ASN)
	}
	if g := c.Pipeline[0].GroupBy; len(g) != 2 || g[1] != "dst_ip" {
		t.Errorf("group_by = %v", g)
	}
	if c.Limits(0).Window.String() != "1m0s" {
		t.Errorf("window = %v", c.Limits(0).Window)
	}
	_, errs = parse(t, base, "TIDEMARK_OUTPUT_INFLUXDB_TOKNE=x")
	if errs == nil || !strings.Contains(errs.Error(), "environment variable TIDEMARK_OUTPUT_INFLUXDB_TOKNE sets no config key (did you mean TIDEMARK_OUTPUT_INFLUXDB_TOKEN?)") {
		t.Errorf("want an error for a misspelt variable, got %v", errs)
	}
	_, errs = parse(t, base, "TIDEMARK_PIPELINE_3_WINDOW=1m")
	if errs == nil || !strings.Contains(errs.Error(), "TIDEMARK_PIPELINE_3_WINDOW: no such pipeline block") {
		t.Errorf("want an error for a missing block, got %v", errs)
	}
}

func TestLineOfMultilineArrayElement(t *testing.T) {
	src := "[[pipeline]]\nname = \"a\"\naggregate = [\n  \"count()\",\n  \"sum(x)\",\n]\n"
	lines := locateKeys([]byte(src))
	if lines["pipeline[0].aggregate[1]"] != 5 {
		t.Errorf("line of aggregate[1] = %d, want 5 (%v)", lines["pipeline[0].aggregate[1]"], lines)
	}
}

func TestShippedConfigsLoad(t *testing.T) {
	files, err := filepath.Glob("../../configs/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no configs found: %v", err)
	}
	for _, f := range files {
		if _, err := Load(f, []string{}); err != nil {
			t.Errorf("%s:\n%v", f, err)
		}
	}
	_ = os.Getenv
}

func TestParseDurationAndSize(t *testing.T) {
	if d, err := ParseDuration("30d"); err != nil || d.Hours() != 720 {
		t.Errorf("30d = %v, %v", d, err)
	}
	if n, err := ParseSize("64MiB"); err != nil || n != 64<<20 {
		t.Errorf("64MiB = %d, %v", n, err)
	}
	if n, err := ParseSize("1000"); err != nil || n != 1000 {
		t.Errorf("1000 = %d, %v", n, err)
	}
}
