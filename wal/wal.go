package wal

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configures a WAL. The zero value of every field except Dir is
// usable.
type Options struct {
	// Dir holds the segment files; it is created if missing.
	Dir string
	// SegmentSize is the size after which the log rolls to a new segment.
	// Default DefaultSegmentSize.
	SegmentSize int64
	// Logger receives repair warnings and write failures. Default slog.Default().
	Logger *slog.Logger
	// Registerer receives the strata_wal_* metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// NoSync skips every fsync. Writes are still group-committed. Only for
	// tests and benchmarks: a crash may lose acknowledged records.
	NoSync bool
	// MaxWait bounds how long Append waits for room in a queue stuck behind a
	// disk that does not answer; it then fails with ErrTimeout. Default 10 s.
	MaxWait time.Duration

	// create makes segment files; nil means createSegment. Tests set it to
	// inject write and fsync failures (the file-system seam).
	create createFunc
}

const (
	// DefaultSegmentSize keeps segments large enough that rolling (two extra
	// fsyncs) is rare at hundreds of MB/s, and small enough that a removed
	// segment returns disk space promptly after a head flush.
	DefaultSegmentSize = 64 << 20
	// maxQueuedBytes bounds memory held by records waiting for the disk: an
	// Append waits for the in-flight fsync once this much is queued behind it.
	// 128 MiB is hundreds of typical batches, so it only engages when the disk
	// is truly slower than ingest.
	maxQueuedBytes = 128 << 20
	// chunkSize is the unit of batch memory: a batch of the engine's
	// 100 KiB–1 MiB records fills one or a few chunks, so the writer issues few
	// large write calls, and chunks never move once handed out, which is what
	// lets Append copy outside the lock.
	chunkSize = 4 << 20
	// maxFreeChunks keeps enough chunks for the in-flight and the filling
	// batch at steady state without pinning a burst's worth (32 MiB).
	maxFreeChunks = 8
	// DefaultMaxWait is Options.MaxWait's default: long enough for a slow but
	// working disk, short enough that a client sees a retryable error before
	// its own timeout.
	DefaultMaxWait = 10 * time.Second
	// retryMin and retryMax bound the back-off between attempts to start a
	// fresh segment after a failure: a full disk is probed about once a second,
	// which is what makes writes succeed again soon after space is freed.
	retryMin = 50 * time.Millisecond
	retryMax = time.Second
)

var (
	// ErrClosed is returned by operations on a closed log.
	ErrClosed = errors.New("wal: closed")
	// ErrRecordTooLarge is returned by Append for records above MaxRecordSize.
	ErrRecordTooLarge = errors.New("wal: record too large")
	// ErrReplayAfterAppend is returned by Replay once Append has been called.
	ErrReplayAfterAppend = errors.New("wal: replay must happen before the first append")
	// ErrUnavailable marks every error of a log that cannot make records
	// durable right now: a write or fsync failed (a full disk, an I/O error)
	// and the log has not yet started a fresh segment, or the disk did not
	// answer in time. A record refused or failed with it was not acknowledged
	// and may be retried; the log recovers by itself.
	ErrUnavailable = errors.New("wal: unavailable")
	// ErrTimeout is returned, together with ErrUnavailable, by a wait that hit
	// its bound. The record may still become durable later.
	ErrTimeout = errors.New("timed out waiting for the disk")
)

// batch is the unit of group commit: the framed records appended between two
// writes, made durable by one fsync (or one per segment when it rolls).
//
// Space for a record is reserved under WAL.mu and filled after the lock is
// released, so concurrent writers copy in parallel and the writer goroutine
// never waits behind a large memcpy to take the lock; copying tracks the
// copies in progress, and the writer waits for it after sealing the batch.
type batch struct {
	chunks  [][]byte  // framed records; a record never spans chunks
	recs    []recSpan // where each record is, in append order
	size    int       // framed bytes in chunks
	copying sync.WaitGroup
	last    uint64 // highest sequence number in the batch; 0 for an empty rotate-only batch
	sealed  bool   // no more reservations: taken by the writer or closed by Rotate
	rotate  bool   // roll to a new segment after writing

	// Set by the writer before done is closed.
	newSeg SegmentID
	err    error
	done   chan struct{}
}

// seqRange is the sequence numbers (from, to] failed by one write failure.
type seqRange struct {
	from, to uint64
	err      error
}

