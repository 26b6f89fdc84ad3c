package analyze

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Publisher sends an alert somewhere.
type Publisher interface {
	Publish(ctx context.Context, a Alert) error
}

// Publishers fans out to several publishers; every one is tried.
type Publishers []Publisher

// Publish implements Publisher.
func (ps Publishers) Publish(ctx context.Context, a Alert) error {
	var errs []error
	for _, p := range ps {
		if err := p.Publish(ctx, a); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Kafka publishes alerts as JSON through a franz-go producer (idempotent
// by default, so a retried produce is not duplicated). The key is the
// condition (instance, series, field, kind), not the id: the firing and the
// resolving alert of one condition land in one partition, in order.
type Kafka struct {
	Client *kgo.Client
	Topic  string
}

// Publish implements Publisher; it returns once the broker acknowledged.
func (k *Kafka) Publish(ctx context.Context, a Alert) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	key := a.Instance + "|" + seriesTag(a.Series) + "|" + a.Field + "|" + a.Kind
	rec := &kgo.Record{Topic: k.Topic, Key: []byte(key), Value: b, Headers: []kgo.RecordHeader{
		{Key: "tidemark-alert-id", Value: []byte(a.ID)},
		{Key: "tidemark-severity", Value: []byte(a.Severity)},
	}}
	if err := k.Client.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return fmt.Errorf("alerts topic %q: %w", k.Topic, err)
	}
	return nil
}

// Writer publishes one JSON line per alert (stdout).
type Writer struct {
	mu sync.Mutex
	W  io.Writer
}

// Publish implements Publisher.
func (w *Writer) Publish(_ context.Context, a Alert) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err = w.W.Write(append(b, '\n'))
	return err
}

// Influx writes alerts as points of a measurement (tidemark_alerts) for
// Grafana annotations. The timestamp is the window start, and the tags
// make the point unique per instance, series, field, kind and state, so a
// replay overwrites it.
type Influx struct {
	Write       api.WriteAPIBlocking
	Measurement string
}

// NewInflux writes through client to bucket.
func NewInflux(client influxdb2.Client, org, bucket, measurement string) *Influx {
	return &Influx{Write: client.WriteAPIBlocking(org, bucket), Measurement: measurement}
}

// Publish implements Publisher.
func (in *Influx) Publish(ctx context.Context, a Alert) error {
	tags := map[string]string{
		"instance": a.Instance, "pipeline": a.Pipeline, "kind": a.Kind, "severity": a.Severity,
		"state": a.State, "series": seriesTag(a.Series),
	}
	if a.Field != "" {
		tags["field"] = a.Field
	}
	fields := map[string]any{"message": a.Message, "id": a.ID, "module": a.Module}
	for name, v := range map[string]*float64{"observed": a.Observed, "expected": a.Expected, "lower": a.Lower, "upper": a.Upper} {
		if v != nil {
			fields[name] = *v
		}
	}
	p := influxdb2.NewPoint(in.Measurement, tags, fields, a.WindowStart)
	if err := in.Write.WritePoint(ctx, p); err != nil {
		return fmt.Errorf("alerts measurement %q: %w", in.Measurement, err)
	}
	return nil
}

func seriesTag(m map[string]string) string {
	if len(m) == 0 {
		return "all"
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	vals := make([]string, len(names))
	for i, n := range names {
		vals[i] = m[n]
	}
	return seriesKey(names, vals)
}
