package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-db/strata/ingest"
	"github.com/strata-db/strata/ingest/deadletter"
	"github.com/strata-db/strata/ingest/lineprotocol"
	"github.com/strata-db/strata/storage"
)

// Store is what the consumer needs of the storage engine.
type Store interface {
	Bucket(db, rp string) (storage.BucketID, error)
	CreateDatabase(name string, rp *storage.RetentionPolicy) error
	NewBatch(b storage.BucketID) (*storage.Batch, error)
	Write(b *storage.Batch) (storage.WriteResult, error)
	SourceOffsets(stream string) map[int32]int64
	// Overloaded reports that a write now would wait for room in memory.
	Overloaded() bool
}

// Options configure a Consumer.
type Options struct {
	Brokers  []string
	Topics   []string
	Group    string
	Database string
	RP       string // "" : the database's default policy
	// Precision of the timestamps in the lines. Default nanoseconds.
	Precision lineprotocol.Precision
	// MaxPollRecords bounds the records of one batch. Default 10,000: with
	// TSBS-like messages of 10 lines each, a batch of ~1 MB of line protocol,
	// where the write path's per-batch cost (WAL append, fsync) is amortised.
	MaxPollRecords int
	// StartAtEnd starts partitions Strata has no offset for (and the group
	// none) at their end instead of their beginning.
	StartAtEnd bool
	// Name distinguishes several consumers of one group in one server.
	// Default "kafka".
	Name string
	// InstanceID makes the member static (KIP-345): a restarted server takes
	// its partitions back at once instead of after the session timeout.
	InstanceID string
	// SessionTimeout is how long the group waits for a silent member before
	// giving its partitions to others. Default 45 s (franz-go's).
	SessionTimeout time.Duration
	// ExtraOpts are added to the franz-go client's (TLS, SASL, tests).
	ExtraOpts  []kgo.Opt
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Consumer is one member of a consumer group writing into one database.
type Consumer struct {
	store   Store
	letters ingest.DeadLetters
	opts    Options
	log     *slog.Logger
	m       *metrics
	lines   *ingest.LineWriter

	mu    sync.Mutex // guards parts: the poll loop and the group's callbacks
	parts map[tp]*partState
}

type tp struct {
	topic     string
	partition int32
}

// partState is what the consumer knows of a partition it owns.
type partState struct {
	next   int64 // the first offset not yet stored (-1: unknown, take what comes)
	first  int64 // with nothing stored: the first offset consumed, where a rewind goes
	dlNext int64 // the same for the partition's dead letters
	hwm    int64 // the high watermark last seen, for the lag
}

// New returns a consumer; Run starts it.
func New(store Store, letters ingest.DeadLetters, opts Options) (*Consumer, error) {
	if len(opts.Brokers) == 0 || len(opts.Topics) == 0 || opts.Group == "" || opts.Database == "" {
		return nil, errors.New("kafka: brokers, topics, group and database are required")
	}
	if opts.MaxPollRecords <= 0 {
		opts.MaxPollRecords = 10_000
	}
	if opts.Precision <= 0 {
		opts.Precision = lineprotocol.Nanosecond
	}
	if opts.Name == "" {
		opts.Name = "kafka"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Consumer{
		store: store, letters: letters, opts: opts,
		log:   opts.Logger.With("service", opts.Name, "group", opts.Group),
		m:     newMetrics(opts.Registerer, opts.Name),
		lines: ingest.NewLineWriter(),
		parts: make(map[tp]*partState),
	}, nil
}

// Name implements services.Service.
func (c *Consumer) Name() string { return c.opts.Name }

func (c *Consumer) stream(topic string) string { return "kafka/" + c.opts.Group + "/" + topic }
func (c *Consumer) dlStream(topic string) string {
	return "kafka-deadletter/" + c.opts.Group + "/" + topic
}

// Run consumes until ctx ends. A batch being written when ctx ends is
// finished first; the group is left cleanly.
func (c *Consumer) Run(ctx context.Context) error {
	if err := c.ensureDatabase(); err != nil {
		return err
	}
	reset := kgo.NewOffset().AtStart()
	if c.opts.StartAtEnd {
		reset = kgo.NewOffset().AtEnd()
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(c.opts.Brokers...),
		kgo.ConsumerGroup(c.opts.Group),
		kgo.ConsumeTopics(c.opts.Topics...),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.ConsumeResetOffset(reset),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.OnPartitionsAssigned(c.assigned),
		kgo.AdjustFetchOffsetsFn(c.adjustOffsets),
		kgo.OnPartitionsRevoked(c.revoked),
		kgo.OnPartitionsLost(c.revoked),
	}, c.opts.ExtraOpts...)
	if c.opts.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(c.opts.InstanceID))
	}
	if c.opts.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(c.opts.SessionTimeout))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close() // leaves the group
	c.log.Info("kafka consumer started", "brokers", c.opts.Brokers, "topics", c.opts.Topics, "database", c.opts.Database)
	lastCommit := time.Now()
	for ctx.Err() == nil {
		c.holdBack(ctx, cl)
		fetches := cl.PollRecords(ctx, c.opts.MaxPollRecords)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			cl.AllowRebalance()
			break
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				c.m.errors.Inc()
				c.log.Warn("kafka fetch", "topic", topic, "partition", p, "err", err)
			}
		})
		if err := c.process(cl, fetches); err != nil {
			c.backOff(ctx, cl, err)
		}
		cl.AllowRebalance()
		if time.Since(lastCommit) >= advisoryCommitInterval {
			// Advisory, for lag tooling: Strata resumes from its own offsets.
			if err := cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
				c.log.Debug("advisory offset commit", "err", err)
			}
			lastCommit = time.Now()
		}
	}
	return nil
}

