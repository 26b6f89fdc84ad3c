// Noop reads each window and touches one value: the SDK's own per-call cost.
package main

import tm "github.com/tidemark/tidemark/sdk/go"

func init() { tm.Register(noop{}) }

type noop struct{}

func (noop) Init(tm.Options) error { return nil }

func (noop) Analyze(in *tm.Input, out *tm.Emitter) error {
	if in.Series() > 0 && len(in.Fields()) > 0 && in.Column(0)[0] < 0 {
		return out.Emit(tm.Alert{Severity: tm.Info})
	}
	return nil
}

func main() {}
