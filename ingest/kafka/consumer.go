package kafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

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
	// Flush makes everything applied so far durable, points and offsets
	// together (see checkpoint).
	Flush() error
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
	// dirty is set when a write failed: see checkpoint. Poll loop only.
	dirty bool
	// joined is set by the group's first assignment to this member.
	joined atomic.Bool
}

type tp struct {
	topic     string
	partition int32
}

// partState is what the consumer knows of a partition it owns.
type partState struct {
	topic     string
	partition int32
	stored    int64 // the next offset storage holds (-1: none)
	next      int64 // the next offset to consume: stored, or past the batch being built
	first     int64 // with nothing stored: the first offset consumed, where a rewind goes
	// floor is the offset the group's commit named when it was past the
	// stored one (another node of the group stored the records below it),
	// -1 otherwise: this member never consumes below it (see adjustOffsets).
	floor    int64
	dlStored int64 // the next offset whose dead letters are not yet kept (-1: none)
	hwm      int64 // the high watermark last seen, for the lag
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
		lines: ingest.NewLineWriter(0),
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
		kgo.OnPartitionsLost(c.lost),
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
	watch, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go c.watchQuietPartitions(watch, cl)
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
			var conflict *storage.OffsetConflictError
			if errors.As(err, &conflict) {
				// Another member stored this partition meanwhile (the group
				// expired us while we wrote): resume from what it stored.
				c.m.conflicts.Inc()
				c.log.Warn("kafka batch refused: the partition's stored offset moved; resuming from it", "err", err)
			} else {
				c.backOff(ctx, cl, err)
			}
		}
		if time.Since(lastCommit) >= advisoryCommitInterval {
			// Advisory, for lag tooling: Strata resumes from its own offsets.
			// Before AllowRebalance, so only owned partitions are committed.
			c.commitStored(ctx, cl, nil)
			lastCommit = time.Now()
		}
		cl.AllowRebalance()
	}
	return nil
}

// advisoryCommitInterval: commits to Kafka feed lag tooling and tell the next
// owner of a partition where this member's data ends, which revoked commits
// exactly; one every few seconds is plenty and costs nothing measurable.
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
	c.joined.Store(true)
	c.log.Info("kafka partitions assigned", "partitions", a)
}

// adjustOffsets replaces the offsets the group committed by the ones storage
// holds: the position of the last durable batch. A commit past the stored
// offset means another node (its own data directory) of the group stored the
// records up to it, since members commit only what they stored: this member
// starts there, so each record is stored by one node of the group.
func (c *Consumer) adjustOffsets(_ context.Context, offs map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for topic, ps := range offs {
		stored := c.store.SourceOffsets(c.stream(topic))
		dl := c.store.SourceOffsets(c.dlStream(topic))
		for p, committed := range ps {
			st := &partState{topic: topic, partition: p, stored: lookup(stored, p), first: -1, floor: -1, dlStored: lookup(dl, p), hwm: -1}
			st.next = st.stored
			if at := committed.EpochOffset().Offset; at >= 0 && at > st.stored {
				st.floor, st.next = at, at
				c.log.Info("kafka partition resumes past its stored offset, where the group's commit names", "topic", topic, "partition", p, "stored_offset", st.stored, "committed_offset", at)
			} else if st.stored >= 0 {
				ps[p] = kgo.NewOffset().At(st.stored).WithEpoch(-1)
			}
			c.parts[tp{topic, p}] = st
			c.log.Info("kafka partition resumes", "topic", topic, "partition", p, "stored_offset", st.stored)
		}
	}
	return offs, nil
}

// revoked commits the stored offsets of the partitions another member takes,
// so it starts where this member's data ends, then forgets them. Their last
// batch is durable already, since rebalances wait for the poll loop.
func (c *Consumer) revoked(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
	c.commitStored(ctx, cl, r)
	c.lost(ctx, cl, r)
}

