package analyze

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidemark/tidemark/host/runtime"
)

// Metrics are the analyzers' Prometheus metrics.
type Metrics struct {
	calls, failures, alerts, history, publish *prometheus.CounterVec
	latency                                   *prometheus.HistogramVec
}

func newMetrics() *Metrics {
	return &Metrics{
		calls:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tidemark_analyzer_calls_total", Help: "Analyze calls per instance."}, []string{"analyzer"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tidemark_analyzer_failures_total", Help: "Failed analyze calls by kind (trap, timeout, memory, status, backoff, parked, other)."}, []string{"analyzer", "kind"}),
		alerts:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tidemark_alerts_total", Help: "Alerts published by severity and state."}, []string{"analyzer", "severity", "state"}),
		history:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tidemark_analyzer_history_failures_total", Help: "History queries that failed after retries (the call went ahead with incomplete history)."}, []string{"analyzer"}),
		publish:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tidemark_alert_publish_failures_total", Help: "Alert publications that failed."}, nil),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tidemark_analyzer_call_seconds", Help: "Analyze call latency including the history query.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}, []string{"analyzer"}),
	}
}

// Collectors returns everything to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.calls, m.failures, m.alerts, m.history, m.publish, m.latency}
}

func (m *Metrics) observe(instance string, d time.Duration, err error) {
	m.calls.WithLabelValues(instance).Inc()
	m.latency.WithLabelValues(instance).Observe(d.Seconds())
	if err == nil {
		return
	}
	kind := "other"
	switch {
	case errors.Is(err, runtime.ErrTrap):
		kind = "trap"
	case errors.Is(err, runtime.ErrTimeout):
		kind = "timeout"
	case errors.Is(err, runtime.ErrMemoryExhausted):
		kind = "memory"
	case errors.Is(err, runtime.ErrGuestStatus):
		kind = "status"
	case errors.Is(err, runtime.ErrBackoff):
		kind = "backoff"
	case errors.Is(err, runtime.ErrParked):
		kind = "parked"
	}
	m.failures.WithLabelValues(instance, kind).Inc()
}

func (m *Metrics) alert(instance, severity, state string) {
	m.alerts.WithLabelValues(instance, severity, state).Inc()
}

func (m *Metrics) historyFailed(instance string) { m.history.WithLabelValues(instance).Inc() }

func (m *Metrics) publishFailed() { m.publish.WithLabelValues().Inc() }
