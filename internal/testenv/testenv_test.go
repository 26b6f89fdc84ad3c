package testenv

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestMain(m *testing.M) { Main(m) }

func TestInfluxFreshDatabasePerTest(t *testing.T) {
	var dbs []string
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			in := Influx(t)
			dbs = append(dbs, in.DB)
			resp, err := http.Post(in.URL+"/write?db="+in.DB, "text/plain",
				strings.NewReader("m,host=x v=1i 1000000000\nm,host=y v=2i 2000000000"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("write status %d", resp.StatusCode)
			}
			rows := in.Rows(t, `SELECT v, host FROM m ORDER BY time`)
			if len(rows) != 2 {
				t.Fatalf("rows = %v, want 2 (fresh db holds only this test's points)", rows)
			}
			if rows[1]["host"] != "y" || rows[1]["v"] != json.Number("2") || rows[1]["time"] != json.Number("2000000000") {
				t.Fatalf("row = %v", rows[1])
			}
			if ft := in.FieldTypes(t, "m"); ft["v"] != "integer" {
				t.Fatalf("field types = %v", ft)
			}
		})
	}
	if len(dbs) != 2 || dbs[0] == dbs[1] {
		t.Fatalf("databases = %v, want two distinct", dbs)
	}
}

func TestKafkaProduceConsume(t *testing.T) {
	_, seeds := Kafka(t, "in")
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics("in"), kgo.DefaultProduceTopic("in"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("hello")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	fs := cl.PollFetches(ctx)
	if err := fs.Err0(); err != nil {
		t.Fatal(err)
	}
	if recs := fs.Records(); len(recs) != 1 || string(recs[0].Value) != "hello" {
		t.Fatalf("records = %v", recs)
	}
}
