package main

import (
	"math"
)

// Params are the smoothing weights and the season length (in windows).
type Params struct {
	Alpha, Beta, Gamma float64
	Season             int
}

// Model is additive Holt-Winters fitted on a series.
type Model struct {
	p        Params
	level    float64
	trend    float64
	seasonal []float64
	t        int     // index of the next observation
	sse      float64 // squared one-step errors after the first season
	nerr     int
}

// Fit initialises the model from the first two seasons of ys (oldest first;
// NaN = missing) and runs it over the rest. ok is false when ys has fewer
// than two seasons or a season without any value.
func Fit(ys []float64, p Params) (m *Model, ok bool) {
	L := p.Season
	if L < 2 || len(ys) < 2*L {
		return nil, false
	}
	m1, ok1 := meanFinite(ys[:L])
	m2, ok2 := meanFinite(ys[L : 2*L])
	if !ok1 || !ok2 {
		return nil, false
	}
	m = &Model{p: p, level: m1, trend: (m2 - m1) / float64(L), seasonal: make([]float64, L)}
	for i := range L {
		y := ys[i]
		if math.IsNaN(y) {
			y = ys[i+L] - (m2 - m1) // the same phase one season later, detrended
		}
		if math.IsNaN(y) {
			y = m1
		}
		m.seasonal[i] = y - m1
	}
	// Level and trend describe the end of season 1; replay season 2 onwards.
	m.level = m1 + m.trend*float64(L-1)/2
	m.t = L
	for _, y := range ys[L:] {
		m.Observe(y, true)
	}
	return m, true
}

func meanFinite(xs []float64) (float64, bool) {
	sum, n := 0.0, 0
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			sum += x
			n++
		}
	}
	return sum / float64(n), n > 0
}

// Forecast is the forecast h ≥ 1 steps after the last observation.
func (m *Model) Forecast(h int) float64 {
	return m.level + float64(h)*m.trend + m.seasonal[(m.t+h-1)%m.p.Season]
}

// Observe folds in the next observation; NaN advances time without
// learning. With countErr the one-step error joins the residual estimate.
func (m *Model) Observe(y float64, countErr bool) {
	i := m.t % m.p.Season
	if math.IsNaN(y) || math.IsInf(y, 0) {
		m.level += m.trend
		m.t++
		return
	}
	if countErr {
		e := y - m.Forecast(1)
		m.sse += e * e
		m.nerr++
	}
	a, b, g := m.p.Alpha, m.p.Beta, m.p.Gamma
	level := a*(y-m.seasonal[i]) + (1-a)*(m.level+m.trend)
	m.trend = b*(level-m.level) + (1-b)*m.trend
	m.seasonal[i] = g*(y-level) + (1-g)*m.seasonal[i]
	m.level = level
	m.t++
}

// ResidualSD is the root mean squared one-step error (NaN before any).
func (m *Model) ResidualSD() float64 {
	if m.nerr == 0 {
		return math.NaN()
	}
	return math.Sqrt(m.sse / float64(m.nerr))
}

// Crossing returns the first step h in 1..horizon at which the forecast is
// at or beyond threshold (above, or below when above is false), and the
// forecast there; 0 when it does not cross.
func (m *Model) Crossing(threshold float64, above bool, horizon int) (int, float64) {
	for h := 1; h <= horizon; h++ {
		f := m.Forecast(h)
		if (above && f >= threshold) || (!above && f <= threshold) {
			return h, f
		}
	}
	return 0, math.NaN()
}
