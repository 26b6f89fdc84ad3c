package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Parsed values, filled by validate so that no other package parses
// durations or sizes again.
type (
	// PipelineLimits are the parsed durations of a pipeline.
	PipelineLimits struct {
		Window, Lateness, Idle time.Duration
	}
	// HistorySpec is an analyzer's parsed history declaration.
	HistorySpec struct {
		// Windows is "last N windows" (0 when Offset is used).
		Windows int
		// Offset and Accuracy select the same window at an earlier time.
		Offset, Accuracy time.Duration
	}
)

// Limits returns the parsed durations of pipeline i (valid after Load).
func (c *Config) Limits(i int) PipelineLimits { return c.parsed.pipelines[i] }

// History returns the parsed history of analyzer i (valid after Load).
func (c *Config) History(i int) HistorySpec { return c.parsed.history[i] }

// Topics is the merged list of input topics.
func (c *Config) Topics() []string {
	var out []string
	if c.Input.Topic != "" {
		out = append(out, c.Input.Topic)
	}
	return append(out, c.Input.Topics...)
}

// MemoryLimit is plugins.memory_limit in bytes.
func (c *Config) MemoryLimit() int64 { return c.parsed.memoryLimit }

// CallTimeout is plugins.call_timeout.
func (c *Config) CallTimeout() time.Duration { return c.parsed.callTimeout }

// Retention is output.influxdb.retention (0 = keep forever).
func (c *Config) Retention() time.Duration { return c.parsed.retention }

// InfluxTimeout is output.influxdb.timeout.
func (c *Config) InfluxTimeout() time.Duration { return c.parsed.influxTimeout }

// Renotify is alerts.renotify (0 = never re-notify a lasting condition).
func (c *Config) Renotify() time.Duration { return c.parsed.renotify }

type parsed struct {
	pipelines     []PipelineLimits
	history       []HistorySpec
	memoryLimit   int64
	callTimeout   time.Duration
	retention     time.Duration
	influxTimeout time.Duration
	renotify      time.Duration
}

