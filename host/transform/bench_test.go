package transform

import (
	"fmt"
	"github.com/tidemark/tidemark/internal/cpuclock"
	"runtime"
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/record"
)

// recordRate reports records/s. On Linux it divides by the benchmark
// thread's CPU time rather than wall time (ns/op stays wall time): the
// machine is shared, and CPU time is what a core would sustain.
type recordRate struct {
	b     *testing.B
	start time.Duration
	cpu   bool
}

func startRate(b *testing.B) *recordRate {
	runtime.LockOSThread()
	start, ok := cpuclock.Thread()
	return &recordRate{b: b, start: start, cpu: ok}
}

func (r *recordRate) stop(n int) {
	defer runtime.UnlockOSThread()
	sec := r.b.Elapsed().Seconds()
	if r.cpu {
		if end, ok := cpuclock.Thread(); ok {
			sec = (end - r.start).Seconds()
		}
	}
	if sec > 0 {
		r.b.ReportMetric(float64(n)/sec, "records/s")
	}
}

// BenchmarkRun runs the realistic program (where with in-list, subnet,
// lower, country through the stub, arithmetic, port_name) with the
// specialised closures and with generic closures only.
func BenchmarkRun(b *testing.B) {
	for _, spec := range []bool{true, false} {
		name := "closures"
		if !spec {
			name = "generic-closures"
		}
		b.Run(name, func(b *testing.B) {
			specialize = spec
			defer func() { specialize = true }()
			s := sflowSchema()
			p, err := Compile(s, realisticWhere, realisticFields, fullGeo)
			if err != nil {
				b.Fatal(err)
			}
			rows := make([]*record.Row, 4)
			for i := range rows {
				rows[i] = sflowRow(s, i)
				rows[i].Grow(s.Len())
			}
			b.ReportAllocs()
			rate := startRate(b)
			n := 0
			for b.Loop() {
				row := rows[n&3]
				n++
				row.Scratch = row.Scratch[:0]
				if keep, err := p.Run(row); !keep || err != nil {
					b.Fatal(keep, err)
				}
			}
			rate.stop(n)
		})
	}
}

// The numeric comparison: one program that both strategies below can run
// (numbers and booleans only), so closures, a stack VM and a tree of
// interface nodes are measured on exactly the same work.
const numericWhere = "ip_protocol == 6 and packet_size > 64"

var numericFields = []string{
	"bytes = packet_size * sampling_rate",
	"kbits = (packet_size * sampling_rate) * 8 / 1000",
	"big = if(packet_size > 1000, 1, 0) + (dst_port - 1024)",
}

func BenchmarkNumeric(b *testing.B) {
	type runner interface {
		run(*record.Row) (bool, error)
	}
	build := map[string]func(*record.Schema) (runner, error){
		"closures": func(s *record.Schema) (runner, error) {
			p, err := Compile(s, numericWhere, numericFields, Env{})
			return closureRunner{p}, err
		},
		"generic-closures": func(s *record.Schema) (runner, error) {
			specialize = false
			defer func() { specialize = true }()
			p, err := Compile(s, numericWhere, numericFields, Env{})
			return closureRunner{p}, err
		},
		"stack-vm": func(s *record.Schema) (runner, error) { return buildVM(s, numericWhere, numericFields) },
		"ast-tree": func(s *record.Schema) (runner, error) { return buildTree(s, numericWhere, numericFields) },
	}
	for _, name := range []string{"closures", "generic-closures", "stack-vm", "ast-tree"} {
		b.Run(name, func(b *testing.B) {
			s := sflowSchema()
			r, err := build[name](s)
			if err != nil {
				b.Fatal(err)
			}
			row := sflowRow(s, 0)
			row.Grow(s.Len())
			b.ReportAllocs()
			rate := startRate(b)
			n := 0
			for b.Loop() {
				n++
				if keep, err := r.run(row); !keep || err != nil {
					b.Fatal(keep, err)
				}
			}
			rate.stop(n)
		})
	}
}

// TestAlternativesAgree keeps the benchmark honest: the three strategies
// compute the same values.
func TestAlternativesAgree(t *testing.T) {
	var got [3][]float64
	for i, build := range []func(*record.Schema) (interface {
		run(*record.Row) (bool, error)
	}, error){
		func(s *record.Schema) (interface {
			run(*record.Row) (bool, error)
		}, error) {
			p, err := Compile(s, numericWhere, numericFields, Env{})
			return closureRunner{p}, err
		},
		func(s *record.Schema) (interface {
			run(*record.Row) (bool, error)
		}, error) {
			return buildVM(s, numericWhere, numericFields)
		},
		func(s *record.Schema) (interface {
			run(*record.Row) (bool, error)
		}, error) {
			return buildTree(s, numericWhere, numericFields)
		},
	} {
		s := sflowSchema()
		r, err := build(s)
		if err != nil {
			t.Fatal(err)
		}
		row := sflowRow(s, 0)
		row.Grow(s.Len())
		if keep, err := r.run(row); !keep || err != nil {
			t.Fatal(i, keep, err)
		}
		got[i] = row.Num
	}
	want := fmt.Sprint(got[0])
	for i := 1; i < 3; i++ {
		if fmt.Sprint(got[i]) != want {
			t.Errorf("strategy %d computed %v, closures %v", i, got[i], got[0])
		}
	}
	if got[0][len(got[0])-1] != 1+443-1024 {
		t.Errorf("big = %v", got[0][len(got[0])-1])
	}
}

type closureRunner struct{ p *Program }

func (c closureRunner) run(r *record.Row) (bool, error) {
	keep, err := c.p.Run(r)
	if err != nil {
		return keep, err
	}
	return keep, nil
}
