package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// API limits: a chart never asks for more than a week at once or more than
// 100 keys, so one request cannot make InfluxDB scan without bound.
const (
	defaultRange  = time.Hour
	maxRange      = 7 * 24 * time.Hour
	defaultTop    = 10
	maxTop        = 100
	defaultAlerts = 200
	maxAlerts     = 1000
	seriesTimeout = 15 * time.Second
	reloadTimeout = 30 * time.Second
	// sseHeartbeat keeps proxies from closing an idle alert stream.
	sseHeartbeat = 15 * time.Second
)

// ErrNotFound may be wrapped by a Backend to say a pipeline or module does
// not exist; the API answers 404 for it.
var ErrNotFound = errors.New("not found")

// SeriesResponse is the body of GET /api/pipelines/{name}/series.
type SeriesResponse struct {
	Pipeline string   `json:"pipeline"`
	Field    string   `json:"field"`
	Window   string   `json:"window"`
	From     int64    `json:"from"` // Unix ms
	To       int64    `json:"to"`   // Unix ms
	Top      int      `json:"top"`
	Series   []Series `json:"series"`
}

// ReloadResponse is the body of POST /api/analyzers/{module}/reload.
type ReloadResponse struct {
	Module    string     `json:"module"`
	Reloaded  bool       `json:"reloaded"`
	Analyzers []Analyzer `json:"analyzers"` // the module's instances after the reload
}

type apiError struct {
	Error string `json:"error"`
}

type api struct {
	b   Backend
	log *slog.Logger
	now func() time.Time
}

func registerAPI(mux *http.ServeMux, b Backend, log *slog.Logger) {
	a := &api{b: b, log: log, now: time.Now}
	mux.HandleFunc("GET /api/overview", a.overview)
	mux.HandleFunc("GET /api/pipelines/{name}/series", a.series)
	mux.HandleFunc("GET /api/alerts", a.alerts)
	mux.HandleFunc("GET /api/alerts/stream", a.alertStream)
	mux.HandleFunc("GET /api/analyzers", a.analyzers)
	mux.HandleFunc("POST /api/analyzers/{module}/reload", a.reload)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, apiError{Error: "no such API route: " + r.Method + " " + r.URL.Path})
	})
}

func (a *api) overview(w http.ResponseWriter, r *http.Request) {
	ov := a.b.Overview(r.Context())
	if ov.Pipelines == nil {
		ov.Pipelines = []PipelineStatus{}
	}
	writeJSON(w, http.StatusOK, ov)
}

func (a *api) series(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var pipe *PipelineStatus
	ov := a.b.Overview(r.Context())
	for i := range ov.Pipelines {
		if ov.Pipelines[i].Name == name {
			pipe = &ov.Pipelines[i]
		}
	}
	if pipe == nil {
		writeJSON(w, http.StatusNotFound, apiError{Error: fmt.Sprintf("no pipeline %q", name)})
		return
	}
	q := r.URL.Query()
	field := q.Get("field")
	if field == "" && len(pipe.Fields) > 0 {
		field = pipe.Fields[0]
	}
	if !slices.Contains(pipe.Fields, field) {
		writeJSON(w, http.StatusBadRequest, apiError{Error: fmt.Sprintf("field %q: pipeline %q has fields %s", field, name, strings.Join(pipe.Fields, ", "))})
		return
	}
	from, to, err := timeRange(q, a.now())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	top, err := intParam(q, "top", defaultTop, 1, maxTop)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), seriesTimeout)
	defer cancel()
	series, err := a.b.Series(ctx, SeriesQuery{Pipeline: name, Field: field, From: from, To: to, Top: top})
	if err != nil {
		status := http.StatusBadGateway // InfluxDB is the usual cause
		if errors.Is(err, ErrNotFound) {
			status = http.StatusNotFound
		}
		a.log.Warn("console: series query failed", "pipeline", name, "field", field, "err", err)
		writeJSON(w, status, apiError{Error: fmt.Sprintf("series %s.%s: %v", name, field, err)})
		return
	}
	if series == nil {
		series = []Series{}
	}
	writeJSON(w, http.StatusOK, SeriesResponse{
		Pipeline: name, Field: field, Window: pipe.Window,
		From: from.UnixMilli(), To: to.UnixMilli(), Top: top, Series: series,
	})
}

// timeRange reads from/to as Unix milliseconds or RFC 3339; to defaults to
// now and from to an hour before to.
func timeRange(q url.Values, now time.Time) (from, to time.Time, err error) {
	to = now
	if s := q.Get("to"); s != "" {
		if to, err = parseTime(s); err != nil {
			return from, to, fmt.Errorf("to: %w", err)
		}
	}
	from = to.Add(-defaultRange)
	if s := q.Get("from"); s != "" {
		if from, err = parseTime(s); err != nil {
			return from, to, fmt.Errorf("from: %w", err)
		}
	}
	if !from.Before(to) {
		return from, to, fmt.Errorf("from (%s) must be before to (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if to.Sub(from) > maxRange {
		return from, to, fmt.Errorf("range %v is longer than the maximum %v", to.Sub(from), maxRange)
	}
	return from, to, nil
}

func parseTime(s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, fmt.Errorf("%q is neither Unix milliseconds nor RFC 3339", s)
	}
	return t, nil
}

