package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	http2 "github.com/influxdata/influxdb-client-go/v2/api/http"
)

// InfluxConfig configures the InfluxDB sink.
type InfluxConfig struct {
	URL, Token, Org, Bucket string        // Bucket "db/rp" for 1.8 (default rp "autogen"); Token "user:pass" or "" for 1.8
	Retention               time.Duration // 0 = infinite; applied to the 1.x retention policy (2.x: only checked, a mismatch is logged)
	BatchSize               int           // points per HTTP write, default 5000
	Timeout                 time.Duration // per HTTP request, default 10s
	MaxBackoff              time.Duration // cap of the retry backoff, default 30s
	Logger                  *slog.Logger  // default slog.Default()
	OnRetry                 func(err error)
}

// Influx writes windows through the v2 write API (/api/v2/write), which
// InfluxDB 2.x and 1.8+ both serve.
type Influx struct {
	cfg    InfluxConfig
	client influxdb2.Client
	write  api.WriteAPIBlocking
	// Version is what the server reported at start ("1.8.10", "v2.7.1", or
	// "unknown" for a 1.x built without version stamping).
	Version string
	// V1 is true for InfluxDB 1.x.
	V1 bool
}

const firstBackoff = 100 * time.Millisecond

// NewInflux detects the server version and prepares the destination: on 1.x
// it creates the database and creates or alters the retention policy to
// cfg.Retention; on 2.x it checks that the bucket exists.
func NewInflux(ctx context.Context, cfg InfluxConfig) (*Influx, error) {
	s, err := newInflux(cfg)
	if err != nil {
		return nil, err
	}
	version, v1, err := detectVersion(ctx, s.cfg)
	if err != nil {
		s.client.Close()
		return nil, err
	}
	s.Version, s.V1 = version, v1
	if v1 {
		err = s.setupV1(ctx)
	} else {
		err = s.checkBucketV2(ctx)
	}
	if err != nil {
		s.client.Close()
		return nil, err
	}
	s.cfg.Logger.Info("influxdb sink ready", "url", cfg.URL, "version", version, "bucket", s.cfg.Bucket)
	return s, nil
}

// newInflux builds the writer without talking to the server.
func newInflux(cfg InfluxConfig) (*Influx, error) {
	if cfg.URL == "" {
		return nil, errors.New("sink: influxdb url is empty")
	}
	if cfg.Bucket == "" {
		return nil, errors.New("sink: influxdb bucket is empty")
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 5000
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	// The per-attempt deadline comes from a context; the client's own timeout
	// is only a backstop (whole seconds).
	opts := influxdb2.DefaultOptions().
		SetHTTPRequestTimeout(uint(cfg.Timeout/time.Second) + 5).
		SetPrecision(time.Nanosecond).
		SetLogLevel(0)
	client := influxdb2.NewClientWithOptions(cfg.URL, cfg.Token, opts)
	return &Influx{cfg: cfg, client: client, write: client.WriteAPIBlocking(cfg.Org, cfg.Bucket)}, nil
}

// Write encodes the window and writes it in batches of cfg.BatchSize points.
// Retryable failures (network, 429, 5xx) are retried until ctx is done.
// Rejected batches do not stop the rest of the window; their lines are
// gathered into one *RejectedError.
func (s *Influx) Write(ctx context.Context, w *Window) error {
	if err := w.validate(); err != nil {
		return err
	}
	enc := newEncoder(w)
	var rejected *RejectedError
	buf := make([]byte, 0, 64*min(len(w.Points), s.cfg.BatchSize))
	for from := 0; from < len(w.Points); from += s.cfg.BatchSize {
		to := min(from+s.cfg.BatchSize, len(w.Points))
		buf = buf[:0]
		for i := from; i < to; i++ {
			buf, _ = enc.appendPoint(buf, i)
		}
		if len(buf) == 0 {
			continue
		}
		err := s.writeBatch(ctx, string(buf[:len(buf)-1]))
		var rej *RejectedError
		switch {
		case err == nil:
		case errors.As(err, &rej):
			if rejected == nil {
				rejected = rej
			} else {
				rejected.Lines = append(rejected.Lines, rej.Lines...)
			}
		default:
			return fmt.Errorf("sink: write %s@%s: %w", w.Measurement, w.Start.UTC().Format(time.RFC3339), err)
		}
	}
	if rejected != nil {
		return rejected
	}
	return nil
}

func retryableClientStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return true
	}
	return false
}

