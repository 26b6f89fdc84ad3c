// Package testenv gives tests real services: one influxd 1.8 per test binary
// (a fresh database per test) and an in-process kfake Kafka cluster per test.
//
// A package whose tests use Influx needs
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// so the shared influxd is stopped when the tests end.
package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/influxd"
)

// InfluxDB is one test's view of the shared influxd: its URL and a database
// that no other test uses.
type InfluxDB struct {
	URL    string // e.g. http://127.0.0.1:38211
	DB     string // fresh database, already created
	Bucket string // DB + "/autogen", the v2-API bucket name of DB
	Org    string // ignored by 1.8; "" is fine
}

var (
	mainCalled atomic.Bool
	serverOnce sync.Once
	server     *influxd.Server
	serverErr  error
	serverLog  *tailBuffer
	serverDir  string
	dbSeq      atomic.Int64
)

// Main runs the tests and then stops the shared influxd (if one was started).
// Call it from TestMain.
func Main(m *testing.M) {
	mainCalled.Store(true)
	code := m.Run()
	if server != nil {
		if err := server.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testenv:", err)
		}
	}
	if serverDir != "" {
		_ = os.RemoveAll(serverDir)
	}
	os.Exit(code)
}

// Influx returns the shared influxd (starting it on first use) with a new
// database for this test. It fails the test when influxd cannot be found or
// started; it never skips.
func Influx(t testing.TB) *InfluxDB {
	t.Helper()
	if !mainCalled.Load() {
		t.Fatal("testenv.Influx needs `func TestMain(m *testing.M) { testenv.Main(m) }` in this package, so the shared influxd is stopped after the tests")
	}
	serverOnce.Do(startServer)
	if serverErr != nil {
		t.Fatalf("testenv: %v", serverErr)
	}
	db := fmt.Sprintf("t%d_%s", dbSeq.Add(1), dbSafe.ReplaceAllString(strings.ToLower(t.Name()), "_"))
	if len(db) > 60 {
		db = db[:60]
	}
	in := &InfluxDB{URL: server.URL(), DB: db, Bucket: db + "/autogen"}
	if _, err := in.query(context.Background(), "CREATE DATABASE "+quoteIdent(db), ""); err != nil {
		t.Fatalf("testenv: create database %s: %v", db, err)
	}
	t.Cleanup(func() {
		// Keep the server small across many tests; the data is of no further use.
		_, _ = in.query(context.Background(), "DROP DATABASE "+quoteIdent(db), "")
	})
	return in
}

var dbSafe = regexp.MustCompile(`[^a-z0-9_]+`)

func startServer() {
	bin, err := influxd.FindBinary()
	if err != nil {
		serverErr = err
		return
	}
	serverDir, err = os.MkdirTemp("", "tidemark-influxd-")
	if err != nil {
		serverErr = fmt.Errorf("temp data dir: %w", err)
		return
	}
	serverLog = &tailBuffer{max: 16 * 1024}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	server, err = influxd.Start(ctx, influxd.Options{Binary: bin, DataDir: serverDir, Log: serverLog})
	if err != nil {
		serverErr = fmt.Errorf("%w\ninfluxd log (tail):\n%s", err, serverLog.String())
	}
}

// Series is one series of an InfluxQL result.
type Series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"` // numbers are json.Number
}

// Rows returns the series' rows as column → value maps (tags included).
func (s Series) Rows() []map[string]any {
	out := make([]map[string]any, 0, len(s.Values))
	for _, v := range s.Values {
		row := make(map[string]any, len(s.Columns)+len(s.Tags))
		for k, tv := range s.Tags {
			row[k] = tv
		}
		for i, c := range s.Columns {
			if i < len(v) {
				row[c] = v[i]
			}
		}
		out = append(out, row)
	}
	return out
}

// Query runs an InfluxQL statement against the test's database (epoch=ns, so
// "time" is an integer) and fails the test on any error.
func (in *InfluxDB) Query(t testing.TB, q string) []Series {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := in.query(ctx, q, in.DB)
	if err != nil {
		t.Fatalf("testenv: query %q: %v", q, err)
	}
	return s
}

// Rows runs q and returns all rows of all series (see Series.Rows).
func (in *InfluxDB) Rows(t testing.TB, q string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, s := range in.Query(t, q) {
		out = append(out, s.Rows()...)
	}
	return out
}

// FieldTypes returns field key → InfluxDB type ("integer", "float", ...) of a measurement.
func (in *InfluxDB) FieldTypes(t testing.TB, measurement string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, row := range in.Rows(t, "SHOW FIELD KEYS FROM "+quoteIdent(measurement)) {
		out[fmt.Sprint(row["fieldKey"])] = fmt.Sprint(row["fieldType"])
	}
	return out
}

func (in *InfluxDB) query(ctx context.Context, q, db string) ([]Series, error) {
	form := url.Values{"q": {q}, "epoch": {"ns"}}
	if db != "" {
		form.Set("db", db)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.URL+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	var r struct {
		Results []struct {
			Series []Series `json:"series"`
			Error  string   `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("decode %s: %w", body, err)
	}
	if r.Error != "" {
		return nil, fmt.Errorf("%s", r.Error)
	}
	var out []Series
	for _, res := range r.Results {
		if res.Error != "" {
			return nil, fmt.Errorf("%s", res.Error)
		}
		out = append(out, res.Series...)
	}
	return out, nil
}

func quoteIdent(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// tailBuffer keeps the last max bytes written, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (tb *tailBuffer) Write(p []byte) (int, error) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.b = append(tb.b, p...)
	if len(tb.b) > tb.max {
		tb.b = append(tb.b[:0], tb.b[len(tb.b)-tb.max:]...)
	}
	return len(p), nil
}

func (tb *tailBuffer) String() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return string(tb.b)
}
