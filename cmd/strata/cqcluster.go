package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-db/strata/cluster"
	"github.com/strata-db/strata/ingest/kafka"
	"github.com/strata-db/strata/ingest/lineprotocol"
	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/services"
	"github.com/strata-db/strata/services/cq"
	"github.com/strata-db/strata/storage"
)

// Continuous queries in a node set (services/cq/cluster.go has the design,
// docs/scale-out.md the user's view): the runner is the member Kafka's group
// assigned partition 0 of the data topic; it takes the other nodes' late-data
// marks over /internal/v1/cq/take and /release, and publishes its rollups to
// the data topic keyed by series.

// The internal endpoints of the marks (JSON; docs/scale-out.md).
const (
	cqTakePath    = "/internal/v1/cq/take"
	cqReleasePath = "/internal/v1/cq/release"
)

type cqTakeRequest struct {
	Progress []cq.Progress `json:"progress"`
}

type cqTakeResponse struct {
	Token uint64     `json:"token"`
	Marks []cq.Marks `json:"marks"`
}

type cqReleaseRequest struct {
	Token uint64 `json:"token"`
}

// cqCluster implements cq.Cluster for a server with peers and Kafka ingest.
type cqCluster struct {
	kstatus *kafkaStatus
	topic   string // the data topic whose partition 0 elects the runner
	peers   cluster.Peers
	scheme  string
	client  *http.Client
	prod    *kgo.Client
	prec    int64          // --kafka-precision in ns: the lines' timestamps are in it
	secret  cluster.Secret // signs the runner's requests to the peers (nil: unsigned)
	log     *slog.Logger
}

// newCQCluster returns the node-set side of continuous queries, or nil
// without peers or without Kafka ingest (one node: unchanged).
func newCQCluster(cfg serveConfig, kstatus *kafkaStatus, log *slog.Logger) (*cqCluster, error) {
	topics := splitList(cfg.kafka.topics)
	if cfg.peers == "" && cfg.peersDNS == "" || cfg.kafka.brokers == "" || len(topics) == 0 || cfg.kafka.database == "" {
		return nil, nil
	}
	var peers cluster.Peers
	if cfg.peers != "" {
		static, err := cluster.ParseStatic(cfg.peers)
		if err != nil {
			return nil, err
		}
		peers = static
	} else {
		peers = &cluster.DNSPeers{Name: cfg.peersDNS, Port: cfg.peersPort, Self: selfAddrs()}
	}
	prec := map[string]int64{"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[cfg.kafka.precision]
	if prec == 0 {
		return nil, fmt.Errorf("bad --kafka-precision %q: use ns, us, ms or s", cfg.kafka.precision)
	}
	extra, err := kafkaSecurity(cfg.kafka)
	if err != nil {
		return nil, err
	}
	timeout := cfg.peerTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	prod, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(splitList(cfg.kafka.brokers)...),
		kgo.DefaultProduceTopic(topics[0]),
		// Keyed records hash as Kafka's own clients hash them (murmur2), so
		// a rollup series lands where any writer's records of it land.
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.RecordDeliveryTimeout(timeout),
	}, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("continuous queries: kafka producer: %w", err)
	}
	return &cqCluster{kstatus: kstatus, topic: topics[0], peers: peers, scheme: schemeOf(cfg),
		client: &http.Client{Timeout: timeout}, prod: prod, prec: prec, secret: cfg.clusterSecret, log: log.With("service", "continuous-queries")}, nil
}

// service closes the producer when the server stops (started before the CQ
// service, it stops after it).
func (c *cqCluster) service() services.Service {
	return services.Func{ServiceName: "cq-cluster", Loop: func(ctx context.Context) error {
		<-ctx.Done()
		c.prod.Close()
		return nil
	}}
}

// Runner implements cq.Cluster: this node owns partition 0 of the data
// topic. During a rebalance two nodes may both run for a moment: their
// points are the same, written twice.
func (c *cqCluster) Runner() bool {
	c.kstatus.mu.Lock()
	defer c.kstatus.mu.Unlock()
	for _, k := range c.kstatus.consumers {
		for _, p := range k.Status() {
			if p.Topic == c.topic && p.Partition == 0 {
				return true
			}
		}
	}
	return false
}

// Take implements cq.Cluster: every peer, concurrently; any failure fails.
func (c *cqCluster) Take(ctx context.Context, progress []cq.Progress) (map[string]uint64, []cq.Marks, error) {
	peers, err := c.peers.Resolve(ctx)
	if err != nil {
		return nil, nil, err
	}
	type answer struct {
		peer string
		resp cqTakeResponse
		err  error
	}
	answers := make([]answer, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = answer{peer: p}
			answers[i].err = c.post(ctx, p, cqTakePath, cqTakeRequest{Progress: progress}, &answers[i].resp)
		}()
	}
	wg.Wait()
	tokens := map[string]uint64{}
	var marks []cq.Marks
	for _, a := range answers {
		if a.err != nil {
			return nil, nil, &cluster.PeerError{Peer: a.peer, Err: a.err}
		}
		tokens[a.peer] = a.resp.Token
		marks = append(marks, a.resp.Marks...)
	}
	return tokens, marks, nil
}

// Release implements cq.Cluster. A failed release only logs: the marks are
// taken again by the next pass and recomputed once more.
func (c *cqCluster) Release(ctx context.Context, tokens map[string]uint64) {
	var wg sync.WaitGroup
	for p, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.post(ctx, p, cqReleasePath, cqReleaseRequest{Token: tok}, nil); err != nil {
				c.log.Warn("continuous queries: release of a node's marks failed; they are recomputed again", "node", p, "err", err)
			}
		}()
	}
	wg.Wait()
}

