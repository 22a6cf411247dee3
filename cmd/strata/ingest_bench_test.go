package main

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-db/strata/bench"
)

// TestIngestThroughput measures, in one run on the same data, the values/s of
// HTTP /write (bench.Load, 4 writers, 5,000-line bodies) and of the Kafka
// consumer reading the same lines from kfake (50-line records in 4
// partitions, produced before the clock starts), both into a durable server
// with the default configuration. It is a measurement, not a check of the
// default suite:
//
//	STRATA_INGEST_BENCH=1 go test ./cmd/strata -run TestIngestThroughput -v
//
// STRATA_INGEST_BENCH_HOURS sets the TSBS cpu day's length (default 6 h: 2.16
// M values).
func TestIngestThroughput(t *testing.T) {
	if os.Getenv("STRATA_INGEST_BENCH") == "" {
		t.Skip("set STRATA_INGEST_BENCH=1 to measure ingest throughput")
	}
	hours := 6
	if h, err := strconv.Atoi(os.Getenv("STRATA_INGEST_BENCH_HOURS")); err == nil && h > 0 {
		hours = h
	}
	gen := bench.DefaultGenConfig()
	gen.Duration = time.Duration(hours) * time.Hour
	httpData, err := bench.Generate(gen)
	if err != nil {
		t.Fatal(err)
	}
	gen.BatchLines = 50
	kafkaData, err := bench.Generate(gen)
	if err != nil {
		t.Fatal(err)
	}
	values := float64(httpData.Values())

	// HTTP /write.
	s, base := startTestServer(t, testConfig(t.TempDir()))
	if err := bench.CreateDatabase(context.Background(), bench.NewClient(1), base, "cpu"); err != nil {
		t.Fatal(err)
	}
	httpCPU := cpuTime(t)
	res, err := bench.Load(context.Background(), bench.LoadConfig{URL: base, DB: "cpu", Workers: 4}, httpData)
	httpCPU = cpuTime(t) - httpCPU
	if err != nil || res.Failed > 0 {
		t.Fatalf("http load: %v %+v", err, res)
	}
	s.shutdown(30 * time.Second)
	httpRate := values / res.Seconds

	// Kafka.
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "cpu"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	p, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("cpu"), kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]*kgo.Record, len(kafkaData.Bodies))
	for i, b := range kafkaData.Bodies {
		recs[i] = &kgo.Record{Value: b}
	}
	if err := p.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	p.Close()
	cfg := kafkaTestConfig(t.TempDir(), addr)
	cfg.kafka.topics, cfg.kafka.database = "cpu", "cpu"
	start, kafkaCPU := time.Now(), cpuTime(t)
	s, base = startTestServer(t, cfg)
	defer s.shutdown(30 * time.Second)
	re := regexp.MustCompile(`strata_kafka_points_total\{consumer="kafka"\} (\S+)`)
	var first time.Time
	for {
		m := do(t, "GET", base+"/metrics", nil, nil)
		n := 0.0
		if sm := re.FindStringSubmatch(m.body); sm != nil {
			n, _ = strconv.ParseFloat(sm[1], 64)
		}
		if n > 0 && first.IsZero() {
			first = time.Now()
		}
		if n >= float64(kafkaData.Lines) {
			break
		}
		if time.Since(start) > 5*time.Minute {
			t.Fatalf("kafka consumed %v of %d points", n, kafkaData.Lines)
		}
		time.Sleep(20 * time.Millisecond)
	}
	total, kafkaCPU := time.Since(start), cpuTime(t)-kafkaCPU
	kafkaRate := values / time.Since(first).Seconds()
	t.Logf("values: %.0f (TSBS cpu, 100 hosts x %d h)", values, hours)
	t.Logf("HTTP /write: %.2f M values/s (%.2f s, 4 writers, 5,000-line bodies)", httpRate/1e6, res.Seconds)
	t.Logf("Kafka (kfake, 4 partitions, 50-line lz4 records): %.2f M values/s from the first stored batch; %.2f M values/s including start and group join (%.2f s)",
		kafkaRate/1e6, values/total.Seconds()/1e6, total.Seconds())
	t.Logf("ratio Kafka/HTTP: %.2f", kafkaRate/httpRate)
	// CPU time of the whole process (server, and the HTTP clients or kfake)
	// per value: what a contended machine changes least. 2 cores / that is
	// the rate the work would reach with the machine to itself.
	t.Logf("CPU per M values: HTTP %.2f s (client included), Kafka %.2f s (kfake, start and join included); at 2 cores: %.2f vs %.2f M values/s, ratio %.2f",
		httpCPU.Seconds()/values*1e6, kafkaCPU.Seconds()/values*1e6, 2*values/httpCPU.Seconds()/1e6, 2*values/kafkaCPU.Seconds()/1e6, httpCPU.Seconds()/kafkaCPU.Seconds())
}
