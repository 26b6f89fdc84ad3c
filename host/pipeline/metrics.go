package pipeline

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exposes a runner's counters to Prometheus. The hot path only
// bumps plain atomics; they are read here at scrape time, so metrics cost
// nothing per record.
type Collector struct {
	r *Runner

	lines, records, deadLettered, dlFails, rejected, commits, retries *prometheus.Desc
	malformed, pipeRecords, pipeErrors, windows, points               *prometheus.Desc
	openWindows, overflow, lag, ready, transformMiss                  *prometheus.Desc
}

// NewCollector returns a collector for r.
func NewCollector(r *Runner) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("tidemark_"+name, help, labels, nil)
	}
	return &Collector{
		r:             r,
		lines:         d("input_lines_total", "Lines (records) read from Kafka messages."),
		records:       d("input_messages_total", "Kafka messages consumed."),
		malformed:     d("input_malformed_total", "Lines that failed to decode, by reason.", "reason"),
		deadLettered:  d("dead_letter_total", "Records produced to the dead-letter topic."),
		dlFails:       d("dead_letter_failures_total", "Dead-letter produce failures (offsets are then not committed)."),
		rejected:      d("sink_rejected_lines_total", "Line-protocol lines InfluxDB rejected as bad data (dead-lettered)."),
		commits:       d("kafka_commits_total", "Offset commits."),
		retries:       d("sink_retries_total", "Sink writes retried (InfluxDB down, 429, 5xx, or a setup error such as a revoked token)."),
		pipeRecords:   d("pipeline_records_total", "Records per pipeline by outcome (aggregated, filtered, late, error).", "pipeline", "outcome"),
		pipeErrors:    d("pipeline_errors_total", "Per-record transform errors by reason.", "pipeline", "reason"),
		windows:       d("pipeline_windows_written_total", "Windows acknowledged by every sink.", "pipeline"),
		points:        d("pipeline_points_written_total", "Points acknowledged by every sink.", "pipeline"),
		openWindows:   d("pipeline_open_windows", "Windows held in memory.", "pipeline"),
		overflow:      d("pipeline_overflow_total", "Records folded into the __overflow__ key because max_keys was reached.", "pipeline"),
		transformMiss: d("pipeline_geoip_misses_total", "Enrichment lookups that found nothing (unknown IP).", "pipeline"),
		lag:           d("kafka_lag", "Consumer lag per partition at the last fetch.", "topic", "partition"),
		ready:         d("ready", "1 when consuming."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.lines, c.records, c.malformed, c.deadLettered, c.dlFails, c.rejected, c.commits, c.retries,
		c.pipeRecords, c.pipeErrors, c.windows, c.points, c.openWindows, c.overflow, c.transformMiss, c.lag, c.ready} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	r := c.r
	e := r.engine
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter(c.lines, e.Lines.Load())
	counter(c.records, r.Records.Load())
	for reason, n := range e.Malformed.Snapshot() {
		counter(c.malformed, n, reason)
	}
	counter(c.deadLettered, r.DeadLettered.Load())
	counter(c.dlFails, r.DeadLetterFails.Load())
	counter(c.rejected, r.SinkRejected.Load())
	counter(c.commits, r.Commits.Load())
	counter(c.retries, r.SinkRetries.Load())
	for _, p := range e.pipes {
		n := p.Spec.Name
		counter(c.pipeRecords, p.Aggregated.Load(), n, "aggregated")
		counter(c.pipeRecords, p.Filtered.Load(), n, "filtered")
		counter(c.pipeRecords, p.Late.Load(), n, "late")
		counter(c.pipeRecords, p.Failed.Load(), n, "error")
		for reason, v := range p.Errors.Snapshot() {
			counter(c.pipeErrors, v, n, reason)
		}
		counter(c.windows, p.WindowsWritten.Load(), n)
		counter(c.points, p.PointsWritten.Load(), n)
		// Open and Overflowed are read without the consumer's lock: a
		// slightly stale value is fine for a gauge.
		gauge(c.openWindows, float64(p.openWindows.Load()), n)
		counter(c.overflow, p.overflow.Load(), n)
		counter(c.transformMiss, p.Spec.Program.GeoMisses(), n)
	}
	for t, ps := range r.Lag() {
		for p, l := range ps {
			gauge(c.lag, float64(l), t, strconv.Itoa(int(p)))
		}
	}
	ready := 0.0
	if r.Ready() {
		ready = 1
	}
	gauge(c.ready, ready)
}
