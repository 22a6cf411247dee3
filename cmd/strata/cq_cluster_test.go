package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The continuous query of the node-set tests: GROUP BY region, whose hosts'
// series are spread over the three nodes, so that a query run on each node
// over its own data would write the mean, count and max of a part. The
// rollup goes into another retention policy than the Kafka ingest's, as
// rollups do: its records are routed by their headers.
const (
	clusterCQ   = `CREATE CONTINUOUS QUERY "c" ON "db" BEGIN SELECT mean("v") AS mean, count("v") AS count, max("v") AS max INTO "db"."rollup"."m_1s" FROM "m" GROUP BY time(1s), "region" END`
	clusterHost = 12
)

// clusterCQSet is three nodes of one group with peers and a meta topic,
// consuming topic "events", and a reference node holding all the data of
// the same lines produced to "events_ref", running the query alone.
type clusterCQSet struct {
	bases []string
	nodes []*server
	cfgs  []serveConfig
	ref   string
	prod  *kgo.Client
}

func startClusterCQSet(t *testing.T) *clusterCQSet {
	t.Helper()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "events", "events_ref"), kfake.SeedTopics(1, "strata-meta"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	broker := kc.ListenAddrs()[0]
	set := &clusterCQSet{}
	addrs := freeAddrs(t, 3)
	for i, a := range addrs {
		cfg := testConfig(t.TempDir())
		cfg.httpAddr = a
		cfg.kafka.brokers, cfg.kafka.topics, cfg.kafka.database, cfg.kafka.group = broker, "events", "db", "set"
		cfg.kafka.metaTopic = "strata-meta"
		cfg.peers = strings.Join(slices.Delete(slices.Clone(addrs), i, i+1), ",")
		s, base := startTestServer(t, cfg)
		set.bases, set.nodes, set.cfgs = append(set.bases, base), append(set.nodes, s), append(set.cfgs, cfg)
	}
	t.Cleanup(func() {
		for _, s := range set.nodes {
			s.shutdown(10 * time.Second)
		}
	})
	cfg := testConfig(t.TempDir())
	cfg.kafka.brokers, cfg.kafka.topics, cfg.kafka.database, cfg.kafka.group = broker, "events_ref", "db", "reference"
	ref, refBase := startTestServer(t, cfg)
	t.Cleanup(func() { ref.shutdown(10 * time.Second) })
	set.ref = refBase
	waitUntil(t, "one partition per node", 60*time.Second, func() bool {
		for _, b := range set.bases {
			if len(ownedPartitions(t, b)) != 1 {
				return false
			}
		}
		return true
	})
	if set.prod, err = kgo.NewClient(kgo.SeedBrokers(broker), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(set.prod.Close)
	for _, b := range []string{set.bases[0], set.ref} {
		waitUntil(t, "the Kafka database", 20*time.Second, func() bool { return strings.Contains(runQuery(t, b, "SHOW DATABASES").body, `"db"`) })
		mustQuery(t, b, `CREATE RETENTION POLICY "rollup" ON "db" DURATION INF REPLICATION 1`)
		mustQuery(t, b, clusterCQ)
	}
	for _, b := range set.bases {
		waitShow(t, b, "SHOW CONTINUOUS QUERIES", `"c","CREATE CONTINUOUS QUERY`, false)
	}
	return set
}

// produce writes the lines, keyed by series, to both topics.
func (set *clusterCQSet) produce(t *testing.T, lines ...string) {
	t.Helper()
	var rs []*kgo.Record
	for _, l := range lines {
		key := []byte(l[:strings.IndexByte(l, ' ')])
		rs = append(rs, &kgo.Record{Topic: "events", Key: key, Value: []byte(l)}, &kgo.Record{Topic: "events_ref", Key: key, Value: []byte(l)})
	}
	if err := set.prod.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func hostKey(h int) string { return fmt.Sprintf("m,host=h%02d,region=r%d", h, h%2) }

// partitionOf is the partition of "events" a series key is produced to.
func partitionOf(key string) int32 {
	return int32(kgo.StickyKeyPartitioner(nil).ForTopic("events").Partition(&kgo.Record{Key: []byte(key)}, 3))
}

// rollup answers the stored rollup windows [from, to) on base.
func rollup(t *testing.T, base string, from, to int64) []string {
	t.Helper()
	return queryRowsWith(t, base, "rollups=stored", fmt.Sprintf(`SELECT mean, count, max FROM "db"."rollup"."m_1s" WHERE time >= %d AND time < %d GROUP BY region`, from, to))
}

// TestClusterContinuousQuery: on three nodes each holding a third of the
// series, a continuous query's rollup, read from any node, equals the
// rollup of one node holding everything, window by window; after late
// points landing on a node that is not the runner, it equals it again.
func TestClusterContinuousQuery(t *testing.T) {
	set := startClusterCQSet(t)
	// Each region's hosts sit on at least two nodes: a per-node rollup
	// would be wrong.
	for r := range 2 {
		parts := map[int32]bool{}
		for h := r; h < clusterHost; h += 2 {
			parts[partitionOf(hostKey(h))] = true
		}
		if len(parts) < 2 {
			t.Fatalf("region r%d on partitions %v only", r, parts)
		}
	}
	time.Sleep(1100 * time.Millisecond) // the query's first run starts its clock
	var first, last int64
	i := 0
	writeFor := func(d time.Duration) {
		for start := time.Now(); time.Since(start) < d; i++ {
			now := time.Now().UnixNano()
			if first == 0 {
				first = (now/second + 1) * second // the first whole window
			}
			last = now / second * second // the window being written: not compared
			var lines []string
			for h := range clusterHost {
				lines = append(lines, fmt.Sprintf("%s v=%d %d", hostKey(h), i*clusterHost+h, now))
			}
			set.produce(t, lines...)
			time.Sleep(100 * time.Millisecond)
		}
	}
	writeFor(4500 * time.Millisecond)
	// equal waits until every node answers the reference's rollup, once
	// the reference's differs from old.
	equal := func(what string, old []string) []string {
		t.Helper()
		var want []string
		var diff string
		deadline := time.Now().Add(20 * time.Second)
		for {
			want = rollup(t, set.ref, first, last)
			lastWindow := time.Unix(0, last-second).UTC().Format(time.RFC3339)
			same := !slices.Equal(want, old) && strings.Count(strings.Join(want, "\n"), lastWindow) == 2
			diff = ""
			for _, b := range set.bases {
				if got := rollup(t, b, first, last); !slices.Equal(got, want) {
					same = false
					diff += fmt.Sprintf("\nnode %s:\n%s", b, strings.Join(got, "\n"))
				}
			}
			if same {
				return want
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the set's rollup differs from one node's:%s\none node:\n%s", what, diff, strings.Join(want, "\n"))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	before := equal("on-time data", nil)
	// Exactly one runner.
	runner := -1
	for i, b := range set.bases {
		if metricValue(t, b, "strata_cq_runner") == 1 {
			if runner >= 0 {
				t.Fatalf("nodes %d and %d both run the continuous queries", runner, i)
			}
			runner = i
		}
	}
	if runner < 0 {
		t.Fatal("no node runs the continuous queries")
	}
	// Late points into the second window, for a host whose partition a
	// node other than the runner owns.
	late := -1
	for h := range clusterHost {
		p := partitionOf(hostKey(h))
		for i, b := range set.bases {
			if i != runner && slices.Contains(ownedPartitions(t, b), p) {
				late = h
			}
		}
	}
	if late < 0 {
		t.Fatal("no host on a node that is not the runner")
	}
	w := first + second
	set.produce(t, fmt.Sprintf("%s v=100000 %d", hostKey(late), w+1), fmt.Sprintf("%s v=-7 %d", hostKey(late), w+2))
	after := equal("after late points", before)
	if n := metricValue(t, set.bases[runner], "strata_cq_peer_marks_taken_total"); n < 1 {
		t.Fatalf("the runner took %v marks from its peers", n)
	}
	for _, b := range set.bases {
		rt := queryRows(t, b, fmt.Sprintf(`SELECT mean, count, max FROM "db"."rollup"."m_1s" WHERE time >= %d AND time < %d GROUP BY region`, first, last))
		if !slices.Equal(rt, after) {
			t.Errorf("real-time rollup on %s:\n%s\nwant\n%s", b, strings.Join(rt, "\n"), strings.Join(after, "\n"))
		}
	}
	t.Logf("%d (region, window) rows equal; runner node %d, late host h%02d", len(after), runner+1, late)

	// The runner stops while data keeps coming, and starts again: the
	// windows of the gap are computed (by whichever node owns partition 0
	// then) once every node answers, and still equal one node's.
	if err := set.nodes[runner].shutdown(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	writeFor(2500 * time.Millisecond)
	set.nodes[runner], _ = startTestServer(t, set.cfgs[runner])
	waitUntil(t, "one partition per node again", 60*time.Second, func() bool {
		for _, b := range set.bases {
			if len(ownedPartitions(t, b)) != 1 {
				return false
			}
		}
		return true
	})
	restarted := equal("after the runner's restart", after)
	var runners, skipped []float64
	for _, b := range set.bases {
		runners = append(runners, metricValue(t, b, "strata_cq_runner"))
		skipped = append(skipped, metricValue(t, b, "strata_cq_peer_take_errors_total"))
	}
	t.Logf("%d (region, window) rows equal after the runner's restart; runner gauges %v, passes skipped %v", len(restarted), runners, skipped)
}
