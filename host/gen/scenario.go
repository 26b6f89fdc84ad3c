package gen

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Anomaly kinds.
const (
	KindDDoS        = "ddos"         // many sources flood one target
	KindPortscan    = "portscan"     // one source probes many ports of a target
	KindLinkFailure = "link_failure" // one agent sends nothing
	KindRamp        = "ramp"         // traffic to a target grows slowly (prediction alerts)
)

// Anomaly is one scheduled anomaly. Start is an offset from the simulated
// start time.
type Anomaly struct {
	Kind     string        `toml:"kind"`
	Start    time.Duration `toml:"-"`
	Duration time.Duration `toml:"-"`
	// Target is the victim (ddos, portscan, ramp): an address of the
	// generated server network makes the anomaly visible next to normal traffic.
	Target netip.Addr `toml:"-"`
	// Source is the scanner for portscan (random client when unset).
	Source netip.Addr `toml:"-"`
	// Sources is the number of distinct attacking addresses (ddos).
	Sources int `toml:"sources"`
	// Factor multiplies the normal sample rate: ddos adds Factor × the
	// normal rate towards Target; ramp grows Target's traffic from 1× to
	// Factor× over Duration; portscan yields Factor × 100 sampled probes
	// (SYNs to consecutive ports) per minute.
	Factor float64 `toml:"factor"`
	// Agent is the index of the agent that fails (link_failure), 0-based.
	Agent int `toml:"agent"`
}

func (a Anomaly) String() string {
	s := fmt.Sprintf("%s start=%s duration=%s", a.Kind, a.Start, a.Duration)
	if a.Target.IsValid() {
		s += " target=" + a.Target.String()
	}
	if a.Source.IsValid() {
		s += " source=" + a.Source.String()
	}
	switch a.Kind {
	case KindDDoS:
		s += fmt.Sprintf(" sources=%d factor=%g", a.Sources, a.Factor)
	case KindPortscan, KindRamp:
		s += fmt.Sprintf(" factor=%g", a.Factor)
	case KindLinkFailure:
		s += fmt.Sprintf(" agent=%d", a.Agent)
	}
	return s
}

// Scenario is a schedule of anomalies, from a TOML file or flags:
//
//	[[anomaly]]
//	kind = "ddos"          # ddos | portscan | link_failure | ramp
//	start = "2m"           # offset from the simulated start
//	duration = "1m"
//	target = "203.0.113.10"
//	sources = 500
//	factor = 20
type Scenario struct {
	Anomalies []Anomaly
}

type tomlAnomaly struct {
	Kind     string  `toml:"kind"`
	Start    string  `toml:"start"`
	Duration string  `toml:"duration"`
	Target   string  `toml:"target"`
	Source   string  `toml:"source"`
	Sources  int     `toml:"sources"`
	Factor   float64 `toml:"factor"`
	Agent    int     `toml:"agent"`
}

// ParseScenario parses a scenario TOML document; unknown keys are errors.
func ParseScenario(data []byte) (*Scenario, error) {
	var doc struct {
		Anomaly []tomlAnomaly `toml:"anomaly"`
	}
	dec := toml.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) {
			return nil, fmt.Errorf("scenario: unknown key:\n%s", strict.String())
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, fmt.Errorf("scenario: line %d column %d: %w", row, col, err)
		}
		return nil, fmt.Errorf("scenario: %w", err)
	}
	s := &Scenario{}
	for i, t := range doc.Anomaly {
		a, err := t.anomaly()
		if err != nil {
			return nil, fmt.Errorf("scenario: anomaly[%d]: %w", i, err)
		}
		s.Anomalies = append(s.Anomalies, a)
	}
	return s, nil
}