// writeBatch sends one batch, retrying what may succeed later.
func (s *Influx) writeBatch(ctx context.Context, batch string) error {
	backoff := firstBackoff
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		err := s.write.WriteRecord(actx, batch)
		cancel()
		if err == nil {
			return nil
		}
		var he *http2.Error
		status := 0
		if errors.As(err, &he) {
			status = he.StatusCode
		}
		// 401, 403 and 404 say the token, permissions or bucket are wrong,
		// not the data: dead-lettering every window over a revoked token
		// would lose them all. They are retried (logged loudly) until an
		// operator fixes the setup, like an outage.
		if status >= 400 && status < 500 && !retryableClientStatus(status) {
			msg := he.Message
			if msg == "" {
				msg = he.Error()
			}
			return &RejectedError{Status: status, Message: msg, Lines: splitLines(batch)}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("gave up after %d attempts: %w (last error: %v)", attempt, ctx.Err(), err)
		}
		if s.cfg.OnRetry != nil {
			s.cfg.OnRetry(err)
		}
		wait := backoff
		if he != nil && he.RetryAfter > 0 {
			wait = max(wait, time.Duration(he.RetryAfter)*time.Second)
		}
		wait = min(wait, s.cfg.MaxBackoff)
		wait = wait/2 + rand.N(wait/2+1) // jitter, so many writers do not retry in step
		s.cfg.Logger.Warn("influxdb write failed, retrying", "status", status, "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("gave up after %d attempts: %w (last error: %v)", attempt, ctx.Err(), err)
		}
		backoff = min(backoff*2, s.cfg.MaxBackoff)
	}
}

// Close releases the client's connections.
func (s *Influx) Close() error {
	s.client.Close()
	return nil
}

// detectVersion asks /ping (both 1.x and 2.x serve it with an
// X-Influxdb-Version header) and falls back to /health.
func detectVersion(ctx context.Context, cfg InfluxConfig) (version string, v1 bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	resp, err := doGet(ctx, cfg, "/ping")
	if err != nil {
		return "", false, fmt.Errorf("sink: influxdb at %s: %w", cfg.URL, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	version = resp.Header.Get("X-Influxdb-Version")
	if resp.StatusCode/100 != 2 || version == "" {
		resp, err := doGet(ctx, cfg, "/health")
		if err != nil {
			return "", false, fmt.Errorf("sink: influxdb at %s: %w", cfg.URL, err)
		}
		defer resp.Body.Close()
		var h struct{ Version string }
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&h) != nil || h.Version == "" {
			return "", false, fmt.Errorf("sink: %s does not look like InfluxDB (/ping and /health gave no version)", cfg.URL)
		}
		version = h.Version
	}
	return version, !isV2(version), nil
}

func isV2(version string) bool {
	v := strings.TrimPrefix(version, "v")
	// 2.x OSS says "2.7.1"/"v2.7.1"; Cloud says "cloud2" or similar.
	return strings.HasPrefix(v, "2.") || strings.HasPrefix(v, "3.") || strings.Contains(v, "cloud")
}

func doGet(ctx context.Context, cfg InfluxConfig, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.URL+path, nil)
	if err != nil {
		return nil, err
	}
	if cfg.Token != "" {
		req.Header.Set("Authorization", "Token "+cfg.Token)
	}
	return http.DefaultClient.Do(req)
}

// splitBucket splits a 1.x bucket "db/rp" (rp defaults to "autogen").
func splitBucket(bucket string) (db, rp string) {
	db, rp, ok := strings.Cut(bucket, "/")
	if !ok || rp == "" {
		rp = "autogen"
	}
	return db, rp
}

