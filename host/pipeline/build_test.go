package pipeline_test

import (
	"strings"
	"testing"

	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/pipeline"
)

const buildBase = `[input]
brokers = ["127.0.0.1:9092"]
topic = "sflow"

[[pipeline]]
name = "p"
fields = ["bytes = packet_size * sampling_rate"]
group_by = ["src_ip"]
aggregate = [
  "sum(bytes)",
  "count()",
]

[output.stdout]
enabled = true
`

// Errors found when compiling expressions and aggregates, located like the
// config's own: file, line, key path.
func TestCompileErrors(t *testing.T) {
	cases := []struct {
		name, from, to, want string
	}{
		{"unknown aggregate", `"sum(bytes)"`, `"summ(bytes)"`, `test.toml:10: pipeline[0].aggregate[0]: unknown function "summ" (did you mean "sum"?)`},
		{"unknown aggregate field", `"sum(bytes)"`, `"sum(byte)"`, `pipeline[0].aggregate[0]: sum(): unknown field "byte" (did you mean "bytes"?)`},
		{"sum of a string", `"sum(bytes)"`, `"sum(src_ip)"`, `pipeline[0].aggregate[0]: sum(src_ip): src_ip is a string; sum needs a number`},
		{"bad percentile", `"sum(bytes)"`, `"percentile(bytes, 95)"`, `q must be a number in (0, 1]`},
		{"count with field", `"count()"`, `"count(bytes)"`, `count() takes no field`},
		{"duplicate output", `"count()"`, `"sum(bytes)"`, `pipeline[0].aggregate[1]: output field "sum_bytes" is also produced by aggregate[0]`},
		{"aggregate syntax", `"count()"`, `"count"`, `want fn(field) [as name]`},
		{"unknown group field", `["src_ip"]`, `["src_ipp"]`, `test.toml:8: pipeline[0].group_by[0]: unknown field "src_ipp" (did you mean "src_ip"?)`},
		{"expression field", `packet_size * sampling_rate`, `packet_sise * sampling_rate`, `test.toml:7: pipeline[0].fields[0]: `},
		{"expression function", `packet_size * sampling_rate`, `summ(packet_size, 1)`, `unknown function "summ" (did you mean "sum"?)`},
		{"geoip without database", `packet_size * sampling_rate`, `country(src_ip)`, `country()`},
		{"where not bool", `fields = [`, `where = "packet_size + 1"` + "\nfields = [", `pipeline[0].where: `},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(buildBase, tc.from, tc.to, 1)
			if src == buildBase {
				t.Fatalf("replacement %q not found", tc.from)
			}
			cfg, err := config.Parse("test.toml", []byte(src), []string{})
			if err != nil {
				t.Fatalf("config: %v", err)
			}
			_, err = pipeline.Compile(cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}

func TestCompileReportsAllErrors(t *testing.T) {
	src := strings.Replace(buildBase, `"count()"`, `"cnt()"`, 1)
	src = strings.Replace(src, `"sum(bytes)"`, `"sum(nope)"`, 1)
	cfg, err := config.Parse("test.toml", []byte(src), []string{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pipeline.Compile(cfg, nil)
	var es config.Errors
	if !errorsAs(err, &es) || len(es) != 2 {
		t.Fatalf("want 2 errors, got %v", err)
	}
}

func errorsAs(err error, es *config.Errors) bool {
	e, ok := err.(config.Errors)
	if ok {
		*es = e
	}
	return ok
}