func intParam(q url.Values, key string, def, lo, hi int) (int, error) {
	s := q.Get(key)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s: %q is not an integer in [%d, %d]", key, s, lo, hi)
	}
	return n, nil
}

// severities reads a comma-separated severity filter.
func severities(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (a *api) alerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := intParam(q, "limit", defaultAlerts, 1, maxAlerts)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	sev := severities(q.Get("severity"))
	f := AlertFilter{Instance: q.Get("instance"), Limit: limit}
	if len(sev) == 1 {
		f.Severity = sev[0]
	}
	if len(sev) > 1 {
		// The Backend filters one severity; several are filtered here,
		// so ask for more and cut.
		f.Limit = maxAlerts
	}
	list := a.b.Alerts(f)
	out := make([]Alert, 0, len(list))
	for _, al := range list {
		if len(sev) > 1 && !slices.Contains(sev, al.Severity) {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, al)
	}
	writeJSON(w, http.StatusOK, out)
}

// alertStream is server-sent events: one "alert" event per alert raised,
// filtered like /api/alerts. A ": subscribed" comment is sent once the
// subscription is in place, so a client knows from then on it misses nothing.
// A browser that reconnects sends the id of the last event it got in
// Last-Event-ID; the alerts raised after that one (as far as the Backend
// still lists them) are sent first, so a dropped connection loses none.
func (a *api) alertStream(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	instance := q.Get("instance")
	sev := severities(q.Get("severity"))
	rc := http.NewResponseController(w)
	alerts, cancel := a.b.Subscribe()
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 3000\n: subscribed\n\n"); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		a.log.Warn("console: alert stream cannot flush", "err", err)
		return
	}
	match := func(al Alert) bool {
		return (instance == "" || al.Instance == instance) && (len(sev) == 0 || slices.Contains(sev, al.Severity))
	}
	send := func(al Alert) error {
		data, err := json.Marshal(al)
		if err != nil {
			a.log.Warn("console: alert not encodable", "id", al.ID, "err", err)
			return nil
		}
		_, err = fmt.Fprintf(w, "id: %s\nevent: alert\ndata: %s\n\n", sseLine(al.ID), data)
		return err
	}
	if last := r.Header.Get("Last-Event-ID"); last != "" {
		missed := a.b.Alerts(AlertFilter{Instance: instance, Limit: maxAlerts}) // newest first
		i := slices.IndexFunc(missed, func(al Alert) bool { return al.ID == last })
		for j := i - 1; i > 0 && j >= 0; j-- {
			if match(missed[j]) {
				if err := send(missed[j]); err != nil {
					return
				}
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
	tick := time.NewTicker(sseHeartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
		case al, ok := <-alerts:
			if !ok {
				return
			}
			if !match(al) {
				continue
			}
			if err := send(al); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// sseLine keeps a value on one SSE line.
func sseLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}

func (a *api) analyzers(w http.ResponseWriter, r *http.Request) {
	list := a.b.Analyzers()
	if list == nil {
		list = []Analyzer{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (a *api) reload(w http.ResponseWriter, r *http.Request) {
	// A cross-site form can POST here but cannot set Origin to ours.
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			writeJSON(w, http.StatusForbidden, apiError{Error: "cross-origin reload refused"})
			return
		}
	}
	module := r.PathValue("module")
	if !slices.ContainsFunc(a.b.Analyzers(), func(an Analyzer) bool { return an.Module == module }) {
		writeJSON(w, http.StatusNotFound, apiError{Error: fmt.Sprintf("no analyzer uses module %q", module)})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), reloadTimeout)
	defer cancel()
	if err := a.b.Reload(ctx, module); err != nil {
		status := http.StatusUnprocessableEntity // the file did not load; the old module runs on
		if errors.Is(err, ErrNotFound) {
			status = http.StatusNotFound
		}
		a.log.Warn("console: reload failed", "module", module, "err", err)
		writeJSON(w, status, apiError{Error: fmt.Sprintf("reload %s: %v", module, err)})
		return
	}
	a.log.Info("console: module reloaded", "module", module)
	resp := ReloadResponse{Module: module, Reloaded: true, Analyzers: []Analyzer{}}
	for _, an := range a.b.Analyzers() {
		if an.Module == module {
			resp.Analyzers = append(resp.Analyzers, an)
		}
	}
	writeJSON(w, http.StatusOK, resp)
}
