package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/strata-db/strata/ingest/kafka"
)

// kafkaCluster starts an in-process Kafka (franz-go's kfake: the real wire
// protocol on a loopback port) with topic "events" of four partitions.
func kafkaCluster(t *testing.T) (*kfake.Cluster, string) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "events"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, c.ListenAddrs()[0]
}

// producer returns a client producing into events, compressing its record
// batches with codec (the consumer must inflate them transparently).
func producer(t *testing.T, addr string, codec kgo.CompressionCodec) *kgo.Client {
	t.Helper()
	p, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("events"),
		kgo.ProducerBatchCompression(codec), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// eventRecord is record i: key k<i%20> (repeated keys, so a key's records
// share a partition), one line without a timestamp whose series is unique to
// i. A record stored twice shows as a second point of its series (stamped at
// its second consumption), a lost one as a missing series.
func eventRecord(i int) *kgo.Record {
	key := "k" + strconv.Itoa(i%20)
	return &kgo.Record{Key: []byte(key), Value: []byte(fmt.Sprintf("ev,key=%s,seq=%d v=%di,n=%d", key, i, i, i/20))}
}

func produce(t *testing.T, p *kgo.Client, from, to int) {
	t.Helper()
	rs := make([]*kgo.Record, 0, to-from)
	for i := from; i < to; i++ {
		rs = append(rs, eventRecord(i))
	}
	if err := p.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// countEvents returns the points and series of measurement ev in db "ev".
func countEvents(t *testing.T, base string) (points, series int) {
	t.Helper()
	r := runQuery(t, base, `SELECT count("v") FROM "ev"."autogen"."ev"`)
	var res struct {
		Results []struct {
			Series []struct{ Values [][]any } `json:"series"`
		} `json:"results"`
	}
	if json.Unmarshal([]byte(r.body), &res) == nil && len(res.Results) > 0 && len(res.Results[0].Series) > 0 {
		points = int(res.Results[0].Series[0].Values[0][1].(float64))
	}
	r = runQuery(t, base, `SHOW SERIES CARDINALITY ON "ev" FROM "ev"`)
	if i := strings.Index(r.body, `"values":[[`); i >= 0 {
		series, _ = strconv.Atoi(strings.TrimRight(r.body[i+len(`"values":[[`):], "]}\n"))
	}
	return points, series
}

// waitEvents waits until n records are stored, then checks that each is
// stored exactly once and that each key's records are in produce order.
func waitEvents(t *testing.T, base string, n int, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		p, s := countEvents(t, base)
		if p >= n || time.Now().After(deadline) {
			if p != n || s != n {
				t.Fatalf("stored %d points in %d series, want exactly %d of each\n%s", p, s, n, logs())
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Order: within a key (one partition), a later record is never stored
	// with an earlier time.
	r := runQuery(t, base, `SELECT "n" FROM "ev"."autogen"."ev" WHERE "key" = 'k7'`)
	var res struct {
		Results []struct {
			Series []struct{ Values [][]any } `json:"series"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.body), &res); err != nil || len(res.Results) == 0 || len(res.Results[0].Series) == 0 {
		t.Fatalf("order query: %s", r.body)
	}
	// Records of one batch share a time; every record stored at an earlier
	// time must come earlier in the partition.
	earlier, group, groupTime := -1.0, -1.0, ""
	for _, row := range res.Results[0].Series[0].Values {
		ts, v := row[0].(string), row[1].(float64)
		if ts != groupTime {
			earlier, groupTime = max(earlier, group), ts
		}
		if v <= earlier {
			t.Fatalf("key k7: record n=%v stored after a later record (n=%v)", v, earlier)
		}
		group = max(group, v)
	}
}

func kafkaTestConfig(dir, addr string) serveConfig {
	cfg := testConfig(dir)
	cfg.kafka.brokers, cfg.kafka.topics, cfg.kafka.database, cfg.kafka.group = addr, "events", "ev", "g"
	return cfg
}

// TestKafkaExactlyOnce consumes compressed batches with repeated keys from
// four partitions, with a duplicate delivery and a bad record among them.
func TestKafkaExactlyOnce(t *testing.T) {
	_, addr := kafkaCluster(t)
	p := producer(t, addr, kgo.ZstdCompression())
	const n = 3000
	produce(t, p, 0, n/2)
	s, base := startTestServer(t, kafkaTestConfig(t.TempDir(), addr))
	defer s.shutdown(10 * time.Second)
	// A bad line and a type conflict go to the dead letters, and move the offset.
	if err := p.ProduceSync(context.Background(),
		&kgo.Record{Key: []byte("k1"), Value: []byte("ev,key=bad v=")},
		&kgo.Record{Key: []byte("k1"), Value: []byte("ev,key=k1,seq=conflict v=1.5")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	produce(t, p, n/2, n)
	waitEvents(t, base, n, func() string { return "" })

	r := runQuery(t, base, `SELECT "reason", "raw", "origin" FROM "_deadletter"."autogen"."rejected" WHERE "source" = 'kafka'`)
	if !strings.Contains(r.body, "field type conflict") || !strings.Contains(r.body, "missing field value") || !strings.Contains(r.body, `"events/`) {
		t.Fatalf("dead letters: %s", r.body)
	}
	st := do(t, "GET", base+"/api/v1/kafka/status", nil, nil)
	if st.status != 200 || strings.Count(st.body, `"partition"`) != 4 || !strings.Contains(st.body, `"lag":0`) {
		t.Fatalf("status: %d %s", st.status, st.body)
	}
	m := do(t, "GET", base+"/metrics", nil, nil)
	for _, want := range []string{`strata_kafka_records_total{consumer="kafka"} 3002`, `strata_kafka_lag_records{consumer="kafka",partition="0",topic="events"} 0`, `strata_deadletter_kept_total{source="kafka"} 2`} {
		if !strings.Contains(m.body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestKafkaRebalance runs a second member of the group in the same server
// while records stream in: the partitions move to it and back, and every
// record is stored exactly once.
func TestKafkaRebalance(t *testing.T) {
	_, addr := kafkaCluster(t)
	p := producer(t, addr, kgo.NoCompression())
	const n = 6000
	s, base := startTestServer(t, kafkaTestConfig(t.TempDir(), addr))
	defer s.shutdown(10 * time.Second)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i += 100 {
			produce(t, p, i, i+100)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	second, err := kafka.New(s.eng, nil, kafka.Options{Brokers: []string{addr}, Topics: []string{"events"}, Group: "g",
		Database: "ev", Name: "kafka-second", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- second.Run(ctx) }()
	// Leave once it took partitions and stored something.
	deadline := time.Now().Add(30 * time.Second)
	for len(second.Status()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if len(second.Status()) == 0 {
		t.Fatal("the second member never got partitions")
	}
	time.Sleep(500 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	waitEvents(t, base, n, func() string { return "" })
}

// TestKafkaKill9 kills a consuming server with SIGKILL at random moments five
// times while records stream in, restarting it each time on the same
// directory: every record is stored exactly once. STRATA_SOAK=1 makes it 25
// kills over 200,000 records (448 s at load average 20: give it -timeout 30m).
func TestKafkaKill9(t *testing.T) {
	_, addr := kafkaCluster(t)
	p := producer(t, addr, kgo.Lz4Compression())
	n, kills := 20000, 5
	if os.Getenv("STRATA_SOAK") != "" {
		n, kills = 200000, 25
	}
	dir := t.TempDir()
	args := []string{"--kafka-brokers", addr, "--kafka-topics", "events", "--kafka-database", "ev", "--kafka-group", "g",
		"--kafka-instance-id", "strata-1", "--kafka-max-poll-records", "500"}
	stop := make(chan struct{})
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		for i := 0; i < n; i += 200 {
			produce(t, p, i, i+200)
			select {
			case <-stop:
			case <-time.After(15 * time.Millisecond):
			}
		}
	}()
	rng := rand.New(rand.NewPCG(1, 2))
	midStream := 0 // kills that found some records stored and some not
	for kill := 0; kill < kills; kill++ {
		c := startChild(t, dir, args...)
		time.Sleep(time.Duration(200+rng.IntN(600)) * time.Millisecond)
		if got, _ := countEvents(t, c.base); got > 0 && got < n {
			midStream++
		}
		c.stop(t, syscall.SIGKILL)
	}
	if midStream == 0 {
		t.Fatal("no kill happened mid-stream: the test proves nothing")
	}
	close(stop)
	<-produced
	c := startChild(t, dir, args...)
	defer c.stop(t, syscall.SIGTERM)
	waitEvents(t, c.base, n, c.log)
}

// TestKafkaSASL consumes from a cluster that requires SCRAM-SHA-256.
func TestKafkaSASL(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "events"), kfake.EnableSASL(),
		kfake.Superuser("SCRAM-SHA-256", "strata", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	p, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("events"),
		kgo.SASL(scram.Auth{User: "strata", Pass: "s3cret"}.AsSha256Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	produce(t, p, 0, 100)
	cfg := kafkaTestConfig(t.TempDir(), addr)
	cfg.kafka.sasl, cfg.kafka.saslUser, cfg.kafka.saslPass = "SCRAM-SHA-256", "strata", "s3cret"
	s, base := startTestServer(t, cfg)
	defer s.shutdown(10 * time.Second)
	waitEvents(t, base, 100, func() string { return "" })
}

func TestKafkaFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"--kafka-brokers", "x:1"}, "needs --kafka-topics and --kafka-database"},
		{[]string{"--kafka-brokers", "x:1", "--kafka-topics", "t", "--kafka-database", "d", "--kafka-format", "json"}, "only lineprotocol"},
		{[]string{"--kafka-brokers", "x:1", "--kafka-topics", "t", "--kafka-database", "d", "--kafka-sasl-mechanism", "GSSAPI"}, "bad --kafka-sasl-mechanism"},
		{[]string{"--kafka-brokers", "x:1", "--kafka-topics", "t", "--kafka-database", "d", "--kafka-start", "middle"}, "bad --kafka-start"},
	} {
		var cfg serveConfig
		if err := serveFlags(&cfg, defaultServeConfig(), io.Discard).Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if _, err := kafkaOptions(cfg.kafka, nil, nil); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%v: err %v, want %q", c.args, err, c.err)
		}
	}
}