// commitStored commits the stored offsets of the owned partitions (of only
// those in r, when r is not nil): never more than this member stored, so a
// commit past another member's stored offset is always data this one holds.
func (c *Consumer) commitStored(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
	c.mu.Lock()
	set := make(map[string]map[int32]kgo.EpochOffset)
	for k, st := range c.parts {
		if r != nil && !slices.Contains(r[k.topic], k.partition) {
			continue
		}
		if at := st.pos(); at >= 0 {
			if set[k.topic] == nil {
				set[k.topic] = make(map[int32]kgo.EpochOffset)
			}
			set[k.topic][k.partition] = kgo.EpochOffset{Epoch: -1, Offset: at}
		}
	}
	c.mu.Unlock()
	if len(set) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	cl.CommitOffsetsSync(ctx, set, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err == nil {
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if err = kerr.ErrorForCode(p.ErrorCode); err != nil {
						break
					}
				}
			}
		}
		if err != nil {
			c.m.errors.Inc()
			c.log.Warn("kafka offset commit", "partitions", set, "err", err)
		}
	})
}

// commitTimeout bounds a commit of stored offsets: a revoked partition's
// next owner waits for it, and a broker that does not answer in 10 s is
// down (the next owner then starts at the previous commit).
const commitTimeout = 10 * time.Second

// pos is where this member's data of the partition ends: the stored offset,
// or the floor it started from if nothing was stored past it.
func (st *partState) pos() int64 { return max(st.stored, st.floor) }

// lost forgets partitions this member no longer owns, without a commit (the
// group has fenced it, or revoked already committed).
func (c *Consumer) lost(_ context.Context, _ *kgo.Client, r map[string][]int32) {
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

// process writes the records of one poll, in batches of at most
// maxBatchBytes, each with the offsets it reaches and after its dead letters.
func (c *Consumer) process(cl *kgo.Client, fetches kgo.Fetches) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkpoint(); err != nil {
		return c.rewindLocked(cl, err)
	}
	var parts []*partState
	var fps []kgo.FetchTopicPartition
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if st := c.parts[tp{fp.Topic, fp.Partition}]; st != nil {
			st.hwm = fp.HighWatermark
			parts, fps = append(parts, st), append(fps, fp)
		}
	})
	ch := &chunk{}
	defer ch.release()
	for i, st := range parts {
		for _, r := range fps[i].Records {
			if r.Offset < st.next {
				c.m.duplicates.Inc()
				continue // stored already: a duplicate delivery
			}
			if db, rp := c.target(r); ch.batch != nil && (db != ch.db || rp != ch.rp) {
				// One batch writes into one bucket: a record for another
				// (a continuous query's rollup, TargetHeaders) ends the chunk.
				if err := c.commit(ch); err != nil {
					return c.rewindLocked(cl, err)
				}
			}
			if err := c.add(ch, st, r); err != nil {
				return c.rewindLocked(cl, err)
			}
			if ch.bytes >= maxBatchBytes {
				if err := c.commit(ch); err != nil {
					return c.rewindLocked(cl, err)
				}
			}
		}
	}
	if err := c.commit(ch); err != nil {
		return c.rewindLocked(cl, err)
	}
	c.updateLagLocked()
	return nil
}

// checkpoint runs after a failed write, before the next one. A write that
// failed waiting for its fsync was applied (points in memory, offsets moved)
// but its WAL record is gone, while the next batch's record would be durable:
// a crash then would replay the later offsets without the failed batch's
// points. A successful flush makes what was applied durable in Pebble, points
// and offsets together; until one succeeds nothing more is written, so a
// crash replays the offsets from before the failed batch.
func (c *Consumer) checkpoint() error {
	if !c.dirty {
		return nil
	}
	if err := c.store.Flush(); err != nil {
		return fmt.Errorf("checkpoint after a failed write: %w", err)
	}
	c.dirty = false
	return nil
}

// maxBatchBytes bounds the record bytes of one batch: a poll of 10,000
// 50-line TSBS records is about 3.6 MB, and 16 MiB keeps a batch's WAL record
// far below the WAL's 64 MiB limit whatever the records' sizes.
const maxBatchBytes = 16 << 20

// The headers of a record whose lines go into another database or retention
// policy than the consumer's: a node set's continuous query runner publishes
// its rollups so (services/cq). Either may be absent: the consumer's
// --kafka-database, or the database's default policy.
const (
	HeaderDatabase = "strata-database"
	HeaderRP       = "strata-rp"
)

// target is the database and policy r's lines go into.
func (c *Consumer) target(r *kgo.Record) (db, rp string) {
	db, rp = c.opts.Database, c.opts.RP
	for _, h := range r.Headers {
		switch h.Key {
		case HeaderDatabase:
			db = string(h.Value)
		case HeaderRP:
			rp = string(h.Value)
		}
	}
	return db, rp
}

