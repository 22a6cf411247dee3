package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/strata-db/strata/ingest/deadletter"
	"github.com/strata-db/strata/ingest/kafka"
	"github.com/strata-db/strata/ingest/lineprotocol"
	"github.com/strata-db/strata/services"
	"github.com/strata-db/strata/services/metalog"
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
	tls       bool
	tlsCA     string
	sasl      string // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	saslUser  string
	saslPass  string
	metaTopic string
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
	fs.BoolVar(&c.tls, "kafka-tls", d.tls, "connect to the brokers over TLS (system roots, or --kafka-tls-ca)")
	fs.StringVar(&c.tlsCA, "kafka-tls-ca", d.tlsCA, "PEM file of the CA certificates that sign the brokers' (implies --kafka-tls)")
	fs.StringVar(&c.sasl, "kafka-sasl-mechanism", d.sasl, "SASL authentication to the brokers: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: none)")
	fs.StringVar(&c.saslUser, "kafka-sasl-username", d.saslUser, "SASL user name")
	fs.StringVar(&c.metaTopic, "kafka-meta-topic", d.metaTopic, "one-partition topic through which every node of the set applies DDL (databases, retention policies, continuous queries, users and grants) in one order; a statement is answered once applied here (empty: DDL is local)")
	fs.StringVar(&c.saslPass, "kafka-sasl-password", d.saslPass, "SASL password (prefer the STRATA_KAFKA_SASL_PASSWORD environment variable: flags show in ps)")
}

// kafkaOptions checks c and returns the consumer options it describes, or nil
// without brokers.
func kafkaOptions(c kafkaConfig, log *slog.Logger, reg prometheus.Registerer) (*kafka.Options, error) {
	if c.brokers == "" || c.metaTopic != "" && c.topics == "" && c.database == "" {
		return nil, nil // no Kafka ingest (perhaps the meta log only)
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
	extra, err := kafkaSecurity(c)
	if err != nil {
		return nil, err
	}
	return &kafka.Options{
		Brokers: splitList(c.brokers), Topics: splitList(c.topics), Group: c.group,
		Database: c.database, RP: c.rp, Precision: prec, StartAtEnd: c.start == "latest",
		MaxPollRecords: c.maxPoll, SessionTimeout: c.session, ExtraOpts: extra, Logger: log, Registerer: reg,
	}, nil
}

// kafkaSecurity returns the client options of the TLS and SASL flags.
func kafkaSecurity(c kafkaConfig) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if c.tls || c.tlsCA != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if c.tlsCA != "" {
			pem, err := os.ReadFile(c.tlsCA)
			if err != nil {
				return nil, fmt.Errorf("--kafka-tls-ca: %w", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--kafka-tls-ca %s: no PEM certificate in it", c.tlsCA)
			}
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	pass := c.saslPass
	if env := os.Getenv("STRATA_KAFKA_SASL_PASSWORD"); env != "" {
		pass = env
	}
	switch c.sasl {
	case "":
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: c.saslUser, Pass: pass}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.saslUser, Pass: pass}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.saslUser, Pass: pass}.AsSha512Mechanism()))
	default:
		return nil, fmt.Errorf("bad --kafka-sasl-mechanism %q: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.sasl)
	}
	return opts, nil
}

// ingestDeps are what the ingest services share with the HTTP handlers.
type ingestDeps struct {
	letters *deadletter.Store
	kafka   *kafkaStatus
	reg     prometheus.Registerer
	meta    *metalog.Service // nil without --kafka-meta-topic
	cqc     *cqCluster       // nil: continuous queries of one node (cqcluster.go)
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

// notReady lists why the consumers are not caught up within maxLag records
// (none: ready); see readyHandler.
func (k *kafkaStatus) notReady(maxLag int64) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, c := range k.consumers {
		if !c.Joined() {
			out = append(out, c.Name()+": no partitions assigned by the group yet")
			continue
		}
		for _, p := range c.Status() {
			switch {
			case p.Lag < 0:
				out = append(out, fmt.Sprintf("%s: %s/%d: lag not known yet", c.Name(), p.Topic, p.Partition))
			case p.Lag > maxLag:
				out = append(out, fmt.Sprintf("%s: %s/%d: %d records behind (at most %d)", c.Name(), p.Topic, p.Partition, p.Lag, maxLag))
			}
		}
	}
	sort.Strings(out)
	return out
}

// newMetaLog returns the meta-log service of --kafka-meta-topic, or nil.
func newMetaLog(c kafkaConfig, dir string, apply metalog.Applier, log *slog.Logger, reg prometheus.Registerer) (*metalog.Service, error) {
	if c.metaTopic == "" {
		return nil, nil
	}
	if c.brokers == "" {
		return nil, fmt.Errorf("--kafka-meta-topic needs --kafka-brokers")
	}
	extra, err := kafkaSecurity(c)
	if err != nil {
		return nil, err
	}
	return metalog.New(apply, metalog.Options{Brokers: splitList(c.brokers), Topic: c.metaTopic, Dir: dir, ExtraOpts: extra, Logger: log, Registerer: reg})
}

// metaStore is the engine as the query executor sees it with a meta topic:
// DDL is published and answered once applied here from the topic; the rest
// goes to the engine.
type metaStore struct {
	*storage.Engine
	meta *metalog.Service
}

func (m metaStore) CreateDatabase(name string, rp *storage.RetentionPolicy) error {
	r := metalog.Record{Op: metalog.OpCreateDatabase, Database: name}
	if rp != nil {
		r.RP, r.HasRP = *rp, true
	}
	return m.meta.Publish(context.Background(), r)
}

func (m metaStore) DropDatabase(name string) error {
	return m.meta.Publish(context.Background(), metalog.Record{Op: metalog.OpDropDatabase, Database: name})
}

func (m metaStore) CreateRetentionPolicy(db string, rp storage.RetentionPolicy, makeDefault bool) error {
	return m.meta.Publish(context.Background(), metalog.Record{Op: metalog.OpCreateRetentionPolicy, Database: db, RP: rp, MakeDefault: makeDefault})
}

func (m metaStore) AlterRetentionPolicy(db, name string, u storage.RetentionPolicyUpdate) error {
	return m.meta.Publish(context.Background(), metalog.Record{Op: metalog.OpAlterRetentionPolicy, Database: db, Name: name, MakeDefault: u.MakeDefault, Update: u})
}

func (m metaStore) DropRetentionPolicy(db, name string) error {
	return m.meta.Publish(context.Background(), metalog.Record{Op: metalog.OpDropRetentionPolicy, Database: db, Name: name})
}