// LoadScenario reads and parses a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	s, err := ParseScenario(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ParseAnomaly parses the flag form "kind,key=value,...", e.g.
// "ddos,start=2m,duration=1m,target=203.0.113.10,sources=500,factor=20".
func ParseAnomaly(s string) (Anomaly, error) {
	parts := strings.Split(s, ",")
	t := tomlAnomaly{Kind: strings.TrimSpace(parts[0])}
	for _, kv := range parts[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return Anomaly{}, fmt.Errorf("anomaly %q: %q is not key=value", s, kv)
		}
		var err error
		switch strings.TrimSpace(k) {
		case "start":
			t.Start = v
		case "duration":
			t.Duration = v
		case "target":
			t.Target = v
		case "source":
			t.Source = v
		case "sources":
			t.Sources, err = strconv.Atoi(v)
		case "factor":
			t.Factor, err = strconv.ParseFloat(v, 64)
		case "agent":
			t.Agent, err = strconv.Atoi(v)
		default:
			return Anomaly{}, fmt.Errorf("anomaly %q: unknown key %q", s, k)
		}
		if err != nil {
			return Anomaly{}, fmt.Errorf("anomaly %q: %s: %w", s, k, err)
		}
	}
	a, err := t.anomaly()
	if err != nil {
		return Anomaly{}, fmt.Errorf("anomaly %q: %w", s, err)
	}
	return a, nil
}

func (t tomlAnomaly) anomaly() (Anomaly, error) {
	a := Anomaly{Kind: t.Kind, Sources: t.Sources, Factor: t.Factor, Agent: t.Agent}
	var err error
	if a.Start, err = parseDuration("start", t.Start, 0); err != nil {
		return a, err
	}
	if a.Duration, err = parseDuration("duration", t.Duration, time.Minute); err != nil {
		return a, err
	}
	if a.Duration <= 0 {
		return a, fmt.Errorf("duration must be positive")
	}
	if t.Target != "" {
		if a.Target, err = netip.ParseAddr(t.Target); err != nil {
			return a, fmt.Errorf("target: %w", err)
		}
	}
	if t.Source != "" {
		if a.Source, err = netip.ParseAddr(t.Source); err != nil {
			return a, fmt.Errorf("source: %w", err)
		}
	}
	switch a.Kind {
	case KindDDoS:
		if !a.Target.IsValid() {
			return a, fmt.Errorf("ddos needs a target")
		}
		if a.Sources <= 0 {
			a.Sources = 500
		}
		if a.Factor <= 0 {
			a.Factor = 10
		}
	case KindPortscan:
		if !a.Target.IsValid() {
			return a, fmt.Errorf("portscan needs a target")
		}
		if a.Factor <= 0 {
			a.Factor = 1
		}
	case KindRamp:
		if !a.Target.IsValid() {
			return a, fmt.Errorf("ramp needs a target")
		}
		if a.Factor <= 0 {
			a.Factor = 3
		}
	case KindLinkFailure:
		if a.Agent < 0 {
			return a, fmt.Errorf("agent must be >= 0")
		}
	default:
		return a, fmt.Errorf("unknown kind %q (want ddos, portscan, link_failure or ramp)", a.Kind)
	}
	return a, nil
}

func parseDuration(key, s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return d, nil
}

// Injection is an anomaly placed on the simulated time line, with the number
// of samples it produced (for demo summaries and test assertions).
type Injection struct {
	Anomaly
	From, To time.Time // simulated
	Samples  int64     // samples generated by the anomaly (ddos, portscan, ramp surplus)
}

func (i Injection) String() string {
	return fmt.Sprintf("%s from %s to %s (%d samples)", i.Anomaly, i.From.UTC().Format(time.RFC3339), i.To.UTC().Format(time.RFC3339), i.Samples)
}

// Schedule places the scenario's anomalies on the time line starting at start.
func (s *Scenario) Schedule(start time.Time) []Injection {
	out := make([]Injection, len(s.Anomalies))
	for i, a := range s.Anomalies {
		out[i] = Injection{Anomaly: a, From: start.Add(a.Start), To: start.Add(a.Start + a.Duration)}
	}
	return out
}
