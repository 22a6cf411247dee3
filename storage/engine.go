package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-db/strata/storage/block"
	"github.com/strata-db/strata/wal"
)

// Options configure an Engine. Zero values take the defaults documented per field.
type Options struct {
	// Dir holds the Pebble store (Dir/index) and the WAL (Dir/wal).
	Dir string
	// HeadMaxBytes starts a flush when the head's estimated size passes it; writers
	// wait when it passes twice that while a flush is running. Default 32 MiB:
	// measured on TSBS cpu (100 hosts, 24 h, strata bench), 128 MiB gave 8.5 M
	// values/s at 390 MB peak RSS and 32 MiB 6.7 M values/s at 245 MB; block
	// merging keeps bytes on disk the same.
	HeadMaxBytes int64
	// FlushInterval flushes a non-empty head at least this often, bounding the WAL
	// replayed after a crash. Default 10 minutes.
	FlushInterval time.Duration
	// MaxSeriesPerDatabase rejects points that would create more series. Default
	// 1,000,000 (InfluxDB's default); negative means no limit.
	MaxSeriesPerDatabase int
	// MaxSeries rejects points that would create more series in all
	// databases together: six databases each under the per-database limit
	// reached 4 GB (issue 10). 0 or negative: no limit.
	MaxSeries int
	// NoRetentionAutoCreate makes CreateDatabase without a policy create the
	// database with none (InfluxDB's meta.retention-autocreate = false): writes
	// then need a policy created first. The default creates "autogen".
	NoRetentionAutoCreate bool
	// WALSegmentSize is the WAL's segment size. Default: the wal package's.
	WALSegmentSize int64
	// AfterFlush, if set, is called (in the flushing goroutine) after each
	// successful flush; package compaction uses it to merge the new blocks.
	AfterFlush func()
	// NoSync skips the WAL's fsyncs. Only for tests and benchmarks that measure
	// something else: acknowledged writes then survive a process crash but not a
	// power loss.
	NoSync bool
	// WriteTimeout bounds how long a write waits for the disk (the WAL fsync, a
	// stalled flush) before it fails with ErrUnavailable. Default 10 s.
	WriteTimeout time.Duration
	// SeriesCacheBytes and PostingsCacheBytes are the budgets of the tag index's
	// caches (index_cache.go). Defaults DefaultSeriesCacheBytes and
	// DefaultPostingsCacheBytes.
	SeriesCacheBytes   int64
	PostingsCacheBytes int64
	// MarksCacheBytes is the budget of the cache of block marks, the decoding
	// states that let a range read start in a block's middle (marks.go).
	// Default DefaultMarksCacheBytes.
	MarksCacheBytes int64
	Logger          *slog.Logger
	Registerer      prometheus.Registerer
	// Observers are told what every write, delete and series drop touched,
	// including those replayed from the WAL at Open (touch.go).
	Observers []TouchObserver
}

// maxBlockPoints caps the points of one block, and partitions are split into
// equal blocks under it. Larger blocks compress better and cost fewer keys;
// smaller ones make a narrow time-range read decode less. Measured on TSBS cpu,
// 100 hosts x 24 h (strata bench against strata serve): one block per day
// (16,384) gave 0.998 bytes/value but one-hour windows decoded the other 23 hours;
// 4,096 (three 2,880-point blocks a day) 1.033 bytes/value; 8,192 (two 4,320-point
// blocks) 1.018 with query latencies within noise of 4,096. go test
// ./storage/block -bench . puts 1,000 points at 1.08 and 2,000 at 1.03.
const maxBlockPoints = 8192

// flushBatchBytes is how much block data a flush puts in one Pebble batch: large
// enough to amortise the commit, small enough not to hold much memory twice.
const flushBatchBytes = 8 << 20

// Engine is the storage engine of one server.
//
// Lock order: flushMu, commitMu, catMu, head.mu. commitMu serialises the part of a
// write that must be in WAL order (series creation, WAL append, head apply); parsing
// and validation happen before it, the fsync wait after it.
type Engine struct {
	opts   Options
	log    *slog.Logger
	pebble *pebble.DB
	wal    *wal.WAL
	m      *metrics

	flushMu sync.Mutex // one flush (or drop) at a time

	commitMu  sync.Mutex
	flushCond *sync.Cond   // on commitMu: signalled when a flush finishes
	headsMu   sync.RWMutex // guards active and flushing for readers; writers of them also hold commitMu
	active    *head        // the head taking writes; its contents are guarded by head.mu
	flushing  *head        // the head being flushed, or nil
	closed    bool
	flushSeq  uint64
	blockMax  blockMax // the latest time a stored block may hold
	flushErr  error    // the last background flush error, reported by the next flush

	// After a failed flush the next automatic one waits (flushBackoff, doubling to
	// maxFlushBackoff) instead of retrying at every write: a full disk otherwise
	// keeps the CPU busy re-encoding the head. Guarded by commitMu.
	flushBackoff time.Duration
	nextFlush    time.Time
	flushFailing error // the last flush's error until one succeeds; read by Health
	walDamaged   bool  // replay skipped damage: flush even an empty head to move wal_start past it

	// walFailures is the WAL failure count at which the catalog was last made
	// durable: a failed WAL record may have carried the only definition of a
	// series the catalog keeps, so the first write acknowledged after a failure
	// persists the catalog first. Guarded by walSyncMu.
	walSyncMu   sync.Mutex
	walFailures uint64

	indexErrMu     sync.Mutex // guards the last Pebble background error, see indexError
	indexErr       error
	indexErrAt     time.Time
	indexErrLogged time.Time
	indexErrCount  int

	persistMu   sync.Mutex // guards the persist rounds below
	persistNext *persistRound
	persisting  bool

	catMu sync.RWMutex
	cat   *catalog
	idx   *indexCaches // over the tag index in Pebble; see index.go

	offsets offsetTable // source offsets stored with the writes, see offsets.go

	batches    chan *Batch        // free batches, see Batch.Release
	merge      *mergeBuffers      // MergePartition's, under flushMu
	cursorBufs sync.Pool          // *cursorBuffers, see Cursor.Close
	marks      *lru[*block.Marks] // block key -> its marks, see marks.go

	stop chan struct{}
	bg   sync.WaitGroup
}