// maxFailedRanges bounds the failure history WaitDurable consults; only a caller
// asking about a record many failures old is affected, and it gets an error.
const maxFailedRanges = 1024

// recSpan locates one framed record: chunks[chunk][start:end].
type recSpan struct{ chunk, start, end int }

// WAL is a segmented write-ahead log. All methods are safe for concurrent
// use, except that Replay must finish before the first Append.
type WAL struct {
	// Fields up to mu are set by Open and never changed.
	dir       string
	segSize   int64
	logger    *slog.Logger
	metrics   *metrics
	reg       prometheus.Registerer
	noSync    bool
	maxQueued int // maxQueuedBytes; tests lower it before the first Append
	maxWait   time.Duration
	create    createFunc
	wake      chan struct{} // capacity 1: a pending token means "look at the queue"
	exited    chan struct{} // closed when the writer goroutine returns

	// mu guards the queue and the sequence/durability state. It is never
	// held across I/O.
	mu       sync.Mutex
	queue    []*batch // FIFO of batches not yet durable; queue[0] is in flight while writing
	writing  bool
	queued   int    // bytes in queue excluding the in-flight batch
	lastSeq  uint64 // last sequence number handed out by Append
	durable  uint64 // every seq <= durable is written and synced
	err      error  // set from a write/fsync failure until a fresh segment is started
	failures uint64 // write/fsync failures so far, see Failures
	// failed lists the sequence ranges failed by write/fsync failures: durable
	// keeps growing after a recovery, so "seq <= durable" alone would call a
	// failed record durable. At most maxFailedRanges are kept; a seq at or below
	// forgotten is answered with ErrUnavailable (never falsely as durable).
	failed    []seqRange
	forgotten uint64
	damage    []Damage
	closing   bool
	appended  bool
	free      [][]byte // recycled chunks of capacity chunkSize

	// The active segment is owned by the writer goroutine (by Open before it
	// starts).
	cur     segmentFile // nil after a failure until recover starts a new one
	curID   SegmentID
	curSize int64
	synced  int64 // bytes of cur known durable: where a failed batch is cut off

	// segMu guards segs, the IDs of segment files on disk in order.
	segMu sync.Mutex
	segs  []SegmentID

	commits atomic.Int64 // write+fsync rounds; tests use it to see batching

	closeOnce sync.Once
	closeErr  error
}

// Open opens the log in opts.Dir, creating it if needed. It repairs a torn
// tail in the last segment (see the package comment) and starts a new segment
// for appends.
func Open(opts Options) (*WAL, error) {
	if opts.Dir == "" {
		return nil, errors.New("wal: Options.Dir is empty")
	}
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = DefaultSegmentSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = DefaultMaxWait
	}
	if opts.create == nil {
		opts.create = createSegment
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: create dir: %w", err)
	}
	m := newMetrics()
	ids, err := listSegments(opts.Dir)
	if err != nil {
		return nil, err
	}
	// A segment from a newer release must stop us before repair could
	// mistake its records for garbage.
	for _, id := range ids {
		if err := checkVersion(opts.Dir, id); err != nil {
			return nil, err
		}
	}
	next := SegmentID(1)
	if n := len(ids); n > 0 {
		if err := repairTail(opts.Dir, ids[n-1], opts.NoSync, opts.Logger, m); err != nil {
			return nil, err
		}
		next = ids[n-1] + 1
	}
	if err := m.register(opts.Registerer); err != nil {
		return nil, err
	}
	f, err := opts.create(opts.Dir, next, opts.NoSync)
	if err != nil {
		m.unregister(opts.Registerer)
		return nil, err
	}
	w := &WAL{
		dir:       opts.Dir,
		segSize:   opts.SegmentSize,
		logger:    opts.Logger,
		metrics:   m,
		reg:       opts.Registerer,
		noSync:    opts.NoSync,
		maxQueued: maxQueuedBytes,
		maxWait:   opts.MaxWait,
		create:    opts.create,
		wake:      make(chan struct{}, 1),
		exited:    make(chan struct{}),
		cur:       f,
		curID:     next,
		curSize:   segmentHeaderSize,
		synced:    segmentHeaderSize,
		segs:      append(ids, next),
	}
	m.segments.Set(float64(len(w.segs)))
	go w.run()
	return w, nil
}