// chunk is the batch being built from one poll's records.
type chunk struct {
	db, rp  string // the batch's bucket
	batch   *storage.Batch
	touched []*partState // partitions with records in the batch, once each
	letters []deadletter.Letter
	dlParts []*partState // partitions with letters in the batch, once each
	missing error        // the bucket of db, rp does not exist: the lines are letters
	records int
	bytes   int
}

func (ch *chunk) release() {
	if ch.batch != nil {
		ch.batch.Release()
	}
	*ch = chunk{touched: ch.touched[:0], letters: ch.letters[:0], dlParts: ch.dlParts[:0]}
}

// add parses record r of partition st into the chunk's batch.
func (c *Consumer) add(ch *chunk, st *partState, r *kgo.Record) error {
	db, rp := c.target(r)
	var missing error // a header names a bucket that does not exist here
	if ch.batch == nil {
		bucket, err := c.store.Bucket(db, rp)
		if err != nil && (db != c.opts.Database || rp != c.opts.RP) {
			// The record's lines become dead letters (kept, with the reason),
			// in a batch of the consumer's own bucket that only moves offsets.
			missing = err
			bucket, err = c.store.Bucket(c.opts.Database, c.opts.RP)
		}
		if err != nil {
			return err
		}
		if ch.batch, err = c.store.NewBatch(bucket); err != nil {
			return err
		}
		ch.db, ch.rp = db, rp
	}
	if len(ch.touched) == 0 || ch.touched[len(ch.touched)-1] != st {
		ch.touched = append(ch.touched, st)
	}
	if st.stored < 0 && st.first < 0 {
		st.first = r.Offset
	}
	keepLetters := r.Offset >= st.dlStored
	now := time.Now()
	letter := func(line []byte, err error, _ bool) {
		if !keepLetters || c.letters == nil {
			return
		}
		l := ingest.Letter("kafka", db, rp, line, err, now)
		l.Origin = st.topic + "/" + strconv.Itoa(int(st.partition)) + "@" + strconv.FormatInt(r.Offset, 10)
		ch.letters = append(ch.letters, l)
		if len(ch.dlParts) == 0 || ch.dlParts[len(ch.dlParts)-1] != st {
			ch.dlParts = append(ch.dlParts, st)
		}
	}
	if missing == nil && ch.missing != nil {
		missing = ch.missing
	}
	if missing != nil {
		ch.missing = missing
		for _, line := range bytes.Split(r.Value, []byte("\n")) {
			if line = bytes.TrimSpace(line); len(line) > 0 && line[0] != '#' {
				letter(line, missing, false)
			}
		}
	} else {
		c.lines.AddLines(ch.batch, r.Value, c.opts.Precision, now.UnixNano(), letter)
	}
	st.next = r.Offset + 1
	ch.records++
	ch.bytes += len(r.Value)
	return nil
}

// commit keeps the chunk's dead letters, then writes its batch with the
// offsets it reaches, each continuing from the stored ones; then it starts
// the chunk afresh.
func (c *Consumer) commit(ch *chunk) error {
	defer ch.release()
	if len(ch.touched) == 0 {
		return nil
	}
	if len(ch.letters) > 0 {
		dl := make([]storage.SourceOffset, 0, len(ch.dlParts))
		for _, st := range ch.dlParts {
			dl = append(dl, storage.SourceOffset{Stream: c.dlStream(st.topic), Partition: st.partition, Next: st.next, Prev: st.dlStored})
		}
		if err := c.letters.Keep(ch.letters, dl); err != nil {
			return fmt.Errorf("dead letters: %w", err)
		}
		for _, st := range ch.dlParts {
			st.dlStored = st.next
		}
	}
	offs := make([]storage.SourceOffset, 0, len(ch.touched))
	for _, st := range ch.touched {
		offs = append(offs, storage.SourceOffset{Stream: c.stream(st.topic), Partition: st.partition, Next: st.next, Prev: st.stored})
	}
	ch.batch.SetOffsets(offs)
	res, err := c.store.Write(ch.batch)
	if err != nil {
		return err
	}
	for _, st := range ch.touched {
		st.stored = st.next
	}
	c.m.records.Add(float64(ch.records))
	c.m.bytes.Add(float64(ch.bytes))
	c.m.points.Add(float64(res.Written))
	c.m.rejected.Add(float64(res.Rejected))
	return nil
}

