package testenv

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// KafkaPartitions is the partition count of the topics Kafka creates: more
// than one, so tests see records spread over partitions as in production.
const KafkaPartitions = 3

// Kafka starts an in-process kfake cluster (real Kafka wire protocol,
// consumer groups, offset commits) with the given topics, each of
// KafkaPartitions partitions, and closes it when the test ends. It returns the
// cluster and its seed broker addresses.
func Kafka(t testing.TB, topics ...string) (*kfake.Cluster, []string) {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1)}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(KafkaPartitions, topics...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatalf("testenv: start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c, c.ListenAddrs()
}
