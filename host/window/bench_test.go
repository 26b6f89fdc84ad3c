package window

import (
	"strconv"
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/record"
)

// benchAdd adds rows cycling over keys (a power of two) distinct keys.
func benchAdd(b *testing.B, cfg Config, keys int) {
	tw := mustTumbling(b, cfg)
	rows := make([]*record.Row, keys)
	for i := range rows {
		rows[i] = record.NewRow(testSchema)
		testRow{host: "edge-" + strconv.Itoa(i), port: float64(80 + i%2*363), bytes: float64(64 + i%1500),
			siz: 1, src: "10.1.2." + strconv.Itoa(i%256)}.load(rows[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	// Event time advances by 1µs a record: a new window every 10M records.
	for i := 0; b.Loop(); i++ {
		row := rows[i&(keys-1)]
		row.Time = int64(i) * int64(time.Microsecond)
		tw.Add(row)
		if i&0xffff == 0 {
			tw.Ready()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkTumblingAdd is the hot path the pipeline runs per record.
func BenchmarkTumblingAdd(b *testing.B) {
	b.Run("2keys_4aggs", func(b *testing.B) {
		benchAdd(b, hostPortConfig([]AggSpec{
			agg("sum", slotBytes, 0), agg("count", -1, 0), agg("max", slotBytes, 0), agg("avg", slotBytes, 0)}), 2)
	})
	b.Run("16384keys_4aggs", func(b *testing.B) {
		benchAdd(b, hostPortConfig([]AggSpec{
			agg("sum", slotBytes, 0), agg("count", -1, 0), agg("max", slotBytes, 0), agg("avg", slotBytes, 0)}), 1<<14)
	})
	b.Run("2keys_distinct_p95", func(b *testing.B) {
		benchAdd(b, hostPortConfig([]AggSpec{
			agg("sum", slotBytes, 0), agg("count", -1, 0), agg("count_distinct", slotSrc, 0), agg("percentile", slotBytes, 0.95)}), 2)
	})
	b.Run("2keys_every_agg", func(b *testing.B) { benchAdd(b, hostPortConfig(allAggs()), 2) })
	b.Run("no_group_4aggs", func(b *testing.B) {
		benchAdd(b, Config{Size: 10 * time.Second, Aggs: []AggSpec{
			agg("sum", slotBytes, 0), agg("count", -1, 0), agg("max", slotBytes, 0), agg("avg", slotBytes, 0)}}, 2)
	})
}