// Open opens or creates the engine in opts.Dir and replays the WAL.
func Open(opts Options) (*Engine, error) {
	if opts.HeadMaxBytes <= 0 {
		opts.HeadMaxBytes = 32 << 20
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 10 * time.Minute
	}
	if opts.MaxSeriesPerDatabase == 0 {
		opts.MaxSeriesPerDatabase = 1_000_000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	e := &Engine{
		batches: make(chan *Batch, freeBatches),
		opts:    opts,
		log:     opts.Logger,
		cat:     newCatalog(),
		idx:     newIndexCaches(opts.SeriesCacheBytes, opts.PostingsCacheBytes),
		marks:   newMarksCache(opts.MarksCacheBytes),
		active:  newHead(),
		stop:    make(chan struct{}),
	}
	e.flushCond = sync.NewCond(&e.commitMu)
	e.m = newMetrics(opts.Registerer, e)

	// 64 MiB of block cache: a day of TSBS cpu data compresses to about 10 MiB, so the
	// working set of the benchmark's queries stays in memory. Pebble charges its
	// memtables to the block cache (Cache.Reserve): the active one and one flushing
	// or kept for reuse, each up to memTableSize. A cache of 64 MiB alone was all
	// reserved once the memtable had grown, and cached no block at all (every
	// cursor read its blocks from the files: a fifth of an approx_count_distinct
	// over the TSBS day); the reservation is accounting, not memory of the cache.
	openStart := time.Now()
	const blockCacheBytes, memTableSize = 64 << 20, 64 << 20
	cache := pebble.NewCache(blockCacheBytes + 2*memTableSize)
	defer cache.Unref()
	var err error
	e.pebble, err = pebble.Open(filepath.Join(opts.Dir, "index"), &pebble.Options{
		Merger: bitmapMerger,
		// Strata's WAL is the only WAL: everything written to Pebble can be rebuilt
		// from it until a Pebble flush makes it durable in sstables (see persist),
		// so Pebble's own log would only double the bytes written, and its
		// preallocated files would dwarf the data on disk.
		DisableWAL: true,
		// Blocks arrive in 8 MiB batches during a flush; a 64 MiB memtable keeps
		// Pebble's own flushes few.
		MemTableSize: memTableSize,
		// Each flush of the head adds one L0 sstable overlapping every series, and
		// block merges replace blocks of the previous ones: compacting L0 from two
		// files on reclaims the replaced blocks within a flush or two instead of
		// letting dead data sit until four (Pebble's default) pile up.
		L0CompactionThreshold: 2,
		Cache:                 cache,
		Levels:                indexLevels(),
		Logger:                pebbleLogger{opts.Logger},
		// Pebble retries failed flushes and compactions by itself (at once, so a
		// full disk makes it busy); without a listener those errors are silent.
		EventListener: &pebble.EventListener{BackgroundError: e.indexError},
	})
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	if err := e.checkFormat(); err != nil {
		e.pebble.Close()
		return nil, err
	}
	if err := e.cat.load(e.pebble); err != nil {
		e.pebble.Close()
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	if err := e.removeOrphans(); err != nil {
		e.pebble.Close()
		return nil, fmt.Errorf("remove data of dropped databases: %w", err)
	}
	if err := e.recoverObservers(); err != nil {
		e.pebble.Close()
		return nil, err
	}
	if v, err := getMeta(e.pebble, metaFlushSeq); err != nil {
		e.pebble.Close()
		return nil, err
	} else if len(v) == 8 {
		e.flushSeq = binary.BigEndian.Uint64(v)
	}
	if err := e.blockMax.restore(e.pebble, e.flushSeq); err != nil {
		e.pebble.Close()
		return nil, err
	}

	if err := e.loadOffsets(); err != nil {
		e.pebble.Close()
		return nil, fmt.Errorf("load source offsets: %w", err)
	}
	catalogLoaded := time.Now()
	e.wal, err = wal.Open(wal.Options{
		Dir:         filepath.Join(opts.Dir, "wal"),
		SegmentSize: opts.WALSegmentSize,
		Logger:      opts.Logger,
		Registerer:  opts.Registerer,
		NoSync:      opts.NoSync,
		MaxWait:     opts.WriteTimeout,
	})
	if err != nil {
		e.pebble.Close()
		return nil, fmt.Errorf("open wal: %w", err)
	}
	walOpened := time.Now()
	if err := e.replay(); err != nil {
		e.wal.Close()
		e.pebble.Close()
		return nil, err
	}
	if d := e.wal.Damage(); len(d) > 0 {
		// Replay skipped damage (logged and quarantined by the wal package). Flush
		// what it recovered right away, so the damaged segments are dropped and the
		// next start does not report the same loss again.
		e.walDamaged = true
		if err := e.Flush(); err != nil {
			e.log.Error("flush after wal damage", "err", err)
		}
	}
	e.log.Info("storage opened", "dir", opts.Dir,
		"index_open", catalogLoaded.Sub(openStart), "wal_open", walOpened.Sub(catalogLoaded), "replay", time.Since(walOpened))
	e.bg.Add(1)
	go e.flushLoop()
	return e, nil
}

func (e *Engine) checkFormat() error {
	v, err := getMeta(e.pebble, metaFormat)
	if err != nil {
		return err
	}
	if v == nil {
		b := e.pebble.NewBatch()
		b.Set(metaKey(metaFormat), appendU32(nil, KeyFormatVersion), nil)
		b.Set(metaKey(metaPartition), appendU64(nil, uint64(PartitionWidth)), nil)
		if err := b.Commit(pebble.NoSync); err != nil {
			return err
		}
		return e.persist()
	}
	if len(v) != 4 || binary.BigEndian.Uint32(v) != KeyFormatVersion {
		return fmt.Errorf("storage: data directory has key format %x, this build reads %d", v, KeyFormatVersion)
	}
	// Range scans stop at partition boundaries: blocks cut with another width would
	// be silently missed.
	p, err := getMeta(e.pebble, metaPartition)
	if err != nil {
		return err
	}
	if len(p) != 8 || int64(binary.BigEndian.Uint64(p)) != PartitionWidth {
		return fmt.Errorf("storage: data directory's blocks are cut into partitions of %x ns, this build uses %d", p, PartitionWidth)
	}
	return nil
}

// replay applies the WAL records not yet flushed to the head.
func (e *Engine) replay() error {
	var from wal.SegmentID
	if v, err := getMeta(e.pebble, metaWALStart); err != nil {
		return err
	} else if len(v) == 8 {
		from = wal.SegmentID(binary.BigEndian.Uint64(v))
	}
	start := time.Now()
	var records, points, orphans int
	pb := e.pebble.NewBatch()
	// The series pb creates, until it is committed, for the observers: the
	// index reads Pebble, which does not see pb yet.
	pending := map[SeriesID][]byte{}
	err := e.wal.Replay(from, func(pos wal.Position, rec []byte) error {
		rec, err := e.replayOffsets(rec)
		if err != nil {
			return fmt.Errorf("wal record at %v: %w", pos, err)
		}
		if len(rec) > 0 && rec[0] != recordWrite {
			records++
			// Drops read posting lists: commit the catalog entries replayed so far first.
			if err := pb.Commit(pebble.NoSync); err != nil {
				return err
			}
			pb = e.pebble.NewBatch()
			clear(pending)
			if err := e.replayDrop(rec); err != nil {
				return fmt.Errorf("wal record at %v: %w", pos, err)
			}
			return nil
		}
		w, err := decodeWriteRecord(rec)
		if err != nil {
			return fmt.Errorf("wal record at %v: %w", pos, err)
		}
		records++
		d := e.cat.buckets[w.bucket]
		if d == nil {
			return nil // the database was dropped after this write
		}
		for _, s := range w.series {
			if e.cat.seriesBucket(s.id) != nil {
				continue
			}
			key := append([]byte(nil), s.key...)
			if err := e.cat.addSeries(d, s.id, key); err != nil {
				return fmt.Errorf("wal record at %v: %w", pos, err)
			}
			e.writeSeries(pb, d, s.id, s.key)
			if len(e.opts.Observers) > 0 {
				pending[s.id] = key
			}
		}
		for _, f := range w.fields {
			if meas := d.measurements[string(f.m)]; meas != nil && meas.fields[string(f.name)] != nil {
				continue
			}
			e.cat.addField(d, f.m, string(f.name), f.id, f.typ)
			pb.Set(fieldKey(d.id, f.m, f.name), fieldValue(f.id, f.typ), nil)
		}
		e.active.mu.Lock()
		err = w.forEachValue(func(s SeriesID, f FieldID, t int64, v value) {
			if d.live.Contains(uint32(s)) {
				e.active.append(d.id, s, f, t, v)
				points++
			} else if e.cat.seriesBucket(s) == nil {
				orphans++
			}
		})
		e.active.mu.Unlock()
		if err != nil {
			return fmt.Errorf("wal record at %v: %w", pos, err)
		}
		e.touchReplayedWrite(w, pending)
		return nil
	})
	if err != nil {
		pb.Close()
		return fmt.Errorf("replay wal: %w", err)
	}
	pb.Set(metaKey(metaNextSeriesID), appendU32(nil, uint32(e.cat.nextSeriesID)), nil)
	pb.Set(metaKey(metaNextFieldID), appendU32(nil, uint32(e.cat.nextFieldID)), nil)
	if err := pb.Commit(pebble.NoSync); err != nil {
		return err
	}
	if orphans > 0 {
		// The record defining these series was lost to WAL damage (reported by the
		// wal package); the values cannot be attributed and are dropped, loudly.
		e.log.Error("wal replay: dropped values of series whose definition was lost", "values", orphans)
		e.m.replayOrphans.Add(float64(orphans))
	}
	e.log.Info("wal replayed", "records", records, "values", points, "from_segment", from, "duration", time.Since(start))
	return nil
}

// removeOrphans deletes what a crash in the middle of DropDatabase left of a
// dropped database: the drop is durable once its catalog entry is gone, the range
// deletions after it may not be.
func (e *Engine) removeOrphans() error {
	b := e.pebble.NewBatch()
	for _, k := range e.cat.orphans {
		b.Delete(k, nil)
	}
	e.cat.orphans = nil
	dropped := false // keys of a dropped bucket found: its series-by-ID entries may remain too
	for _, kind := range []byte{kindSeriesByKey, kindMeasurement, kindTagPosting, kindField, kindBlock} {
		it, err := e.pebble.NewIter(&pebble.IterOptions{LowerBound: []byte{kind}, UpperBound: []byte{kind + 1}})
		if err != nil {
			return err
		}
		// One seek per database ID present, not a scan of the keys.
		for valid := it.First(); valid; {
			k := it.Key()
			if len(k) < 5 {
				valid = it.Next()
				continue
			}
			id := binary.BigEndian.Uint32(k[1:5])
			prefix := appendU32([]byte{kind}, id)
			if e.cat.buckets[BucketID(id)] == nil {
				b.DeleteRange(prefix, prefixEnd(prefix), nil)
				dropped = true
			}
			valid = it.SeekGE(prefixEnd(prefix))
		}
		if err := it.Close(); err != nil {
			return err
		}
	}
	if dropped {
		if err := e.deleteOrphanSeriesEntries(b); err != nil {
			b.Close()
			return err
		}
	}
	if b.Empty() {
		return b.Close()
	}
	e.log.Info("removing data left by dropped databases")
	return b.Commit(pebble.NoSync)
}

// WriteResult tells what happened to a batch.
type WriteResult struct {
	Written  int     // points stored
	Rejected int     // points rejected, by Add or at commit
	Errors   []error // the first rejection reasons
}

// Write stores the accepted points of b and returns once they are durable.
func (e *Engine) Write(b *Batch) (WriteResult, error) {
	start := time.Now()
	if b.Len() == 0 && len(b.offsets) == 0 {
		n, errs := b.Rejected()
		return WriteResult{Rejected: n, Errors: errs}, nil
	}
	e.commitMu.Lock()
	if e.flushing != nil && e.activeBytes() >= 2*e.opts.HeadMaxBytes {
		if err := e.stallLocked(start); err != nil {
			e.commitMu.Unlock()
			return WriteResult{}, err
		}
	}
	if e.closed {
		e.commitMu.Unlock()
		return WriteResult{}, ErrClosed
	}
	if err := e.checkOffsets(b); err != nil {
		e.commitMu.Unlock()
		return WriteResult{}, err
	}
	if e.flushFailing != nil && e.flushing == nil && !time.Now().Before(e.nextFlush) && e.activeBytes() >= e.opts.HeadMaxBytes {
		// The retry is due: start it here, since the refusal below would
		// otherwise keep every write from ever reaching the flush trigger.
		if err := e.startFlushLocked(); err != nil {
			e.log.Error("retry flush", "err", err)
		}
	}
	if e.flushFailing != nil && e.activeBytes() >= 4*e.opts.HeadMaxBytes {
		// Flushes fail (a full disk): the head is the only copy in memory and must
		// not grow without bound. The WAL still holds all of it.
		err := e.flushFailing
		e.commitMu.Unlock()
		return WriteResult{}, &UnavailableError{Err: fmt.Errorf("in-memory head full and flushes failing: %w", err)}
	}
	rec, err := e.resolve(b)
	if err != nil {
		e.commitMu.Unlock()
		return WriteResult{}, err
	}
	var seq uint64
	written := 0
	if b.Len() > 0 || len(b.offsets) > 0 {
		seq, err = e.wal.Append(rec)
		if err != nil {
			e.commitMu.Unlock()
			return WriteResult{}, diskError(fmt.Errorf("wal append: %w", err))
		}
		written = e.apply(b)
		e.applyOffsets(b)
		e.touchWrite(b)
	}
	needFlush := e.flushing == nil && e.activeBytes() >= e.opts.HeadMaxBytes && !time.Now().Before(e.nextFlush)
	if needFlush {
		if err := e.startFlushLocked(); err != nil {
			e.log.Error("start flush", "err", err)
		}
	}
	e.commitMu.Unlock()

	if written > 0 || len(b.offsets) > 0 {
		if err := e.wal.WaitDurableTimeout(seq, e.opts.WriteTimeout); err != nil {
			return WriteResult{}, diskError(fmt.Errorf("wal sync: %w", err))
		}
		if err := e.persistAfterWALFailure(); err != nil {
			return WriteResult{}, diskError(fmt.Errorf("persist catalog after a wal failure: %w", err))
		}
	}
	n, errs := b.Rejected()
	e.m.pointsWritten.Add(float64(written))
	e.m.writeDuration.Observe(time.Since(start).Seconds())
	return WriteResult{Written: written, Rejected: n, Errors: errs}, nil
}

// stallLocked waits, at most WriteTimeout since start, for a running flush to make
// room in the head. The caller holds commitMu.
func (e *Engine) stallLocked(start time.Time) error {
	e.m.writeStalls.Inc()
	waitStart := time.Now()
	defer func() { e.m.stallSeconds.Add(time.Since(waitStart).Seconds()) }()
	deadline := start.Add(e.opts.WriteTimeout)
	// sync.Cond has no timeout: a timer broadcasts once the deadline passes.
	t := time.AfterFunc(time.Until(deadline), func() {
		e.commitMu.Lock()
		e.flushCond.Broadcast()
		e.commitMu.Unlock()
	})
	defer t.Stop()
	for !e.closed && e.flushing != nil && e.activeBytes() >= 2*e.opts.HeadMaxBytes {
		if !time.Now().Before(deadline) {
			return &UnavailableError{Err: fmt.Errorf("write waited %v for a flush of the in-memory head", e.opts.WriteTimeout)}
		}
		e.flushCond.Wait()
	}
	return nil
}

// persistAfterWALFailure makes the catalog durable once after each WAL failure,
// before a write is acknowledged: series and fields are created in the catalog
// before their WAL record, and a record that failed may have been the only one
// defining them, so later records (which do not repeat the definition) would
// otherwise replay into nothing after a crash.
func (e *Engine) persistAfterWALFailure() error {
	n := e.wal.Failures()
	e.walSyncMu.Lock()
	defer e.walSyncMu.Unlock()
	if n == e.walFailures {
		return nil
	}
	if err := e.persist(); err != nil {
		return err
	}
	e.walFailures = n
	return nil
}

// diskError marks errors of the disk as ErrUnavailable, so clients retry.
func diskError(err error) error {
	if isDiskError(err) && !errors.Is(err, ErrUnavailable) {
		return &UnavailableError{Err: err}
	}
	return err
}

// Health returns why the engine cannot currently make writes durable or flush
// them (matching ErrUnavailable), or nil when it is healthy.
func (e *Engine) Health() error {
	if err := e.wal.Err(); err != nil {
		return &UnavailableError{Err: err}
	}
	e.commitMu.Lock()
	err := e.flushFailing
	e.commitMu.Unlock()
	if err != nil {
		return &UnavailableError{Err: fmt.Errorf("flush failing: %w", err)}
	}
	e.indexErrMu.Lock()
	ierr, at := e.indexErr, e.indexErrAt
	e.indexErrMu.Unlock()
	if ierr != nil && time.Since(at) < indexErrorWindow {
		return &UnavailableError{Err: fmt.Errorf("index background work failing: %w", ierr)}
	}
	return nil
}

// indexErrorWindow is how long a Pebble background error keeps Health failing
// and how often one is logged: Pebble retries at once, so errors come in floods.
const indexErrorWindow = 5 * time.Second

// indexError records a failed Pebble flush or compaction (Pebble retries it).
func (e *Engine) indexError(err error) {
	now := time.Now()
	e.m.indexErrors.Inc()
	e.indexErrMu.Lock()
	e.indexErr, e.indexErrAt = err, now
	e.indexErrCount++
	logIt := now.Sub(e.indexErrLogged) >= indexErrorWindow
	n := e.indexErrCount
	if logIt {
		e.indexErrLogged, e.indexErrCount = now, 0
	}
	e.indexErrMu.Unlock()
	if logIt {
		e.log.Error("index background flush or compaction failed; pebble retries it", "err", err, "errors_since_last_report", n)
	}
}

// WALDamage lists what WAL recovery skipped and quarantined at Open.
func (e *Engine) WALDamage() []wal.Damage { return e.wal.Damage() }

func (e *Engine) activeBytes() int64 {
	e.active.mu.RLock()
	defer e.active.mu.RUnlock()
	return e.active.bytes
}

// resolve gives every point of b a series ID and every value a field ID, creating
// what is new, and returns the WAL record. The caller holds commitMu.
func (e *Engine) resolve(b *Batch) ([]byte, error) {
	var seriesDefs []int            // indexes into b.points of the points that define a new series
	var fieldDefs []int             // indexes into b.newField of the fields this batch creates
	var created map[string]SeriesID // series key -> ID of the series this batch creates
	needCatalog := len(b.newField) > 0
	for i := range b.points {
		if !b.points[i].dropped && b.points[i].sid == 0 {
			needCatalog = true
			break
		}
	}
	if needCatalog {
		e.catMu.Lock()
		d := e.cat.buckets[b.bkt.id]
		if d == nil {
			e.catMu.Unlock()
			return nil, &DatabaseNotFoundError{Name: b.bkt.db.name}
		}
		pb := e.pebble.NewBatch()
		// Fields first: a point whose new field lost a race to another type is dropped
		// before it can create a series.
		for i := range b.newField {
			nf := &b.newField[i]
			meas := d.measurement([]byte(nf.m))
			if fi := meas.fields[nf.name]; fi != nil {
				if fi.Type == nf.typ {
					nf.fid = fi.ID
				}
				continue // fid stays 0 on conflict: its points are dropped below
			}
			id := e.cat.nextFieldID
			e.cat.addField(d, []byte(nf.m), nf.name, id, nf.typ)
			nf.fid = id
			pb.Set(fieldKey(d.id, []byte(nf.m), []byte(nf.name)), fieldValue(id, nf.typ), nil)
			fieldDefs = append(fieldDefs, i)
		}
		if len(fieldDefs) > 0 {
			pb.Set(metaKey(metaNextFieldID), appendU32(nil, uint32(e.cat.nextFieldID)), nil)
		}
		gen0 := d.seriesGen
		for i := range b.points {
			p := &b.points[i]
			if p.dropped {
				continue
			}
			if conflict := b.resolveNewFields(p, d); conflict != nil {
				b.points[i].dropped = true
				b.droppedLate++
				b.reject(conflict)
				continue
			}
			if p.sid != 0 {
				continue
			}
			key := b.arena[p.keyOff:p.keyEnd]
			id, ok := created[string(key)] // not in Pebble before pb commits
			var err error
			if !ok && p.absentAt != gen0+1 { // else Add found it absent and none was added since
				id, err = e.lookupSeries(d, key, &b.keyBuf)
			}
			if err != nil {
				e.catMu.Unlock()
				pb.Close()
				return nil, diskError(err)
			}
			if id != 0 {
				p.sid = id
				continue
			}
			if lim := e.opts.MaxSeriesPerDatabase; lim > 0 && d.live.GetCardinality() >= uint64(lim) {
				p.dropped = true
				b.droppedLate++
				b.reject(&SeriesLimitError{Limit: lim})
				continue
			}
			if lim := e.opts.MaxSeries; lim > 0 && e.cat.liveSeries() >= uint64(lim) {
				p.dropped = true
				b.droppedLate++
				b.reject(&SeriesLimitError{Limit: lim, Total: true})
				continue
			}
			p.sid = e.cat.nextSeriesID
			if err := e.cat.addSeries(d, p.sid, key); err != nil {
				e.catMu.Unlock()
				pb.Close()
				return nil, err
			}
			e.writeSeries(pb, d, p.sid, key)
			if created == nil {
				created = map[string]SeriesID{}
			}
			created[string(key)] = p.sid
			seriesDefs = append(seriesDefs, i)
		}
		if len(seriesDefs) > 0 {
			pb.Set(metaKey(metaNextSeriesID), appendU32(nil, uint32(e.cat.nextSeriesID)), nil)
		}
		// Not persisted here: the WAL record below carries these definitions, and a
		// flush persists Pebble before it drops the WAL segments holding them.
		// Committed under catMu: readers find series and postings in Pebble.
		err := pb.Commit(pebble.NoSync)
		e.catMu.Unlock()
		if err != nil {
			return nil, err
		}
	} else {
		e.catMu.RLock()
		gone := e.cat.buckets[b.bkt.id] == nil
		e.catMu.RUnlock()
		if gone {
			return nil, &DatabaseNotFoundError{Name: b.bkt.db.name}
		}
	}
	// The WAL copies the record on Append, so the batch's buffer is reused.
	b.rec = encodeWriteRecord(appendOffsetsHeader(b.rec[:0], b.offsets), b, seriesDefs, fieldDefs)
	return b.rec, nil
}

// resolveNewFields fills in the field IDs of p's values that were new when Add saw
// them; it returns a conflict if another batch created one with another type first.
func (b *Batch) resolveNewFields(p *batchPoint, d *bucket) error {
	for j := p.vOff; j < p.vEnd; j++ {
		v := &b.values[j]
		if v.fid != 0 {
			continue
		}
		nf := &b.newField[v.nf]
		if nf.fid == 0 {
			existing := d.measurements[nf.m].fields[nf.name]
			return &FieldTypeConflictError{Measurement: nf.m, Field: nf.name, Type: nf.typ, Existing: existing.Type}
		}
		v.fid = nf.fid
	}
	return nil
}

// apply adds the batch's points to the active head. The caller holds commitMu.
func (e *Engine) apply(b *Batch) int {
	h := e.active
	h.mu.Lock()
	defer h.mu.Unlock()
	// Points are applied grouped by series, in arrival order within each
	// series (which is all last-write-wins needs): a batch of many series
	// otherwise visits every field of the head once per timestamp, and the
	// head's chunks no longer are in the cache by the time it comes back
	// (TSBS: 100 hosts x 50 timestamps a batch; the appends were a seventh of
	// the server's CPU, nearly all of it cache misses).
	order := b.order[:0]
	for i := range b.points {
		if !b.points[i].dropped {
			order = append(order, uint64(b.points[i].sid)<<32|uint64(i))
		}
	}
	slices.Sort(order)
	b.order = order
	n := 0
	var sh *seriesHead
	last := SeriesID(0)
	for _, o := range order {
		p := &b.points[uint32(o)]
		if sh == nil || p.sid != last {
			sh, last = h.seriesHead(b.bkt.id, p.sid), p.sid
		}
		// A point's fields usually come in the order of the series' fields,
		// so each is found at once.
		for j := p.vOff; j < p.vEnd; j++ {
			v := &b.values[j]
			fh := sh.fieldAt(j-p.vOff, v.fid, v.typ)
			if v.typ == String {
				h.bytes += fh.appendValue(p.t, v.value(b.arena))
			} else {
				h.bytes += fh.appendBits(p.t, v.bits)
			}
		}
		h.points += int64(p.vEnd - p.vOff)
		n++
	}
	return n
}

// persist makes every write made to Pebble so far durable. Pebble runs without its
// own WAL, so that means flushing its memtable to an sstable (synced). A flush of
// the head does it once for all its blocks; catalog changes that must be durable on
// their own (databases) do it too.
//
// The wait is bounded by WriteTimeout: on a full disk Pebble retries its flush
// until space returns, and a caller (a write, a DDL statement, a head flush) must
// get a retryable error rather than hang. The flush itself keeps going; Pebble
// applies memtables in order, so a later persist covers everything before it.
func (e *Engine) persist() error {
	e.persistMu.Lock()
	r := e.persistNext
	if r == nil {
		r = &persistRound{done: make(chan struct{})}
		e.persistNext = r
	}
	if !e.persisting {
		e.startPersistLocked()
	}
	e.persistMu.Unlock()
	t := time.NewTimer(e.opts.WriteTimeout)
	defer t.Stop()
	select {
	case <-r.done:
		return r.err
	case <-t.C:
		return &UnavailableError{Err: fmt.Errorf("index flush not done after %v (is the disk full?)", e.opts.WriteTimeout)}
	}
}

// persistRound is one Pebble flush that callers of persist wait on. Even
// starting a flush can block inside Pebble on a full disk, so flushes run in a
// goroutine of their own: one at a time, and callers arriving meanwhile share the
// next round (which starts after theirs wrote), so at most two goroutines exist
// however many writers wait.
type persistRound struct {
	done chan struct{}
	err  error
}

// startPersistLocked runs the pending round. The caller holds persistMu.
func (e *Engine) startPersistLocked() {
	r := e.persistNext
	e.persistNext, e.persisting = nil, true
	go func() {
		r.err = e.pebble.Flush()
		close(r.done)
		e.persistMu.Lock()
		e.persisting = false
		if e.persistNext != nil {
			e.startPersistLocked()
		}
		e.persistMu.Unlock()
	}()
}

// Flush writes the head to blocks and waits for it: used on shutdown and by tests.
func (e *Engine) Flush() error {
	e.commitMu.Lock()
	for e.flushing != nil {
		e.flushCond.Wait()
	}
	if e.closed {
		e.commitMu.Unlock()
		return ErrClosed
	}
	err := e.startFlushLocked()
	for err == nil && e.flushing != nil {
		e.flushCond.Wait()
	}
	if err == nil {
		err = e.flushErr
		e.flushErr = nil
	}
	e.commitMu.Unlock()
	return err
}

// startFlushLocked cuts the WAL and swaps in a fresh head, then writes the old one
// out in the background. The caller holds commitMu and no flush is running.
func (e *Engine) startFlushLocked() error {
	e.active.mu.RLock()
	empty := len(e.active.series) == 0
	e.active.mu.RUnlock()
	if empty && !e.walDamaged {
		return nil
	}
	seg, err := e.wal.Rotate()
	if err != nil {
		return fmt.Errorf("rotate wal: %w", err)
	}
	e.cutOffsets()
	e.headsMu.Lock()
	e.active.mu.Lock()
	e.active.frozen = true
	e.active.mu.Unlock()
	e.flushing = e.active
	e.active = newHead()
	e.headsMu.Unlock()
	e.bg.Add(1)
	go func(h *head) {
		defer e.bg.Done()
		err := e.writeHead(h, seg)
		e.commitMu.Lock()
		e.headsMu.Lock()
		e.flushing = nil
		if err != nil {
			// The data is still in the WAL (segments are removed only after a
			// successful flush), so nothing acknowledged is lost; keep the head
			// readable by merging it back, and report.
			e.flushBackoff = min(max(2*e.flushBackoff, minFlushBackoff), maxFlushBackoff)
			e.nextFlush = time.Now().Add(e.flushBackoff)
			e.log.Error("flush failed; the wal keeps the data, retrying later", "err", err, "retry_in", e.flushBackoff)
			e.flushErr = err
			e.flushFailing = err
			e.mergeBack(h)
		} else {
			e.flushBackoff, e.nextFlush, e.flushFailing = 0, time.Time{}, nil
			e.walDamaged = false
		}
		e.headsMu.Unlock()
		e.flushCond.Broadcast()
		e.commitMu.Unlock()
	}(e.flushing)
	return nil
}

// minFlushBackoff and maxFlushBackoff bound the wait between automatic flushes
// after a failure: the first retry is soon (space may come back any moment), and
// a full disk costs one re-encode of the head per five seconds at most, which also
// bounds how long writes stay refused after space returns.
const (
	minFlushBackoff = time.Second
	maxFlushBackoff = 5 * time.Second
)

// mergeBack returns the points of a head whose flush failed to the active head, so
// readers keep seeing them. The caller holds commitMu and headsMu.
func (e *Engine) mergeBack(h *head) {
	old := e.active
	h.mu.Lock()
	old.mu.Lock()
	for sid, s := range old.series {
		for _, f := range s.fields {
			col := f.column()
			for i, t := range col.Times {
				v := columnValue(col, i)
				h.append(s.bucket, sid, f.id, t, v)
			}
		}
	}
	h.frozen = false // it takes writes again
	old.mu.Unlock()
	h.mu.Unlock()
	e.active = h
}

func columnValue(c *block.Column, i int) value {
	v := value{typ: c.Type}
	switch c.Type {
	case block.Float:
		v.bits = math.Float64bits(c.Floats[i])
	case block.Integer:
		v.bits = uint64(c.Ints[i])
	case block.Unsigned:
		v.bits = c.Uints[i]
	case block.Boolean:
		if c.Bools[i] {
			v.bits = 1
		}
	case block.String:
		v.str = c.Strings[i]
	}
	return v
}

// writeHead encodes every series and field of h into blocks, commits them to Pebble
// durably together with the new WAL start, then drops the WAL segments before it.
func (e *Engine) writeHead(h *head, walStart wal.SegmentID) error {
	e.flushMu.Lock()
	defer e.flushMu.Unlock()
	start := time.Now()
	// The sequence number is used up even if this flush fails: blocks a failed
	// attempt left in Pebble's memtable must lose against the retry's.
	seq := e.flushSeq + 1
	e.flushSeq = seq

	ids := make([]SeriesID, 0, len(h.series))
	for id := range h.series {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })

	enc := block.NewEncoder()
	pb := e.pebble.NewBatch()
	var key, val []byte
	blocks, values := 0, 0
	for _, sid := range ids {
		s := h.series[sid]
		e.catMu.RLock()
		live := e.cat.seriesBucket(sid) != nil
		e.catMu.RUnlock()
		if !live {
			continue // its database was dropped
		}
		for _, f := range s.fields {
			col := sortDedupChunks(f.typ, f.chunks)
			for i := 0; i < len(col.Times); {
				j := i + 1
				part := partitionStart(col.Times[i])
				for j < len(col.Times) && partitionStart(col.Times[j]) == part {
					j++
				}
				// Split a partition's points into equal blocks: 8,640 points become two
				// of 4,320 rather than 8,192 and a poorly compressing 448.
				if n := j - i; n > maxBlockPoints {
					blocks := (n + maxBlockPoints - 1) / maxBlockPoints
					j = i + (n+blocks-1)/blocks
				}
				chunk := sliceColumn(col, i, j)
				var err error
				val, err = enc.Encode(val[:0], chunk)
				if err != nil {
					pb.Close()
					return fmt.Errorf("encode block series %d field %d: %w", sid, f.id, err)
				}
				key = blockKey(key[:0], s.bucket, sid, f.id, chunk.Times[len(chunk.Times)-1], seq)
				e.blockMax.raise(chunk.Times[len(chunk.Times)-1]) // before the block can be seen
				if err := pb.Set(key, val, nil); err != nil {
					pb.Close()
					return err
				}
				blocks++
				values += j - i
				i = j
			}
			if pb.Len() >= flushBatchBytes {
				if err := e.blockMax.set(pb, seq); err != nil {
					pb.Close()
					return err
				}
				if err := pb.Commit(pebble.NoSync); err != nil {
					return err
				}
				pb = e.pebble.NewBatch()
			}
		}
	}
	e.checkpointObservers(pb)
	pb.Set(metaKey(metaWALStart), appendU64(nil, uint64(walStart)), nil)
	pb.Set(metaKey(metaFlushSeq), appendU64(nil, seq), nil)
	if err := e.blockMax.set(pb, seq); err != nil {
		pb.Close()
		return err
	}
	e.persistOffsets(pb)
	if err := pb.Commit(pebble.NoSync); err != nil {
		return err
	}
	// The blocks, the catalog entries of every series they name, and wal_start
	// become durable together; only then may the WAL segments go.
	if err := e.persist(); err != nil {
		return err
	}
	if err := e.wal.RemoveBefore(walStart); err != nil {
		e.log.Warn("remove flushed wal segments", "err", err)
	}
	d := time.Since(start)
	e.m.flushDuration.Observe(d.Seconds())
	e.log.Info("head flushed", "blocks", blocks, "values", values, "duration", d)
	if e.opts.AfterFlush != nil {
		e.opts.AfterFlush()
	}
	return nil
}

func (e *Engine) flushLoop() {
	defer e.bg.Done()
	t := time.NewTicker(e.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.commitMu.Lock()
			if !e.closed && e.flushing == nil && !time.Now().Before(e.nextFlush) {
				if err := e.startFlushLocked(); err != nil {
					e.log.Error("periodic flush", "err", err)
				}
			}
			e.commitMu.Unlock()
		}
	}
}