// rewindLocked moves every owned partition back to the offsets storage holds
// after a failed write (or one refused because another member moved them),
// so the records not stored are consumed again, exactly once. The caller
// holds c.mu.
func (c *Consumer) rewindLocked(cl *kgo.Client, cause error) error {
	var conflict *storage.OffsetConflictError
	if !errors.As(cause, &conflict) {
		c.dirty = true // the failed write may be applied but not durable
	}
	set := make(map[string]map[int32]kgo.EpochOffset)
	stored := make(map[string]map[int32]int64)
	dl := make(map[string]map[int32]int64)
	for k, st := range c.parts {
		if _, ok := stored[k.topic]; !ok {
			stored[k.topic] = c.store.SourceOffsets(c.stream(k.topic))
			dl[k.topic] = c.store.SourceOffsets(c.dlStream(k.topic))
		}
		st.stored, st.dlStored = lookup(stored[k.topic], k.partition), lookup(dl[k.topic], k.partition)
		n := st.pos()
		if n < 0 {
			n = st.first // nothing stored yet: back to where this member began
		}
		st.next = st.pos()
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

func lookup(m map[int32]int64, p int32) int64 {
	if n, ok := m[p]; ok {
		return n
	}
	return -1
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

func (c *Consumer) updateLagLocked() {
	for k, st := range c.parts {
		if l := st.lag(); l >= 0 {
			c.m.lag.WithLabelValues(k.topic, strconv.Itoa(int(k.partition))).Set(float64(l))
		}
	}
}

// lag is the records of the partition not yet stored, -1 while its high
// watermark is unknown. With nothing stored it counts from offset 0 (an
// upper bound when retention has removed the partition's start).
func (st *partState) lag() int64 {
	if st.hwm < 0 {
		return -1
	}
	return max(0, st.hwm-max(st.pos(), 0))
}

// watchQuietPartitions asks the brokers for the high watermark of owned
// partitions no fetch has reported one for: a fetch reports partitions with
// records only, so without this an empty partition's lag would stay unknown
// and /ready would never pass.
func (c *Consumer) watchQuietPartitions(ctx context.Context, cl *kgo.Client) {
	t := time.NewTicker(quietPartitionCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		req := kmsg.NewPtrListOffsetsRequest()
		req.ReplicaID = -1
		req.IsolationLevel = 1 // read committed, as the fetches
		c.mu.Lock()
		byTopic := map[string]*kmsg.ListOffsetsRequestTopic{}
		for k, st := range c.parts {
			if st.hwm >= 0 {
				continue
			}
			rt := byTopic[k.topic]
			if rt == nil {
				nt := kmsg.NewListOffsetsRequestTopic()
				nt.Topic = k.topic
				rt = &nt
				byTopic[k.topic] = rt
			}
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = k.partition, -1, -1 // -1: the end
			rt.Partitions = append(rt.Partitions, rp)
		}
		c.mu.Unlock()
		if len(byTopic) == 0 {
			continue
		}
		for _, rt := range byTopic {
			req.Topics = append(req.Topics, *rt)
		}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			continue // the next tick asks again
		}
		c.mu.Lock()
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				if st := c.parts[tp{rt.Topic, rp.Partition}]; st != nil && st.hwm < 0 && rp.ErrorCode == 0 {
					st.hwm = rp.Offset
				}
			}
		}
		c.updateLagLocked()
		c.mu.Unlock()
	}
}

// quietPartitionCheck: a second is the readiness probe's resolution, and one
// ListOffsets request a second per member is nothing to a broker.
const quietPartitionCheck = time.Second

// Status is one owned partition as the status endpoint lists it.
type Status struct {
	Topic         string `json:"topic"`
	Partition     int32  `json:"partition"`
	StoredOffset  int64  `json:"stored_offset"`
	HighWatermark int64  `json:"high_watermark"`
	Lag           int64  `json:"lag"`
}

// Joined reports whether the group has assigned this member partitions at
// least once (a member of a group with fewer partitions than members may
// never be).
func (c *Consumer) Joined() bool { return c.joined.Load() }

// Status lists the partitions this consumer owns.
func (c *Consumer) Status() []Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Status
	for k, st := range c.parts {
		s := Status{Topic: k.topic, Partition: k.partition, StoredOffset: st.stored, HighWatermark: st.hwm, Lag: st.lag()}
		out = append(out, s)
	}
	return out
}