func (c *cqCluster) post(ctx context.Context, peer, path string, body, into any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.scheme+"://"+peer+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	c.secret.Sign(req, b, "", time.Now()) // no user: the node itself asks
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", path, resp.Status, bytes.TrimSpace(rb))
	}
	if into == nil {
		return nil
	}
	return json.Unmarshal(rb, into)
}

// Sink implements cq.Cluster.
func (c *cqCluster) Sink() query.PointSink { return c }

// WritePoints implements query.PointSink: one record per point, keyed by
// its series key as line protocol spells it (what writers key by), its
// database and retention policy in headers (kafka.HeaderDatabase, HeaderRP),
// its time in --kafka-precision. It returns once the brokers acknowledged
// every record.
func (c *cqCluster) WritePoints(ctx context.Context, db, rp string, points []query.Point) error {
	recs := make([]*kgo.Record, 0, len(points))
	headers := []kgo.RecordHeader{{Key: kafka.HeaderDatabase, Value: []byte(db)}, {Key: kafka.HeaderRP, Value: []byte(rp)}}
	for _, p := range points {
		if p.Time%c.prec != 0 {
			return fmt.Errorf("rollup point at %d ns is not a whole number of --kafka-precision units (%d ns): use a finer precision", p.Time, c.prec)
		}
		lp := lineprotocol.Point{Measurement: []byte(p.Measurement), Time: p.Time / c.prec}
		for _, t := range p.Tags {
			lp.Tags = append(lp.Tags, lineprotocol.Tag{Key: t.Key, Value: t.Value})
		}
		for _, f := range p.Fields {
			if lf, ok := lineField(f); ok {
				lp.Fields = append(lp.Fields, lf)
			}
		}
		if len(lp.Fields) == 0 {
			continue
		}
		line := lineprotocol.AppendPoint(nil, &lp)
		recs = append(recs, &kgo.Record{Key: line[:seriesKeyEnd(line)], Value: line, Headers: headers})
	}
	if len(recs) == 0 {
		return nil
	}
	if err := c.prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("publish rollup points to topic %s: %w", c.topic, err)
	}
	return nil
}

// seriesKeyEnd is where a line's series key ends: its first unescaped space.
func seriesKeyEnd(line []byte) int {
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case ' ':
			return i
		}
	}
	return len(line)
}

func lineField(f storage.FieldValue) (lineprotocol.Field, bool) {
	lf := lineprotocol.Field{Key: f.Key}
	switch f.Type {
	case storage.Float:
		if math.IsNaN(f.Float) || math.IsInf(f.Float, 0) {
			return lf, false // line protocol has no spelling for them
		}
		lf.Type, lf.Float = lineprotocol.Float, f.Float
	case storage.Integer:
		lf.Type, lf.Int = lineprotocol.Integer, f.Int
	case storage.Unsigned:
		lf.Type, lf.Uint = lineprotocol.Unsigned, f.Uint
	case storage.String:
		lf.Type, lf.Str = lineprotocol.String, f.Str
	case storage.Boolean:
		lf.Type, lf.Bool = lineprotocol.Boolean, f.Bool
	default:
		return lf, false
	}
	return lf, true
}

// cqMarksHandler serves the internal endpoints of the marks to the runner.
func cqMarksHandler(cqs *cq.Service, secret cluster.Secret, authOn func() bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(cqTakePath, func(w http.ResponseWriter, r *http.Request) {
		var req cqTakeRequest
		if !decodeInternal(w, r, &req) {
			return
		}
		tok, marks := cqs.TakeMarks(req.Progress)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(cqTakeResponse{Token: tok, Marks: marks})
	})
	mux.HandleFunc(cqReleasePath, func(w http.ResponseWriter, r *http.Request) {
		var req cqReleaseRequest
		if !decodeInternal(w, r, &req) {
			return
		}
		cqs.ReleaseMarks(req.Token)
		w.WriteHeader(http.StatusOK)
	})
	return verifyInternal(mux, secret, authOn)
}

func decodeInternal(w http.ResponseWriter, r *http.Request, into any) bool {
	if r.Method != http.MethodPost {
		jsonError(w, http.StatusMethodNotAllowed, "POST only")
		return false
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<20)).Decode(into); err != nil {
		jsonError(w, http.StatusBadRequest, "bad request: "+err.Error())
		return false
	}
	return true
}

// verifyInternal checks the CQ endpoints' requests as /internal/v2/partial
// checks its own (cluster.Secret.Authenticate, docs/format/node-protocol.md
// "Authentication").
func verifyInternal(h http.Handler, secret cluster.Secret, authOn func() bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxCQRequest+1))
		if err != nil {
			jsonError(w, http.StatusBadRequest, "bad request: "+err.Error())
			return
		}
		if len(body) > maxCQRequest {
			jsonError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request larger than %d bytes", maxCQRequest))
			return
		}
		if _, err := secret.Authenticate(r, body, time.Now(), authOn()); err != nil {
			jsonError(w, http.StatusUnauthorized, err.Error())
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	})
}

// maxCQRequest bounds a CQ endpoint's request body: a runner's progress
// for every continuous query, a few KB; 64 MiB as the decoder allowed.
const maxCQRequest = 64 << 20
