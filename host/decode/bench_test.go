package decode

import (
	"testing"

	"github.com/tidemark/tidemark/host/record"
)

func benchDecode(b *testing.B, d Decoder, lines []string) {
	msgs := make([][]byte, len(lines))
	for i, l := range lines {
		msgs[i] = []byte(l)
	}
	row := record.NewRow(d.Schema())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		row.Reset()
		if err := d.Decode(msgs[i%len(msgs)], row); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkSflowtool(b *testing.B) {
	benchDecode(b, mustNew(b, Config{Format: "sflowtool"}), []string{flowLine, flowLine, flowLine, cntrLine})
}

func BenchmarkSflowtoolIPv6(b *testing.B) {
	benchDecode(b, mustNew(b, Config{Format: "sflowtool"}), []string{flowLine6})
}

func BenchmarkCSV(b *testing.B) {
	benchDecode(b, mustNew(b, csvCfg), []string{"1714564800,web-1,ignored,1500,hi", `1714564800123,"web, 2",x,12.75,"quoted"`})
}

func BenchmarkJSON(b *testing.B) {
	benchDecode(b, mustNew(b, jsonCfg), []string{
		`{"ts":1714564800,"dev":{"name":"s1","temp":21.5,"fw":"1.2.3"},"ok":true,"msg":"hi","tags":["a","b"]}`,
		`{"ts":"2024-05-01T12:00:00.5Z","dev":{"name":"s2","temp":"19"},"ok":0,"msg":"caf\u00e9"}`,
	})
}