// Close flushes the head, so a restart has nothing to replay, and closes the WAL and
// Pebble. Writes that are waiting finish first; later ones get ErrClosed.
func (e *Engine) Close() error {
	flushErr := e.Flush()
	if errors.Is(flushErr, ErrClosed) {
		return nil
	}
	if isDiskError(flushErr) {
		// What could not be flushed is in the WAL and replays at the next start:
		// a stop on a full disk is still a clean stop.
		e.log.Error("final flush failed; the wal keeps the data for the next start", "err", flushErr)
		flushErr = nil
	}
	e.commitMu.Lock()
	e.closed = true
	e.flushCond.Broadcast()
	e.commitMu.Unlock()
	close(e.stop)
	e.bg.Wait()
	werr := e.wal.Close()
	// Pebble runs without its WAL: what reached it since the last flush (block
	// merges, catalog entries) must be flushed or it is lost with the memtable.
	perr := e.persist()
	if isDiskError(perr) {
		e.log.Error("final persist failed; the wal keeps the data for the next start", "err", perr)
		perr = nil
	}
	e.waitForCompactions(10 * time.Second)
	if cerr := e.pebble.Close(); isDiskError(cerr) {
		e.log.Error("closing the index failed on the disk; the wal keeps the data for the next start", "err", cerr)
	} else {
		perr = errors.Join(perr, cerr)
	}
	e.m.unregister()
	return errors.Join(flushErr, werr, perr)
}

// waitForCompactions lets Pebble finish the compactions under way (up to limit),
// so a graceful stop leaves the store compact rather than holding the blocks the
// last merges replaced.
func (e *Engine) waitForCompactions(limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		m := e.pebble.Metrics()
		if m.Compact.NumInProgress == 0 && m.Levels[0].NumFiles < 2 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...interface{}) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Errorf(format string, args ...interface{}) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Fatalf(format string, args ...interface{}) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	os.Exit(1)
}