// checkVersion fails only for a readable header with our magic and another
// version; any other damage is left to repair (last segment) or Replay.
func checkVersion(dir string, id SegmentID) error {
	f, err := os.Open(segmentPath(dir, id))
	if err != nil {
		return fmt.Errorf("wal: open segment %d: %w", id, err)
	}
	defer f.Close()
	var h [segmentHeaderSize]byte
	n, err := io.ReadFull(f, h[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("wal: read header of segment %d: %w", id, err)
	}
	if err := checkSegmentHeader(h[:n]); errors.Is(err, ErrUnsupportedVersion) {
		return fmt.Errorf("wal: segment %d: %w", id, err)
	}
	return nil
}

// repairTail truncates segment id after its last valid record if anything
// follows it, and fsyncs the result. A segment whose header itself is damaged
// is reset to an empty segment.
func repairTail(dir string, id SegmentID, noSync bool, logger *slog.Logger, m *metrics) error {
	f, err := os.OpenFile(segmentPath(dir, id), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("wal: open last segment %d: %w", id, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("wal: stat last segment %d: %w", id, err)
	}
	size := fi.Size()
	end, cause, err := scanValid(id, f, size)
	if err != nil || cause == nil {
		return err
	}
	if size-end <= maxSalvage {
		rest := make([]byte, size-end)
		if _, err := f.ReadAt(rest, end); err != nil {
			return fmt.Errorf("wal: read last segment %d: %w", id, err)
		}
		from := 1
		if end == 0 {
			from = segmentHeaderSize
		}
		if nextFrame(rest, from) >= 0 {
			// Valid records follow: bit rot, not a crash. Replay skips and
			// quarantines just the damage and keeps them.
			return nil
		}
		if _, err := writeQuarantine(dir, id, end, rest, noSync); err != nil {
			logger.Error("wal: could not quarantine torn tail", "segment", uint64(id), "offset", end, "err", err)
		}
	}
	if err := f.Truncate(end); err != nil {
		return fmt.Errorf("wal: truncate segment %d at %d: %w", id, end, err)
	}
	if end == 0 {
		if _, err := f.WriteAt(appendSegmentHeader(nil), 0); err != nil {
			return fmt.Errorf("wal: rewrite header of segment %d: %w", id, err)
		}
	}
	if !noSync {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("wal: sync repaired segment %d: %w", id, err)
		}
	}
	m.corruptions.Inc()
	logger.Warn("wal: truncated torn or corrupt tail of last segment",
		"segment", uint64(id), "offset", end, "dropped_bytes", size-end, "cause", cause)
	return nil
}

// scanValid returns the offset just past the last valid record of a segment
// and, if decoding stopped early, the corruption that stopped it.
func scanValid(id SegmentID, r io.Reader, size int64) (int64, *CorruptionError, error) {
	var ce *CorruptionError
	sr, err := newSegmentReader(id, r, size, &readBuffers{})
	if errors.As(err, &ce) {
		return 0, ce, nil
	}
	if err != nil {
		return 0, nil, err
	}
	for {
		_, _, err := sr.next()
		switch {
		case err == io.EOF:
			return sr.off, nil, nil
		case errors.As(err, &ce):
			return sr.off, ce, nil
		case err != nil:
			return 0, nil, err
		}
	}
}

// Replay calls fn for every record in segments >= from, in log order. rec is
// only valid during the call. Damage in any segment is returned as a
// *CorruptionError; an error from fn stops the replay and is returned as is.
func (w *WAL) Replay(from SegmentID, fn func(pos Position, rec []byte) error) error {
	w.mu.Lock()
	appended, closing := w.appended, w.closing
	w.mu.Unlock()
	if closing {
		return ErrClosed
	}
	if appended {
		return ErrReplayAfterAppend
	}
	ids := w.Segments()
	var bufs readBuffers
	// IDs start at 1 and only a prefix below from is ever removed, so a first
	// segment above max(from, 1) means the ones before it were lost.
	if first := max(from, 1); len(ids) > 0 && ids[0] > first {
		w.metrics.corruptions.Inc()
		w.mu.Lock()
		w.damage = append(w.damage, Damage{Segment: first, Cause: fmt.Sprintf("%v: segments %d to %d", ErrMissingSegment, first, ids[0]-1)})
		w.mu.Unlock()
		w.logger.Error("wal: segments missing; the records in them are lost", "first", uint64(first), "last", uint64(ids[0]-1))
	}
	for i, id := range ids {
		if id < from {
			continue
		}
		// RemoveBefore only ever deletes a prefix, so a hole inside the
		// requested range means lost records.
		if i > 0 && id != ids[i-1]+1 {
			missing := max(ids[i-1]+1, from)
			if missing < id {
				w.metrics.corruptions.Inc()
				w.mu.Lock()
				w.damage = append(w.damage, Damage{Segment: missing, Cause: fmt.Sprintf("%v: segments %d to %d", ErrMissingSegment, missing, id-1)})
				w.mu.Unlock()
				w.logger.Error("wal: segments missing; the records in them are lost",
					"first", uint64(missing), "last", uint64(id-1))
			}
		}
		if err := w.replaySegment(id, &bufs, fn); err != nil {
			return err
		}
	}
	return nil
}

func (w *WAL) replaySegment(id SegmentID, bufs *readBuffers, fn func(Position, []byte) error) error {
	f, err := os.Open(segmentPath(w.dir, id))
	if err != nil {
		return fmt.Errorf("wal: open segment %d: %w", id, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("wal: stat segment %d: %w", id, err)
	}
	var ce *CorruptionError
	sr, err := newSegmentReader(id, f, fi.Size(), bufs)
	if errors.As(err, &ce) {
		return w.salvage(id, f, fi.Size(), ce, fn)
	}
	if err != nil {
		return err
	}
	for {
		pos, rec, err := sr.next()
		if err == io.EOF {
			return nil
		}
		if errors.As(err, &ce) {
			return w.salvage(id, f, fi.Size(), ce, fn)
		}
		if err != nil {
			return err
		}
		if err := fn(pos, rec); err != nil {
			return err
		}
	}
}

// usableLocked reports why the log cannot take new work, if it cannot.
func (w *WAL) usableLocked() error {
	if w.err != nil {
		return w.err
	}
	if w.closing {
		return ErrClosed
	}
	return nil
}

// openBatchLocked returns the batch new records go into, starting one when
// the newest is sealed.
func (w *WAL) openBatchLocked() *batch {
	if n := len(w.queue); n > 0 && !w.queue[n-1].sealed {
		return w.queue[n-1]
	}
	b := &batch{done: make(chan struct{})}
	w.queue = append(w.queue, b)
	return b
}

// reserveLocked returns n bytes of b for one framed record.
func (w *WAL) reserveLocked(b *batch, n int) []byte {
	if k := len(b.chunks) - 1; k >= 0 {
		if c := b.chunks[k]; cap(c)-len(c) >= n {
			start := len(c)
			b.chunks[k] = c[:start+n]
			b.recs = append(b.recs, recSpan{k, start, start + n})
			b.size += n
			return b.chunks[k][start:]
		}
	}
	var c []byte
	switch {
	case n > chunkSize:
		c = make([]byte, n) // a huge record gets its own, not recycled
	case len(w.free) > 0:
		c = w.free[len(w.free)-1][:n]
		w.free = w.free[:len(w.free)-1]
	default:
		c = make([]byte, n, chunkSize)
	}
	b.chunks = append(b.chunks, c)
	b.recs = append(b.recs, recSpan{len(b.chunks) - 1, 0, n})
	b.size += n
	return c
}

func (w *WAL) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Append queues a copy of rec and returns its sequence number. Sequence
// numbers start at 1 for each Open and follow the order of Append calls,
// which is also the order on disk. Append does not wait for the disk unless
// maxQueuedBytes are already waiting behind an in-flight write.
func (w *WAL) Append(rec []byte) (uint64, error) {
	if len(rec) > MaxRecordSize {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrRecordTooLarge, len(rec), MaxRecordSize)
	}
	// Checksum and copy happen outside the lock; writers only serialize on
	// reserving space.
	hdr := recordHeader(rec)
	w.mu.Lock()
	var timeout <-chan time.Time
	for w.queued >= w.maxQueued && w.writing && w.usableLocked() == nil {
		inflight := w.queue[0]
		w.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(w.maxWait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-inflight.done:
		case <-timeout:
			return 0, fmt.Errorf("%w: %w: %v with %d bytes queued", ErrUnavailable, ErrTimeout, w.maxWait, w.maxQueued)
		}
		w.mu.Lock()
	}
	if err := w.usableLocked(); err != nil {
		w.mu.Unlock()
		return 0, err
	}
	n := recordHeaderSize + len(rec)
	b := w.openBatchLocked()
	dst := w.reserveLocked(b, n)
	b.copying.Add(1)
	w.lastSeq++
	seq := w.lastSeq
	b.last = seq
	w.queued += n
	w.appended = true
	w.mu.Unlock()
	copy(dst, hdr[:])
	copy(dst[recordHeaderSize:], rec)
	b.copying.Done()
	w.signal()
	return seq, nil
}

// WaitDurable blocks until record seq and every record before it are written
// and fsynced, or returns the error that failed the batch holding it.
func (w *WAL) WaitDurable(seq uint64) error { return w.WaitDurableTimeout(seq, 0) }

// WaitDurableTimeout is WaitDurable waiting at most d (no bound if d <= 0); on
// timeout it returns an error matching ErrUnavailable and ErrTimeout.
func (w *WAL) WaitDurableTimeout(seq uint64, d time.Duration) error {
	w.mu.Lock()
	if err := w.failedLocked(seq); err != nil {
		w.mu.Unlock()
		return err
	}
	if seq <= w.durable {
		w.mu.Unlock()
		return nil
	}
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
	}
	if seq > w.lastSeq {
		last := w.lastSeq
		w.mu.Unlock()
		return fmt.Errorf("wal: wait for sequence %d, but only %d were appended", seq, last)
	}
	var b *batch
	for _, q := range w.queue {
		if q.last >= seq {
			b = q
			break
		}
	}
	w.mu.Unlock()
	if b == nil {
		// Unreachable while the invariants hold: every appended, non-durable
		// record sits in a queued batch until it is durable or failed.
		return fmt.Errorf("wal: sequence %d is neither durable nor queued", seq)
	}
	if d <= 0 {
		<-b.done
		return b.err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-b.done:
		return b.err
	case <-t.C:
		return fmt.Errorf("%w: %w: record %d not durable after %v", ErrUnavailable, ErrTimeout, seq, d)
	}
}