// advisoryCommitInterval: commits to Kafka only feed lag tooling, so one every
// few seconds is plenty and costs the consumer nothing measurable.
const advisoryCommitInterval = 5 * time.Second

func (c *Consumer) ensureDatabase() error {
	_, err := c.store.Bucket(c.opts.Database, c.opts.RP)
	var nf *storage.DatabaseNotFoundError
	if errors.As(err, &nf) {
		// As InfluxDB 1.x's collectd/graphite/udp services: the database the
		// service writes into is created when it starts.
		if err := c.store.CreateDatabase(c.opts.Database, nil); err != nil {
			return fmt.Errorf("kafka: create database %s: %w", c.opts.Database, err)
		}
		_, err = c.store.Bucket(c.opts.Database, c.opts.RP)
	}
	if err != nil {
		return fmt.Errorf("kafka: database %s: %w", c.opts.Database, err)
	}
	return nil
}

// assigned only logs: the state of a new partition is made where its offsets
// are chosen, adjustOffsets.
func (c *Consumer) assigned(_ context.Context, _ *kgo.Client, a map[string][]int32) {
	c.m.rebalances.Inc()
	c.log.Info("kafka partitions assigned", "partitions", a)
}

// adjustOffsets replaces the offsets the group committed by the ones storage
// holds: the position of the last durable batch.
func (c *Consumer) adjustOffsets(_ context.Context, offs map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for topic, ps := range offs {
		stored := c.store.SourceOffsets(c.stream(topic))
		dl := c.store.SourceOffsets(c.dlStream(topic))
		for p := range ps {
			st := &partState{next: -1, first: -1, dlNext: -1, hwm: -1}
			if n, ok := stored[p]; ok {
				st.next = n
				ps[p] = kgo.NewOffset().At(n).WithEpoch(-1)
			}
			if n, ok := dl[p]; ok {
				st.dlNext = n
			}
			c.parts[tp{topic, p}] = st
			c.log.Info("kafka partition resumes", "topic", topic, "partition", p, "stored_offset", st.next)
		}
	}
	return offs, nil
}

// revoked forgets partitions another member takes (or that were lost): their
// last batch is durable already, since rebalances wait for the poll loop.
func (c *Consumer) revoked(_ context.Context, _ *kgo.Client, r map[string][]int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for topic, ps := range r {
		for _, p := range ps {
			delete(c.parts, tp{topic, p})
			c.m.lag.DeleteLabelValues(topic, strconv.Itoa(int(p)))
		}
	}
	if len(r) > 0 {
		c.log.Info("kafka partitions revoked", "partitions", r)
	}
}

// process writes the records of one poll as one batch, with the offsets they
// reach, after keeping their dead letters.
func (c *Consumer) process(cl *kgo.Client, fetches kgo.Fetches) error {
	bucket, err := c.store.Bucket(c.opts.Database, c.opts.RP)
	if err != nil {
		return err
	}
	batch, err := c.store.NewBatch(bucket)
	if err != nil {
		return err
	}
	defer batch.Release()
	var offs, dlOffs []storage.SourceOffset
	var letters []deadletter.Letter
	records, bytes := 0, 0
	now := time.Now()
	c.mu.Lock()
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		st := c.parts[tp{fp.Topic, fp.Partition}]
		if st == nil {
			return // not ours (any more)
		}
		st.hwm = fp.HighWatermark
		moved, dlMoved := false, false
		for _, r := range fp.Records {
			if r.Offset < st.next {
				c.m.duplicates.Inc()
				continue // stored already: a duplicate delivery
			}
			if st.next < 0 && st.first < 0 {
				st.first = r.Offset
			}
			records++
			bytes += len(r.Value)
			keepLetters := r.Offset >= st.dlNext
			c.lines.AddLines(batch, r.Value, c.opts.Precision, now.UnixNano(), func(line []byte, err error, _ bool) {
				if keepLetters {
					l := ingest.Letter("kafka", c.opts.Database, c.opts.RP, line, err, now)
					l.Origin = fp.Topic + "/" + strconv.Itoa(int(fp.Partition)) + "@" + strconv.FormatInt(r.Offset, 10)
					letters = append(letters, l)
					dlMoved = true
				}
			})
			st.next = r.Offset + 1
			moved = true
		}
		if moved {
			offs = append(offs, storage.SourceOffset{Stream: c.stream(fp.Topic), Partition: fp.Partition, Next: st.next})
		}
		if dlMoved {
			dlOffs = append(dlOffs, storage.SourceOffset{Stream: c.dlStream(fp.Topic), Partition: fp.Partition, Next: st.next})
		}
	})
	c.mu.Unlock()
	if len(offs) == 0 {
		return nil
	}
	if len(letters) > 0 && c.letters != nil {
		if err := c.letters.Keep(letters, dlOffs); err != nil {
			return c.rewind(cl, fmt.Errorf("dead letters: %w", err))
		}
		c.mu.Lock()
		for _, o := range dlOffs {
			if st := c.parts[tp{c.topicOf(o.Stream), o.Partition}]; st != nil {
				st.dlNext = o.Next
			}
		}
		c.mu.Unlock()
	}
	batch.SetOffsets(offs)
	res, err := c.store.Write(batch)
	if err != nil {
		return c.rewind(cl, err)
	}
	c.m.records.Add(float64(records))
	c.m.bytes.Add(float64(bytes))
	c.m.points.Add(float64(res.Written))
	c.m.rejected.Add(float64(res.Rejected))
	c.updateLag()
	return nil
}

