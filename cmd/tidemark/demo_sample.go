package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The sample source of the demo (--source sample): the sample's sflowtool
// lines produced in a loop, stamped with the wall clock.

func readSample(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := bytes.TrimSpace(sc.Bytes())
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		lines = append(lines, append([]byte(nil), l...))
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("sample %s: no lines", path)
	}
	return lines, nil
}

// feed produces the sample lines in a loop at rate lines/s, stamped with
// the current time (sflowtool lines carry none, so the Kafka timestamp is
// the event time), keyed by agent so each agent's lines stay in order.
func feed(ctx context.Context, seeds []string, topic string, lines [][]byte, rate int, fed *atomic.Int64) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	const tick = 50 * time.Millisecond
	perTick := max(1, rate*int(tick)/int(time.Second))
	t := time.NewTicker(tick)
	defer t.Stop()
	i := 0
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = cl.Flush(fctx)
			return ctx.Err()
		case now := <-t.C:
			for n := 0; n < perTick; n++ {
				l := lines[i%len(lines)]
				i++
				key := l
				if parts := bytes.SplitN(l, []byte(","), 3); len(parts) > 2 {
					key = parts[1]
				}
				cl.Produce(ctx, &kgo.Record{Topic: topic, Key: key, Value: l, Timestamp: now}, func(_ *kgo.Record, err error) {
					if err == nil {
						fed.Add(1)
					}
				})
			}
		}
	}
}