// failedLocked returns the error that failed record seq, if one did.
func (w *WAL) failedLocked(seq uint64) error {
	if seq <= w.forgotten {
		return fmt.Errorf("%w: record %d predates the failures this log remembers", ErrUnavailable, seq)
	}
	for _, r := range w.failed {
		if seq > r.from && seq <= r.to {
			return r.err
		}
	}
	return nil
}

// Err returns why the log refuses records right now (matching ErrUnavailable),
// or nil when it takes them. It is what a health check reports.
func (w *WAL) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Failures counts the write and fsync failures since Open. A caller that
// keeps state derived from records (the engine's catalog) compares it before
// and after a write to learn that records appended around it may be lost.
func (w *WAL) Failures() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failures
}

// Write appends rec and waits until it is durable.
func (w *WAL) Write(rec []byte) error {
	seq, err := w.Append(rec)
	if err != nil {
		return err
	}
	return w.WaitDurable(seq)
}

// Rotate makes every record appended before it durable, closes the active
// segment and starts a new one whose ID it returns: records appended before
// Rotate are in segments below that ID, records appended after in segments at
// or above it. If the active segment holds no records yet it is kept and its
// ID returned, which satisfies the same contract without an empty file.
func (w *WAL) Rotate() (SegmentID, error) {
	w.mu.Lock()
	if err := w.usableLocked(); err != nil {
		w.mu.Unlock()
		return 0, err
	}
	b := w.openBatchLocked()
	b.sealed, b.rotate = true, true
	w.mu.Unlock()
	w.signal()
	<-b.done
	if b.err != nil {
		return 0, b.err
	}
	return b.newSeg, nil
}