func (c *Consumer) topicOf(dlStream string) string {
	return dlStream[len("kafka-deadletter/"+c.opts.Group+"/"):]
}

// rewind moves every owned partition back to the offset storage holds after a
// failed write, so its records are consumed again, exactly once.
func (c *Consumer) rewind(cl *kgo.Client, cause error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	set := make(map[string]map[int32]kgo.EpochOffset)
	byTopic := make(map[string]map[int32]int64)
	for k, st := range c.parts {
		stored, ok := byTopic[k.topic]
		if !ok {
			stored = c.store.SourceOffsets(c.stream(k.topic))
			byTopic[k.topic] = stored
		}
		n, ok := stored[k.partition]
		if !ok {
			n = st.first // nothing stored yet: back to where this member began
			st.next = -1
		} else {
			st.next = n
		}
		if n < 0 {
			continue // nothing consumed either
		}
		if set[k.topic] == nil {
			set[k.topic] = make(map[int32]kgo.EpochOffset)
		}
		set[k.topic][k.partition] = kgo.EpochOffset{Epoch: -1, Offset: n}
	}
	cl.SetOffsets(set)
	return cause
}

// backOff pauses fetching after a failed write (storage full or unavailable),
// rather than buffering records it cannot store, then resumes.
func (c *Consumer) backOff(ctx context.Context, cl *kgo.Client, err error) {
	c.m.errors.Inc()
	c.m.pauses.Inc()
	c.log.Warn("kafka batch not stored; pausing fetches", "err", err, "retry_in", writeRetryWait)
	cl.PauseFetchTopics(c.opts.Topics...)
	select {
	case <-ctx.Done():
	case <-time.After(writeRetryWait):
	}
	cl.ResumeFetchTopics(c.opts.Topics...)
}

// holdBack pauses fetching while storage is over its memory budget, so
// records wait in Kafka rather than in this process, and resumes once there
// is room.
func (c *Consumer) holdBack(ctx context.Context, cl *kgo.Client) {
	if !c.store.Overloaded() {
		return
	}
	c.m.pauses.Inc()
	cl.PauseFetchTopics(c.opts.Topics...)
	defer cl.ResumeFetchTopics(c.opts.Topics...)
	t := time.NewTicker(overloadPoll)
	defer t.Stop()
	for c.store.Overloaded() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// overloadPoll is how often a paused consumer looks for room: a flush of a
// 32 MiB head takes about a second, so 50 ms loses little throughput.
const overloadPoll = 50 * time.Millisecond

// writeRetryWait is the pause after a failed write: storage's own retries of a
// full disk run about once a second (see ingest's Retry-After).
const writeRetryWait = time.Second

func (c *Consumer) updateLag() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, st := range c.parts {
		if st.hwm >= 0 && st.next >= 0 {
			c.m.lag.WithLabelValues(k.topic, strconv.Itoa(int(k.partition))).Set(float64(st.hwm - st.next))
		}
	}
}

// Status is one owned partition as the status endpoint lists it.
type Status struct {
	Topic         string `json:"topic"`
	Partition     int32  `json:"partition"`
	StoredOffset  int64  `json:"stored_offset"`
	HighWatermark int64  `json:"high_watermark"`
	Lag           int64  `json:"lag"`
}

// Status lists the partitions this consumer owns.
func (c *Consumer) Status() []Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Status
	for k, st := range c.parts {
		s := Status{Topic: k.topic, Partition: k.partition, StoredOffset: st.next, HighWatermark: st.hwm, Lag: -1}
		if st.hwm >= 0 && st.next >= 0 {
			s.Lag = st.hwm - st.next
		}
		out = append(out, s)
	}
	return out
}
