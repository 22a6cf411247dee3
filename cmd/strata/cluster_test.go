package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestNodeIDRefusedOnAnotherDirectory: the first start records --node-id in
// the data directory; a restart with the same ID is accepted, one with
// another is refused with an error naming both.
func TestNodeIDRefusedOnAnotherDirectory(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.nodeID = "strata-0"
	s, _ := startTestServer(t, cfg)
	if err := s.shutdown(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, nodeIDFile)); err != nil || string(b) != "strata-0\n" {
		t.Fatalf("%s holds %q (%v), want the node ID", nodeIDFile, b, err)
	}
	s, _ = startTestServer(t, cfg)
	if err := s.shutdown(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	cfg.nodeID = "strata-1"
	if s, err := startServer(cfg, quietLogger()); err == nil {
		s.shutdown(10 * time.Second)
		t.Fatal("a different --node-id on the same data directory was accepted")
	} else if !strings.Contains(err.Error(), `"strata-1" refused`) || !strings.Contains(err.Error(), `node "strata-0"`) {
		t.Fatalf("error does not name both IDs: %v", err)
	}
	cfg.nodeID = "bad id/"
	if _, err := startServer(cfg, quietLogger()); err == nil || !strings.Contains(err.Error(), "bad --node-id") {
		t.Fatalf("an invalid --node-id: %v", err)
	}
}

// TestReadyAfterCatchUp: /ready is 503 while the consumer has records to
// catch up on beyond --ready-max-lag (here none yet fetched: the cluster
// holds every fetch until the test has seen the 503, so a consumer faster
// than the test's first request, as under load, cannot make it 200 early),
// 200 once it has stored them; /health answers 200 throughout.
func TestReadyAfterCatchUp(t *testing.T) {
	c, addr := kafkaCluster(t)
	p := producer(t, addr, kgo.NoCompression())
	produce(t, p, 0, 400)
	release := holdFetches(t, c)
	plain, plainBase := startTestServer(t, testConfig(t.TempDir()))
	defer plain.shutdown(10 * time.Second)
	if r := do(t, "GET", plainBase+"/ready", nil, nil); r.status != 200 {
		t.Fatalf("/ready without Kafka: %d %s", r.status, r.body)
	}
	cfg := kafkaTestConfig(t.TempDir(), addr)
	cfg.readyMaxLag = 0
	s, base := startTestServer(t, cfg)
	defer s.shutdown(10 * time.Second)
	if r := do(t, "GET", base+"/ready", nil, nil); r.status != 503 || !strings.Contains(r.body, "not ready") {
		t.Fatalf("/ready before catching up: %d %s", r.status, r.body)
	}
	release()
	waitReady(t, base, 30*time.Second, func() string { return "" })
	if pts, _ := countEvents(t, base); pts != 400 {
		t.Fatalf("ready with %d of 400 records stored", pts)
	}
	if r := do(t, "GET", base+"/health", nil, nil); r.status != 200 {
		t.Fatalf("/health: %d %s", r.status, r.body)
	}
}

// holdFetches makes c answer no Fetch until release is called (or the test
// ends): the consumers connect, join and list offsets, but fetch nothing.
func holdFetches(t *testing.T, c *kfake.Cluster) (release func()) {
	t.Helper()
	held := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(held) }) }
	t.Cleanup(release) // before the cluster closes: cleanups run last first
	c.ControlKey(kmsg.Fetch.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		c.SleepControl(func() { <-held })
		return nil, nil, false // then the cluster answers it as usual
	})
	return release
}