// RemoveBefore deletes the segment files with ID < id and syncs the
// directory. It refuses an id beyond the active segment, which would delete
// records that are not yet anywhere else.
func (w *WAL) RemoveBefore(id SegmentID) error {
	w.segMu.Lock()
	defer w.segMu.Unlock()
	if active := w.segs[len(w.segs)-1]; id > active {
		return fmt.Errorf("wal: remove before %d: active segment is %d", id, active)
	}
	n := 0
	for _, s := range w.segs {
		if s >= id {
			break
		}
		if err := os.Remove(segmentPath(w.dir, s)); err != nil && !errors.Is(err, os.ErrNotExist) {
			w.segs = w.segs[n:]
			w.metrics.segments.Set(float64(len(w.segs)))
			return fmt.Errorf("wal: remove segment %d: %w", s, err)
		}
		n++
	}
	if n == 0 {
		return nil
	}
	w.segs = slices.Delete(w.segs, 0, n)
	w.metrics.segments.Set(float64(len(w.segs)))
	if w.noSync {
		return nil
	}
	return syncDir(w.dir)
}

// Segments returns the IDs of the segment files on disk, ascending.
func (w *WAL) Segments() []SegmentID {
	w.segMu.Lock()
	defer w.segMu.Unlock()
	return slices.Clone(w.segs)
}

