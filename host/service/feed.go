package service

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/tidemark/tidemark/host/analyze"
)

// alertFeed keeps the last alerts and fans new ones out to subscribers
// (the console's live view). A slow subscriber misses alerts rather than
// blocking the analyzers; it can re-read the list.
type alertFeed struct {
	total atomic.Uint64
	mu    sync.Mutex
	max   int
	list  []analyze.Alert
	subs  map[chan analyze.Alert]struct{}
}

func newAlertFeed(max int) *alertFeed {
	return &alertFeed{max: max, subs: map[chan analyze.Alert]struct{}{}}
}

// Publish implements analyze.Publisher.
func (f *alertFeed) Publish(_ context.Context, a analyze.Alert) error {
	f.total.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list = append(f.list, a)
	if len(f.list) > f.max {
		f.list = f.list[len(f.list)-f.max:]
	}
	for ch := range f.subs {
		select {
		case ch <- a:
		default:
		}
	}
	return nil
}

func (f *alertFeed) recent() []analyze.Alert {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]analyze.Alert(nil), f.list...)
}

func (f *alertFeed) subscribe() (<-chan analyze.Alert, func()) {
	ch := make(chan analyze.Alert, 64)
	f.mu.Lock()
	f.subs[ch] = struct{}{}
	f.mu.Unlock()
	return ch, func() {
		f.mu.Lock()
		delete(f.subs, ch)
		f.mu.Unlock()
	}
}

// AlertsPublished counts alerts published since start (firing and resolved).
func (s *Service) AlertsPublished() uint64 { return s.alertFeed.total.Load() }