// setupV1 creates the database and makes the retention policy's duration the
// configured one (creating the policy when missing).
func (s *Influx) setupV1(ctx context.Context) error {
	db, rp := splitBucket(s.cfg.Bucket)
	dur := "INF"
	if s.cfg.Retention > 0 {
		dur = fmt.Sprintf("%ds", int64(s.cfg.Retention/time.Second))
	}
	shard := shardDuration(s.cfg.Retention)
	if _, err := s.influxQL(ctx, "", "CREATE DATABASE "+quoteIdent(db)); err != nil {
		return fmt.Errorf("sink: create database %s: %w", db, err)
	}
	rows, err := s.influxQL(ctx, db, "SHOW RETENTION POLICIES ON "+quoteIdent(db))
	if err != nil {
		return fmt.Errorf("sink: show retention policies on %s: %w", db, err)
	}
	var current time.Duration
	found := false
	for _, r := range rows {
		if r["name"] == rp {
			found = true
			d, _ := r["duration"].(string)
			current, _ = time.ParseDuration(d) // "0s" = infinite
		}
	}
	var q string
	switch {
	case !found:
		q = fmt.Sprintf("CREATE RETENTION POLICY %s ON %s DURATION %s REPLICATION 1 SHARD DURATION %s", quoteIdent(rp), quoteIdent(db), dur, shard)
	case current != s.cfg.Retention.Truncate(time.Second):
		q = fmt.Sprintf("ALTER RETENTION POLICY %s ON %s DURATION %s SHARD DURATION %s", quoteIdent(rp), quoteIdent(db), dur, shard)
	default:
		return nil
	}
	if _, err := s.influxQL(ctx, db, q); err != nil {
		return fmt.Errorf("sink: retention policy %s on %s: %w", rp, db, err)
	}
	s.cfg.Logger.Info("influxdb retention policy set", "db", db, "rp", rp, "duration", dur)
	return nil
}

// shardDuration is InfluxDB 1.x's own default shard group duration for a
// retention period. It is set explicitly because ALTER keeps the old shard
// duration, and the server refuses a retention shorter than it (autogen's is 7d).
func shardDuration(retention time.Duration) string {
	switch {
	case retention <= 0 || retention > 183*24*time.Hour:
		return "7d"
	case retention >= 48*time.Hour:
		return "1d"
	default:
		return "1h"
	}
}

// influxQL runs a statement through the 1.x /query endpoint and returns the
// rows of its first result as column → value maps.
func (s *Influx) influxQL(ctx context.Context, db, q string) ([]map[string]any, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	form := url.Values{"q": {q}}
	if db != "" {
		form.Set("db", db)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user, pass, ok := strings.Cut(s.cfg.Token, ":"); ok {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Results []struct {
			Series []struct {
				Columns []string `json:"columns"`
				Values  [][]any  `json:"values"`
			} `json:"series"`
			Error string `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("status %d, undecodable answer: %w", resp.StatusCode, err)
	}
	if r.Error != "" {
		return nil, errors.New(r.Error)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var rows []map[string]any
	for _, res := range r.Results {
		if res.Error != "" {
			return nil, errors.New(res.Error)
		}
		for _, ser := range res.Series {
			for _, v := range ser.Values {
				row := map[string]any{}
				for i, c := range ser.Columns {
					if i < len(v) {
						row[c] = v[i]
					}
				}
				rows = append(rows, row)
			}
		}
	}
	return rows, nil
}

func (s *Influx) checkBucketV2(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	b, err := s.client.BucketsAPI().FindBucketByName(ctx, s.cfg.Bucket)
	if err != nil {
		return fmt.Errorf("sink: influxdb bucket %q (org %q): %w", s.cfg.Bucket, s.cfg.Org, err)
	}
	// A 2.x bucket belongs to its operator: report a retention mismatch, do not change it.
	var every time.Duration
	for _, r := range b.RetentionRules {
		every = time.Duration(r.EverySeconds) * time.Second
	}
	if s.cfg.Retention > 0 && every != s.cfg.Retention {
		s.cfg.Logger.Warn("influxdb bucket retention differs from configured retention; not changed",
			"bucket", s.cfg.Bucket, "bucket_retention", every, "configured", s.cfg.Retention)
	}
	return nil
}

func quoteIdent(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