func waitReady(t *testing.T, base string, within time.Duration, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := do(t, "GET", base+"/ready", nil, nil)
		if r.status == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %v: %s\n%s", base, within, r.body, logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ownedPartitions returns the partitions of topic events the node's Kafka
// status lists.
func ownedPartitions(t *testing.T, base string) []int32 {
	t.Helper()
	r := do(t, "GET", base+"/api/v1/kafka/status", nil, nil)
	var st struct {
		Consumers []struct {
			Partitions []struct {
				Topic     string `json:"topic"`
				Partition int32  `json:"partition"`
			} `json:"partitions"`
		} `json:"consumers"`
	}
	if err := json.Unmarshal([]byte(r.body), &st); err != nil {
		t.Fatalf("kafka status: %v: %s", err, r.body)
	}
	var out []int32
	for _, c := range st.Consumers {
		for _, p := range c.Partitions {
			if p.Topic == "events" {
				out = append(out, p.Partition)
			}
		}
	}
	return out
}

// sumEvents returns the sum of field v over the node's points of ev.
func sumEvents(t *testing.T, base string) int64 {
	t.Helper()
	r := runQuery(t, base, `SELECT sum("v") FROM "ev"."autogen"."ev"`)
	var res struct {
		Results []struct {
			Series []struct{ Values [][]any } `json:"series"`
		} `json:"results"`
	}
	if json.Unmarshal([]byte(r.body), &res) == nil && len(res.Results) > 0 && len(res.Results[0].Series) > 0 {
		return int64(res.Results[0].Series[0].Values[0][1].(float64))
	}
	return 0
}

// TestClusterThreeNodesStaticMembership runs three servers as child processes
// in one consumer group (kfake, six partitions), each with its own --node-id
// and data directory, and answering only for its own data (no --peers).
// Records keyed by series are produced while node 2 is killed with SIGKILL
// and restarted with the same --node-id: afterwards the three nodes together
// hold every record exactly once (points, series and the sum of v over the
// nodes equal what was produced), every partition is owned by exactly one
// node, and node 2 owns the partitions it owned before (static membership).
// STRATA_CLUSTER_FULL=1 produces 20x more and kills twice.
func TestClusterThreeNodesStaticMembership(t *testing.T) {
	n, kills := 3000, 1
	if os.Getenv("STRATA_CLUSTER_FULL") != "" {
		n, kills = 60_000, 2
	}
	const parts = 6
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(parts, "events"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	addr := kc.ListenAddrs()[0]
	p := producer(t, addr, kgo.Lz4Compression())
	args := func(i int) []string {
		return []string{"--node-id", fmt.Sprintf("strata-%d", i), "--kafka-brokers", addr, "--kafka-topics", "events",
			"--kafka-database", "ev", "--kafka-group", "g", "--kafka-session-timeout", "20s", "--ready-max-lag", "0"}
	}
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	nodes := make([]*child, 3)
	for i := range nodes {
		nodes[i] = startChild(t, dirs[i], args(i)...)
	}
	defer func() {
		for _, c := range nodes {
			c.stop(t, syscall.SIGTERM)
		}
	}()
	logs := func() string {
		var b strings.Builder
		for i, c := range nodes {
			l := c.log()
			fmt.Fprintf(&b, "--- node %d (last 4 KiB)\n%s\n", i, l[max(0, len(l)-4096):])
		}
		return b.String()
	}
	// Wait until the group has spread the partitions over the three.
	assignment := func() ([][]int32, bool) {
		own := make([][]int32, 3)
		seen := map[int32]int{}
		for i, c := range nodes {
			own[i] = ownedPartitions(t, c.base)
			for _, p := range own[i] {
				seen[p]++
			}
		}
		for p := int32(0); p < parts; p++ {
			if seen[p] != 1 {
				return own, false
			}
		}
		return own, len(seen) == parts
	}
	waitAssigned := func(within time.Duration) [][]int32 {
		deadline := time.Now().Add(within)
		for {
			own, ok := assignment()
			if ok && len(own[0]) > 0 && len(own[1]) > 0 && len(own[2]) > 0 {
				return own
			}
			if time.Now().After(deadline) {
				t.Fatalf("partitions not owned once each by three nodes: %v\n%s", own, logs())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	produce(t, p, 0, n/4) // before the nodes own anything: they catch up
	before := waitAssigned(60 * time.Second)
	step := n / 4 / kills * 3
	next := n / 4
	for k := 0; k < kills; k++ {
		produce(t, p, next, next+step/2)
		// Mid-ingest: node 2 has some of its share, not all.
		deadline := time.Now().Add(30 * time.Second)
		for pts, _ := countEvents(t, nodes[2].base); pts == 0 && time.Now().Before(deadline); pts, _ = countEvents(t, nodes[2].base) {
			time.Sleep(20 * time.Millisecond)
		}
		nodes[2].cmd.Process.Signal(syscall.SIGKILL)
		<-nodes[2].done
		produce(t, p, next+step/2, next+step) // while node 2 is down
		nodes[2] = startChild(t, dirs[2], args(2)...)
		next += step
	}
	produce(t, p, next, n)
	for _, c := range nodes {
		waitReady(t, c.base, 90*time.Second, logs)
	}
	after := waitAssigned(30 * time.Second)
	if fmt.Sprint(after[2]) != fmt.Sprint(before[2]) {
		t.Errorf("node 2 owned %v before its restart and %v after: static membership should give them back", before[2], after[2])
	}
	var points, series int
	var sum, want int64
	for i := range n {
		want += int64(i)
	}
	for i, c := range nodes {
		pts, ser := countEvents(t, c.base)
		if pts != ser {
			t.Errorf("node %d: %d points in %d series: a record stored twice", i, pts, ser)
		}
		points, series, sum = points+pts, series+ser, sum+sumEvents(t, c.base)
	}
	if points != n || series != n || sum != want {
		t.Fatalf("the three nodes hold %d points in %d series, sum(v) %d; produced %d records, sum %d\n%s", points, series, sum, n, want, logs())
	}
}