// Close makes everything queued durable, stops the writer and closes the
// active segment, and returns the same result on every call. A log that is
// unavailable closes cleanly: the failure was already reported to every
// record it failed, and what was acknowledged is on disk.
func (w *WAL) Close() error {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		w.closing = true
		w.mu.Unlock()
		w.signal()
		<-w.exited
		var err error
		if w.cur != nil {
			if cerr := w.cur.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("wal: close segment %d: %w", w.curID, cerr)
			}
			w.cur = nil
		}
		w.metrics.unregister(w.reg)
		w.closeErr = err
	})
	return w.closeErr
}

// run is the writer goroutine: it takes the oldest queued batch, makes it
// durable and wakes its waiters, until Close drains the queue or a write
// fails.
func (w *WAL) run() {
	defer close(w.exited)
	for {
		w.mu.Lock()
		for len(w.queue) == 0 {
			if w.closing {
				w.mu.Unlock()
				return
			}
			w.mu.Unlock()
			<-w.wake
			w.mu.Lock()
		}
		b := w.queue[0]
		b.sealed = true
		w.writing = true
		w.queued -= b.size
		w.mu.Unlock()

		err := w.writeBatch(b)

		w.mu.Lock()
		w.writing = false
		w.queue[0] = nil
		w.queue = w.queue[1:]
		if err != nil {
			// The kernel may have dropped the dirty pages already, so retrying
			// the fsync could "succeed" without the data: nothing unsynced in
			// this segment can ever be acknowledged. Fail every queued record,
			// abandon the segment and start a fresh one once the disk lets us.
			uerr := fmt.Errorf("%w: %w", ErrUnavailable, err)
			w.err = uerr
			w.failures++
			if len(w.failed) == maxFailedRanges {
				w.forgotten = w.failed[0].to
				w.failed = w.failed[1:]
			}
			w.failed = append(w.failed, seqRange{from: w.durable, to: w.lastSeq, err: uerr})
			b.err = uerr
			close(b.done)
			for _, q := range w.queue {
				q.err = uerr
				close(q.done)
			}
			w.queue, w.queued = nil, 0
			w.mu.Unlock()
			w.metrics.writeFailures.Inc()
			w.metrics.unavailable.Set(1)
			w.logger.Error("wal: write failed; refusing records until a fresh segment can be started",
				"segment", uint64(w.curID), "err", err)
			w.abandon()
			if !w.recover() {
				return
			}
			continue
		}
		if b.last > w.durable {
			w.durable = b.last
		}
		for _, c := range b.chunks {
			if cap(c) == chunkSize && len(w.free) < maxFreeChunks {
				w.free = append(w.free, c[:0])
			}
		}
		b.chunks, b.recs = nil, nil
		close(b.done)
		w.mu.Unlock()
	}
}

