// Package config loads and validates Tidemark's one TOML file.
//
// Loading goes through koanf (file, then TIDEMARK_* environment overrides),
// then strict decoding into Config: an unknown key is an error, because a
// typo that is silently ignored is worse than one that stops start-up.
// Every error carries its key path and, when the key is in the file, its
// line, and all errors are reported together.
package config

import (
	"time"
)

// Config is the whole file.
type Config struct {
	Input    Input      `koanf:"input"`
	GeoIP    GeoIP      `koanf:"geoip"`
	Pipeline []Pipeline `koanf:"pipeline"`
	Output   Output     `koanf:"output"`
	Alerts   Alerts     `koanf:"alerts"`
	Plugins  Plugins    `koanf:"plugins"`
	Analyzer []Analyzer `koanf:"analyzer"`
	HTTP     HTTP       `koanf:"http"`
	Log      Log        `koanf:"log"`

	// Path is the file this was loaded from (for messages).
	Path string `koanf:"-"`
	// lines maps a key path to its line in the file.
	lines  map[string]int
	parsed parsed
}

// Input is the Kafka source and how its records are decoded.
type Input struct {
	Brokers []string `koanf:"brokers"`
	// Topic and Topics may both be given; they are merged.
	Topic  string   `koanf:"topic"`
	Topics []string `koanf:"topics"`
	Group  string   `koanf:"group"`
	// StartOffset applies when the group has no committed offset.
	StartOffset string `koanf:"start_offset"`
	// Format is sflowtool, csv or json.
	Format string `koanf:"format"`
	// Columns are "name:type" (type number, string or time); csv lists
	// every column in order, json the fields (dotted paths) to extract.
	Columns    []string `koanf:"columns"`
	Delimiter  string   `koanf:"delimiter"`
	TimeField  string   `koanf:"time_field"`
	TimeFormat string   `koanf:"time_format"`
	// DeadLetterTopic receives malformed, failed and (if so configured)
	// late records, with the reason in a header. Empty: counted only.
	DeadLetterTopic string `koanf:"dead_letter_topic"`
	// MaxPollRecords bounds one fetch, and so memory per poll.
	MaxPollRecords int       `koanf:"max_poll_records"`
	SASL           SASL      `koanf:"sasl"`
	TLS            TLSConfig `koanf:"tls"`
}

// SASL is passed through to franz-go.
type SASL struct {
	Mechanism string `koanf:"mechanism"` // PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
	Username  string `koanf:"username"`
	Password  string `koanf:"password"`
}

// TLSConfig is passed through to franz-go.
type TLSConfig struct {
	Enabled            bool   `koanf:"enabled"`
	CAFile             string `koanf:"ca_file"`
	CertFile           string `koanf:"cert_file"`
	KeyFile            string `koanf:"key_file"`
	InsecureSkipVerify bool   `koanf:"insecure_skip_verify"`
}

// GeoIP names the enrichment databases.
type GeoIP struct {
	Country   string `koanf:"country"`
	City      string `koanf:"city"`
	ASN       string `koanf:"asn"`
	CacheSize int    `koanf:"cache_size"`
}

// Pipeline is one transform → window → aggregate chain over the input.
type Pipeline struct {
	Name      string   `koanf:"name"`
	Records   string   `koanf:"records"` // sflowtool: flow (default), counter or all
	Where     string   `koanf:"where"`
	Fields    []string `koanf:"fields"`
	Window    string   `koanf:"window"`
	Lateness  string   `koanf:"lateness"`
	Idle      string   `koanf:"idle_timeout"`
	GroupBy   []string `koanf:"group_by"`
	Aggregate []string `koanf:"aggregate"`
	MaxKeys   int      `koanf:"max_keys"`
	// DistinctExact is where count_distinct switches from an exact set to
	// HyperLogLog.
	DistinctExact int `koanf:"distinct_exact"`
	// Late is "drop" (count only) or "dead_letter".
	Late string `koanf:"late"`
}

// Output is where windows go.
type Output struct {
	InfluxDB *InfluxDB `koanf:"influxdb"`
	Stdout   *Stdout   `koanf:"stdout"`
}

// InfluxDB is a 2.x server (token, org, bucket) or 1.8 (bucket "db/rp").
type InfluxDB struct {
	URL       string `koanf:"url"`
	Token     string `koanf:"token"`
	Org       string `koanf:"org"`
	Bucket    string `koanf:"bucket"`
	Retention string `koanf:"retention"`
	BatchSize int    `koanf:"batch_size"`
	Timeout   string `koanf:"timeout"`
}

// Stdout writes line protocol to standard output.
type Stdout struct {
	Enabled bool `koanf:"enabled"`
}

// Alerts is where analyzer alerts go.
type Alerts struct {
	Topic       string `koanf:"topic"`
	Stdout      bool   `koanf:"stdout"`
	Measurement string `koanf:"measurement"`
	Renotify    string `koanf:"renotify"`
}

// Plugins is the analyzer runtime.
type Plugins struct {
	Dir         string `koanf:"dir"`
	CacheDir    string `koanf:"cache_dir"`
	StateDir    string `koanf:"state_dir"`
	MemoryLimit string `koanf:"memory_limit"`
	CallTimeout string `koanf:"call_timeout"`
	Watch       *bool  `koanf:"watch"`
}

// Analyzer is one instance of a module.
type Analyzer struct {
	Module       string         `koanf:"module"`
	Name         string         `koanf:"name"`
	Pipeline     string         `koanf:"pipeline"`
	History      string         `koanf:"history"`
	Offset       string         `koanf:"offset"`
	Accuracy     string         `koanf:"accuracy"`
	Fields       []string       `koanf:"fields"`
	Options      map[string]any `koanf:"options"`
	Capabilities []string       `koanf:"capabilities"`
}

// HTTP serves health, metrics and the console.
type HTTP struct {
	Listen string `koanf:"listen"`
}

// Log sets the log level and format.
type Log struct {
	Level  string `koanf:"level"`
	Format string `koanf:"format"`
}

// Defaults, in one place.
const (
	DefaultGroup          = "tidemark"
	DefaultFormat         = "sflowtool"
	DefaultWindow         = 10 * time.Second
	DefaultLateness       = 5 * time.Second
	DefaultIdle           = 10 * time.Second
	DefaultMaxKeys        = 100_000
	DefaultDistinctExact  = 1000
	DefaultMaxPollRecords = 10_000
	DefaultHTTPListen     = "127.0.0.1:8080"
	DefaultPluginsDir     = "plugins"
	DefaultMemoryLimit    = 64 << 20
	DefaultCallTimeout    = 250 * time.Millisecond
	DefaultAlertsMeasure  = "tidemark_alerts"
	DefaultInfluxBatch    = 5000
	DefaultInfluxTimeout  = 10 * time.Second
)