func (c *Config) applyDefaults() {
	if c.Input.Group == "" {
		c.Input.Group = DefaultGroup
	}
	if c.Input.Format == "" {
		c.Input.Format = DefaultFormat
	}
	if c.Input.StartOffset == "" {
		c.Input.StartOffset = "earliest"
	}
	if c.Input.MaxPollRecords == 0 {
		c.Input.MaxPollRecords = DefaultMaxPollRecords
	}
	for i := range c.Pipeline {
		p := &c.Pipeline[i]
		if p.MaxKeys == 0 {
			p.MaxKeys = DefaultMaxKeys
		}
		if p.DistinctExact == 0 {
			p.DistinctExact = DefaultDistinctExact
		}
		if p.Late == "" {
			p.Late = "drop"
		}
		if p.Records == "" && c.Input.Format == "sflowtool" {
			p.Records = "flow"
		}
	}
	if c.Output.InfluxDB != nil {
		if c.Output.InfluxDB.BatchSize == 0 {
			c.Output.InfluxDB.BatchSize = DefaultInfluxBatch
		}
	}
	if c.Alerts.Measurement == "" {
		c.Alerts.Measurement = DefaultAlertsMeasure
	}
	if c.Plugins.Dir == "" {
		c.Plugins.Dir = DefaultPluginsDir
	}
	if c.HTTP.Listen == "" {
		c.HTTP.Listen = DefaultHTTPListen
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
}

var (
	nameRe     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_\-]*$`)
	historyRe  = regexp.MustCompile(`^\s*(\d+)\s*windows?\s*$`)
	sizeRe     = regexp.MustCompile(`^\s*(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?\s*$`)
	columnType = map[string]bool{"number": true, "string": true, "time": true}
)

// validate is the table of limits: each check names its key.
func (c *Config) validate() Errors {
	var errs Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, &Error{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	in := c.Input
	if len(in.Brokers) == 0 {
		add("input.brokers", "at least one broker is required (host:port)")
	}
	for i, b := range in.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			add(fmt.Sprintf("input.brokers[%d]", i), "%q is not host:port", b)
		}
	}
	if len(c.Topics()) == 0 {
		add("input.topic", "a topic is required")
	}
	switch in.Format {
	case "sflowtool":
		if len(in.Columns) > 0 {
			add("input.columns", "the sflowtool format has fixed columns; remove columns")
		}
	case "csv", "json":
		if len(in.Columns) == 0 {
			add("input.columns", "format %q needs columns = [\"name:type\", ...]", in.Format)
		}
	default:
		msg := fmt.Sprintf("unknown format %q (want sflowtool, csv or json)", in.Format)
		if s := Suggest(in.Format, []string{"sflowtool", "csv", "json"}); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		add("input.format", "%s", msg)
	}
	for i, col := range in.Columns {
		_, typ, err := ParseColumn(col)
		if err != nil {
			add(fmt.Sprintf("input.columns[%d]", i), "%v", err)
			continue
		}
		_ = typ
	}
	if len(in.Delimiter) > 1 {
		add("input.delimiter", "must be one character, got %q", in.Delimiter)
	}
	switch in.TimeFormat {
	case "", "auto", "s", "ms", "us", "ns", "rfc3339":
	default:
		add("input.time_format", "unknown time format %q (want auto, s, ms, us, ns or rfc3339)", in.TimeFormat)
	}
	switch in.StartOffset {
	case "earliest", "latest":
	default:
		add("input.start_offset", "want earliest or latest, got %q", in.StartOffset)
	}
	if in.SASL.Mechanism != "" {
		switch strings.ToUpper(in.SASL.Mechanism) {
		case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		default:
			add("input.sasl.mechanism", "unknown mechanism %q (want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", in.SASL.Mechanism)
		}
	}

	if len(c.Pipeline) == 0 {
		add("pipeline", "at least one [[pipeline]] is required")
	}
	names := map[string]int{}
	c.parsed.pipelines = make([]PipelineLimits, len(c.Pipeline))
	for i, p := range c.Pipeline {
		at := func(k string) string { return fmt.Sprintf("pipeline[%d].%s", i, k) }
		switch {
		case p.Name == "":
			add(at("name"), "a name is required (it is the InfluxDB measurement)")
		case !nameRe.MatchString(p.Name):
			add(at("name"), "%q: use letters, digits, _ and -", p.Name)
		default:
			if j, dup := names[p.Name]; dup {
				add(at("name"), "%q is already the name of pipeline[%d]", p.Name, j)
			}
			names[p.Name] = i
		}
		lim := &c.parsed.pipelines[i]
		var err error
		if p.Window == "" {
			lim.Window = DefaultWindow
		} else if lim.Window, err = ParseDuration(p.Window); err != nil || lim.Window <= 0 {
			add(at("window"), "want a positive duration like \"10s\", got %q", p.Window)
		}
		if p.Lateness == "" {
			lim.Lateness = DefaultLateness
		} else if lim.Lateness, err = ParseDuration(p.Lateness); err != nil || lim.Lateness < 0 {
			add(at("lateness"), "want a duration like \"5s\", got %q", p.Lateness)
		}
		if p.Idle == "" {
			lim.Idle = DefaultIdle
		} else if lim.Idle, err = ParseDuration(p.Idle); err != nil || lim.Idle <= 0 {
			add(at("idle_timeout"), "want a positive duration like \"10s\", got %q", p.Idle)
		}
		if len(p.Aggregate) == 0 {
			add(at("aggregate"), "at least one aggregate is required, e.g. [\"count()\"]")
		}
		if p.MaxKeys < 0 {
			add(at("max_keys"), "must be positive, got %d", p.MaxKeys)
		}
		if p.DistinctExact < 0 {
			add(at("distinct_exact"), "must be positive, got %d", p.DistinctExact)
		}
		switch p.Late {
		case "drop", "dead_letter":
		default:
			add(at("late"), "want drop or dead_letter, got %q", p.Late)
		}
		if p.Late == "dead_letter" && in.DeadLetterTopic == "" {
			add(at("late"), "dead_letter needs input.dead_letter_topic")
		}
		switch {
		case in.Format != "sflowtool" && p.Records != "":
			add(at("records"), "only applies to the sflowtool format")
		case in.Format == "sflowtool":
			switch p.Records {
			case "flow", "counter", "all":
			default:
				add(at("records"), "want flow, counter or all, got %q", p.Records)
			}
		}
	}

	if c.Output.InfluxDB == nil && (c.Output.Stdout == nil || !c.Output.Stdout.Enabled) {
		add("output", "configure [output.influxdb] or [output.stdout] enabled = true")
	}
	if ix := c.Output.InfluxDB; ix != nil {
		if u, err := url.Parse(ix.URL); ix.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("output.influxdb.url", "want an http(s) URL like http://localhost:8086, got %q", ix.URL)
		}
		if ix.Bucket == "" {
			add("output.influxdb.bucket", "a bucket is required (\"db/rp\" for InfluxDB 1.8)")
		}
		if ix.Retention != "" {
			d, err := ParseDuration(ix.Retention)
			if err != nil || d < 0 {
				add("output.influxdb.retention", "want a duration like \"30d\", got %q", ix.Retention)
			}
			c.parsed.retention = d
		}
		c.parsed.influxTimeout = DefaultInfluxTimeout
		if ix.Timeout != "" {
			d, err := ParseDuration(ix.Timeout)
			if err != nil || d <= 0 {
				add("output.influxdb.timeout", "want a positive duration, got %q", ix.Timeout)
			}
			c.parsed.influxTimeout = d
		}
		if ix.BatchSize < 0 {
			add("output.influxdb.batch_size", "must be positive, got %d", ix.BatchSize)
		}
	}
	if c.Alerts.Renotify != "" {
		d, err := ParseDuration(c.Alerts.Renotify)
		if err != nil || d < 0 {
			add("alerts.renotify", "want a duration, got %q", c.Alerts.Renotify)
		}
		c.parsed.renotify = d
	}

	c.parsed.memoryLimit = DefaultMemoryLimit
	if c.Plugins.MemoryLimit != "" {
		n, err := ParseSize(c.Plugins.MemoryLimit)
		switch {
		case err != nil:
			add("plugins.memory_limit", "%v", err)
		case n < 16<<20:
			add("plugins.memory_limit", "%s is too small: guests need at least 16MiB (standard Go guests about 40MiB)", c.Plugins.MemoryLimit)
		case n > 4<<30:
			add("plugins.memory_limit", "%s is past wasm32's 4GiB", c.Plugins.MemoryLimit)
		}
		c.parsed.memoryLimit = n
	}
	c.parsed.callTimeout = DefaultCallTimeout
	if c.Plugins.CallTimeout != "" {
		d, err := ParseDuration(c.Plugins.CallTimeout)
		if err != nil || d <= 0 {
			add("plugins.call_timeout", "want a positive duration like \"250ms\", got %q", c.Plugins.CallTimeout)
		}
		c.parsed.callTimeout = d
	}

	anames := map[string]int{}
	c.parsed.history = make([]HistorySpec, len(c.Analyzer))
	for i, a := range c.Analyzer {
		at := func(k string) string { return fmt.Sprintf("analyzer[%d].%s", i, k) }
		if a.Module == "" {
			add(at("module"), "a module is required (a .wasm name in plugins.dir)")
		}
		switch {
		case a.Name == "":
			add(at("name"), "a name is required")
		case !nameRe.MatchString(a.Name):
			add(at("name"), "%q: use letters, digits, _ and -", a.Name)
		default:
			if j, dup := anames[a.Name]; dup {
				add(at("name"), "%q is already the name of analyzer[%d]", a.Name, j)
			}
			anames[a.Name] = i
		}
		if _, ok := names[a.Pipeline]; !ok {
			pn := make([]string, 0, len(names))
			for n := range names {
				pn = append(pn, n)
			}
			msg := fmt.Sprintf("no pipeline named %q", a.Pipeline)
			if s := Suggest(a.Pipeline, pn); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			add(at("pipeline"), "%s", msg)
		}
		h := &c.parsed.history[i]
		switch {
		case a.History != "" && a.Offset != "":
			add(at("history"), "use either history = \"N windows\" or offset + accuracy, not both")
		case a.History != "":
			m := historyRe.FindStringSubmatch(a.History)
			if m == nil {
				add(at("history"), "want \"N windows\", got %q", a.History)
				break
			}
			h.Windows, _ = strconv.Atoi(m[1])
			if h.Windows < 1 || h.Windows > 10000 {
				add(at("history"), "between 1 and 10000 windows, got %d", h.Windows)
			}
		case a.Offset != "":
			d, err := ParseDuration(a.Offset)
			if err != nil || d <= 0 {
				add(at("offset"), "want a positive duration like \"24h\", got %q", a.Offset)
			}
			h.Offset = d
			if a.Accuracy != "" {
				d, err := ParseDuration(a.Accuracy)
				if err != nil || d < 0 {
					add(at("accuracy"), "want a duration like \"3s\", got %q", a.Accuracy)
				}
				h.Accuracy = d
			}
		}
		if a.Accuracy != "" && a.Offset == "" {
			add(at("accuracy"), "accuracy only applies with offset")
		}
		for j, capName := range a.Capabilities {
			switch capName {
			case "query", "clock":
			default:
				add(fmt.Sprintf("analyzer[%d].capabilities[%d]", i, j), "unknown capability %q (want query or clock)", capName)
			}
		}
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil && c.HTTP.Listen != "off" {
		add("http.listen", "want host:port or \"off\", got %q", c.HTTP.Listen)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level", "want debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		add("log.format", "want text or json, got %q", c.Log.Format)
	}
	return errs
}

// ParseColumn splits "name:type" (type defaults to string).
func ParseColumn(s string) (name, typ string, err error) {
	name, typ, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	typ = strings.TrimSpace(typ)
	if !ok {
		typ = "string"
	}
	if name == "" {
		return "", "", fmt.Errorf("column %q has no name", s)
	}
	if !columnType[typ] {
		msg := fmt.Sprintf("column %q: unknown type %q (want number, string or time)", name, typ)
		if sg := Suggest(typ, []string{"number", "string", "time"}); sg != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", sg)
		}
		return "", "", fmt.Errorf("%s", msg)
	}
	return name, typ, nil
}

// ParseDuration is time.ParseDuration plus d (days) and w (weeks), which
// retention settings need.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
		if strings.HasSuffix(s, u.suffix) {
			n, err := strconv.ParseFloat(strings.TrimSuffix(s, u.suffix), 64)
			if err != nil {
				return 0, fmt.Errorf("bad duration %q", s)
			}
			return time.Duration(n * float64(u.unit)), nil
		}
	}
	return time.ParseDuration(s)
}

// ParseSize reads "64MiB", "512KB", "1GiB" or a plain byte count.
func ParseSize(s string) (int64, error) {
	m := sizeRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("want a size like \"64MiB\", got %q", s)
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	mult := map[string]float64{"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[m[2]]
	return int64(n * mult), nil
}