// writeBatch writes b to the active segment, rolling to a new segment before
// a record that would push the active one past SegmentSize (a record larger
// than SegmentSize gets a segment of its own). Records never straddle
// segments. Records adjacent in one chunk go out in one write call, and each
// segment touched gets one fsync.
func (w *WAL) writeBatch(b *batch) error {
	b.copying.Wait()
	var (
		run      []byte // unwritten records, contiguous in chunk runChunk
		runChunk = -1
		runStart int
		recs     int // records written since the last fsync
		unsynced int // bytes written since the last fsync
	)
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		if _, err := w.cur.Write(run); err != nil {
			return fmt.Errorf("wal: write segment %d: %w", w.curID, err)
		}
		w.curSize += int64(len(run))
		unsynced += len(run)
		run = nil
		return nil
	}
	syncSeg := func() error {
		if err := flush(); err != nil || recs == 0 {
			return err
		}
		if err := w.sync(recs, unsynced); err != nil {
			return err
		}
		recs, unsynced = 0, 0
		return nil
	}
	for _, r := range b.recs {
		size := w.curSize + int64(len(run))
		if size > segmentHeaderSize && size+int64(r.end-r.start) > w.segSize {
			if err := syncSeg(); err != nil {
				return err
			}
			if err := w.roll(); err != nil {
				return err
			}
		}
		if len(run) > 0 && r.chunk == runChunk && r.start == runStart+len(run) {
			run = b.chunks[r.chunk][runStart:r.end]
		} else {
			if err := flush(); err != nil {
				return err
			}
			run, runChunk, runStart = b.chunks[r.chunk][r.start:r.end], r.chunk, r.start
		}
		recs++
	}
	if err := syncSeg(); err != nil {
		return err
	}
	if b.rotate {
		if w.curSize > segmentHeaderSize {
			if err := w.roll(); err != nil {
				return err
			}
		}
		b.newSeg = w.curID
	}
	return nil
}

// abandon cuts the failed batch off the active segment (best effort: replay
// skips a torn tail anyway) and closes it; it is never written again.
func (w *WAL) abandon() {
	if w.cur == nil {
		return
	}
	if err := w.cur.Truncate(w.synced); err != nil {
		w.logger.Warn("wal: could not cut the failed batch off the segment; replay will skip it",
			"segment", uint64(w.curID), "offset", w.synced, "err", err)
	} else if !w.noSync {
		_ = w.cur.Sync() // durability of the cut does not matter: see above
	}
	_ = w.cur.Close()
	w.cur = nil
}

// recover starts a fresh segment after a failure, retrying with back-off
// until it succeeds (true) or the log is closed (false). Only then are records
// accepted again, so none is ever acknowledged on a segment whose fsync failed.
func (w *WAL) recover() bool {
	backoff := retryMin
	for {
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-w.wake:
			t.Stop()
		}
		w.mu.Lock()
		closing := w.closing
		w.mu.Unlock()
		if closing {
			return false
		}
		id := w.curID + 1
		f, err := w.create(w.dir, id, w.noSync)
		if err != nil {
			w.logger.Debug("wal: fresh segment not started yet", "segment", uint64(id), "err", err)
			backoff = min(2*backoff, retryMax)
			continue
		}
		w.cur, w.curID, w.curSize, w.synced = f, id, segmentHeaderSize, segmentHeaderSize
		w.segMu.Lock()
		w.segs = append(w.segs, id)
		w.metrics.segments.Set(float64(len(w.segs)))
		w.segMu.Unlock()
		w.mu.Lock()
		w.err = nil
		w.mu.Unlock()
		w.metrics.unavailable.Set(0)
		w.logger.Info("wal: recovered; taking records again", "segment", uint64(id))
		return true
	}
}

// sync makes the active segment durable after recs records of n bytes were
// written to it.
func (w *WAL) sync(recs, n int) error {
	w.metrics.bytesWritten.Add(float64(n))
	if !w.noSync {
		start := time.Now()
		err := w.cur.Sync()
		w.metrics.fsyncDuration.Observe(time.Since(start).Seconds())
		if err != nil {
			return fmt.Errorf("wal: fsync segment %d: %w", w.curID, err)
		}
	}
	w.synced = w.curSize
	w.commits.Add(1)
	w.metrics.batchRecords.Observe(float64(recs))
	w.metrics.batchBytes.Observe(float64(n))
	return nil
}

// roll closes the active segment, whose data writeSync has already made
// durable, and creates the next one.
func (w *WAL) roll() error {
	err := w.cur.Close()
	w.cur = nil
	if err != nil {
		return fmt.Errorf("wal: close segment %d: %w", w.curID, err)
	}
	f, err := w.create(w.dir, w.curID+1, w.noSync)
	if err != nil {
		return err
	}
	w.cur, w.curID, w.curSize, w.synced = f, w.curID+1, segmentHeaderSize, segmentHeaderSize
	w.segMu.Lock()
	w.segs = append(w.segs, w.curID)
	w.metrics.segments.Set(float64(len(w.segs)))
	w.segMu.Unlock()
	return nil
}
