package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-db/strata/ingest/deadletter"
	"github.com/strata-db/strata/ingest/kafka"
	"github.com/strata-db/strata/ingest/lineprotocol"
	"github.com/strata-db/strata/services"
	"github.com/strata-db/strata/storage"
)

// kafkaConfig is the Kafka ingest of `strata serve` (off without brokers).
type kafkaConfig struct {
	brokers   string
	topics    string
	group     string
	database  string
	rp        string
	format    string
	precision string
	start     string
	consumers int
	maxPoll   int
	instance  string
	session   time.Duration
}

func defaultKafkaConfig() kafkaConfig {
	return kafkaConfig{group: "strata", format: "lineprotocol", precision: "ns", start: "earliest", consumers: 1, maxPoll: 10_000}
}

func kafkaFlags(fs *flag.FlagSet, c *kafkaConfig, d kafkaConfig) {
	fs.StringVar(&c.brokers, "kafka-brokers", d.brokers, "HOST:PORT[,...] of Kafka (or Redpanda) brokers to consume line protocol from, exactly once (empty: no Kafka ingest)")
	fs.StringVar(&c.topics, "kafka-topics", d.topics, "topics to consume, comma-separated")
	fs.StringVar(&c.group, "kafka-group", d.group, "consumer group; Strata resumes from the offsets it stored with the data, the group's commits are advisory (one group per Strata data directory)")
	fs.StringVar(&c.database, "kafka-database", d.database, "database the records are written into (created if missing)")
	fs.StringVar(&c.rp, "kafka-rp", d.rp, "retention policy of --kafka-database (empty: its default)")
	fs.StringVar(&c.format, "kafka-format", d.format, "format of the record values: lineprotocol (one or many lines per record)")
	fs.StringVar(&c.precision, "kafka-precision", d.precision, "precision of the timestamps in the lines: ns, us, ms or s")
	fs.StringVar(&c.start, "kafka-start", d.start, "where a partition without a stored or committed offset starts: earliest or latest")
	fs.IntVar(&c.consumers, "kafka-consumers", d.consumers, "group members this server runs (partitions are shared among them)")
	fs.IntVar(&c.maxPoll, "kafka-max-poll-records", d.maxPoll, "most records written as one batch")
	fs.StringVar(&c.instance, "kafka-instance-id", d.instance, "static group membership: a stable ID for this server (suffixed -N for --kafka-consumers > 1), so a restart takes its partitions back at once")
	fs.DurationVar(&c.session, "kafka-session-timeout", d.session, "how long the group waits for a silent member before reassigning its partitions (0: 45s)")
}

// kafkaOptions checks c and returns the consumer options it describes, or nil
// without brokers.
func kafkaOptions(c kafkaConfig, log *slog.Logger, reg prometheus.Registerer) (*kafka.Options, error) {
	if c.brokers == "" {
		return nil, nil
	}
	if c.topics == "" || c.database == "" {
		return nil, fmt.Errorf("--kafka-brokers needs --kafka-topics and --kafka-database")
	}
	if c.format != "lineprotocol" {
		return nil, fmt.Errorf("bad --kafka-format %q: only lineprotocol is supported", c.format)
	}
	prec := map[string]lineprotocol.Precision{"ns": lineprotocol.Nanosecond, "us": lineprotocol.Microsecond, "ms": lineprotocol.Millisecond, "s": lineprotocol.Second}[c.precision]
	if prec == 0 {
		return nil, fmt.Errorf("bad --kafka-precision %q: use ns, us, ms or s", c.precision)
	}
	if c.start != "earliest" && c.start != "latest" {
		return nil, fmt.Errorf("bad --kafka-start %q: use earliest or latest", c.start)
	}
	if c.consumers < 1 {
		return nil, fmt.Errorf("bad --kafka-consumers %d: at least 1", c.consumers)
	}
	return &kafka.Options{
		Brokers: splitList(c.brokers), Topics: splitList(c.topics), Group: c.group,
		Database: c.database, RP: c.rp, Precision: prec, StartAtEnd: c.start == "latest",
		MaxPollRecords: c.maxPoll, SessionTimeout: c.session, Logger: log, Registerer: reg,
	}, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ingestDeps are what the ingest services share with the HTTP handlers.
type ingestDeps struct {
	letters *deadletter.Store
	kafka   *kafkaStatus
	reg     prometheus.Registerer
}

// startKafka starts the configured group members as services and lists them
// in the status endpoint.
func startKafka(g *services.Group, c kafkaConfig, eng *storage.Engine, in ingestDeps, log *slog.Logger) error {
	opts, err := kafkaOptions(c, log, in.reg)
	if err != nil || opts == nil {
		return err
	}
	for i := range c.consumers {
		o := *opts
		o.Name = "kafka"
		if i > 0 {
			o.Name = "kafka-" + strconv.Itoa(i)
		}
		if c.instance != "" {
			o.InstanceID = c.instance
			if c.consumers > 1 {
				o.InstanceID += "-" + strconv.Itoa(i)
			}
		}
		k, err := kafka.New(eng, in.letters, o)
		if err != nil {
			return err
		}
		if err := g.Start(k); err != nil {
			return err
		}
		in.kafka.add(k)
	}
	return nil
}

// kafkaStatus serves GET /api/v1/kafka/status: each consumer's owned
// partitions with their stored offsets and lag, as JSON.
type kafkaStatus struct {
	mu        sync.Mutex
	consumers []*kafka.Consumer
}

func (k *kafkaStatus) add(c *kafka.Consumer) {
	k.mu.Lock()
	k.consumers = append(k.consumers, c)
	k.mu.Unlock()
}

func (k *kafkaStatus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	type consumer struct {
		Name       string         `json:"name"`
		Partitions []kafka.Status `json:"partitions"`
	}
	out := struct {
		Consumers []consumer `json:"consumers"`
	}{Consumers: []consumer{}}
	k.mu.Lock()
	for _, c := range k.consumers {
		ps := c.Status()
		sort.Slice(ps, func(i, j int) bool {
			return ps[i].Topic < ps[j].Topic || ps[i].Topic == ps[j].Topic && ps[i].Partition < ps[j].Partition
		})
		if ps == nil {
			ps = []kafka.Status{}
		}
		out.Consumers = append(out.Consumers, consumer{Name: c.Name(), Partitions: ps})
	}
	k.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}
