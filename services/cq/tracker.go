package cq

import (
	"math"
	"time"

	"github.com/strata-db/strata/storage"
)

// The tracker half of the Service: it is a storage.TouchObserver, told of
// every write, DELETE and DROP SERIES (live, and replayed from the WAL at
// open), and turns those that land in windows a query already computed into
// dirty marks: (query, series group, span of windows).
//
// What is durable where:
//   - a mark made by a change is durable with the change: the change is a WAL
//     record, replayed (and so re-marked) until a head flush removes it, and
//     the flush first checkpoints every mark into Pebble in its own batch;
//   - progress (since, watermark) and the marks of scheduled runs are
//     checkpointed the same way. A crash loses at most progress made since
//     the last flush: the watermark falls back, and the next run computes
//     again from there (catch-up), so nothing is skipped, only redone.

// maxGroupCache bounds cqState.groupOf: 100,000 series keys of ~100 bytes
// and their groups is about 20 MB at most, and a backfill touches far fewer
// series between two clears.
const maxGroupCache = 100_000

// cqState is one continuous query's progress. Guarded by Service.mu.
type cqState struct {
	def *definition
	// hasRun and lastRun are 1.x's schedule state, kept in memory as 1.x does.
	hasRun  bool
	lastRun time.Time
	// Windows with starts in [since, watermark) have been scheduled (computed,
	// or marked dirty to be); since == watermark: none yet.
	since, watermark int64
	dirty            map[string]spans // group key ("" = every group) -> windows to (re)compute
	inflight         map[string]spans // taken by the running recomputation, checkpointed with dirty
	// remote holds the marks handed to a node set's runner (cluster.go),
	// until it releases remoteToken; checkpointed with dirty.
	remote      map[string]spans
	remoteToken uint64
	changed     map[string]bool // groups whose checkpointed spans are out of date
	// groupOf caches the group of the series late data came for ("": the
	// query does not read it): backfills send many batches of the same series.
	groupOf         map[string]string
	progressChanged bool

	failures int       // consecutive failed runs
	lastErr  string    // the last failure, while backing off
	retryAt  time.Time // no run before this
}

func newState(def *definition) *cqState {
	return &cqState{def: def, dirty: map[string]spans{}, inflight: map[string]spans{}, remote: map[string]spans{}, changed: map[string]bool{}, groupOf: map[string]string{}}
}

// computed tells whether any window was scheduled yet.
func (c *cqState) computed() bool { return c.watermark > c.since }

func (c *cqState) mark(group string, x span) {
	c.dirty[group] = c.dirty[group].add(x)
	c.changed[group] = true
}

// Name implements storage.TouchObserver: the namespace of the checkpoints.
func (s *Service) Name() string { return "cq" }

// Recover implements storage.TouchObserver: it loads the definitions and the
// checkpointed progress and marks before the WAL replays into Touched.
func (s *Service) Recover(e *storage.Engine) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store = e
	recs, err := e.ContinuousQueries()
	if err != nil {
		return err
	}
	for _, r := range recs {
		def, err := parseRecord(r)
		if err != nil {
			// Keep the definition (SHOW lists it, DROP removes it) but never run it.
			s.log.Error("continuous query cannot run", "db", r.Database, "name", r.Name, "err", err)
			s.broken[cqID(r.Database, r.Name)] = r
			continue
		}
		s.addLocked(def)
	}
	return e.ObserverState(s.Name(), func(k, v []byte) error {
		kind, db, name, group, err := parseStateKey(k)
		if err != nil {
			return err
		}
		c := s.cqs[cqID(db, name)]
		if c == nil {
			s.removed[cqID(db, name)] = [2]string{db, name} // dropped before the checkpoint
			return nil
		}
		switch kind {
		case 'p':
			if c.since, c.watermark, err = decodeProgress(v); err != nil {
				return err
			}
		case 'd':
			sp, err := decodeSpans(v)
			if err != nil {
				return err
			}
			for _, x := range sp {
				c.dirty[group] = c.dirty[group].add(x)
			}
		}
		return nil
	})
}

// Touched implements storage.TouchObserver. It runs on the write path under
// the engine's commit lock: an on-time write (every point at or after the
// watermark of every query reading its bucket) costs a map lookup per query.
func (s *Service) Touched(t *storage.Touch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cqs) == 0 {
		return
	}
	rp, ok := s.bucketKeys[t.Bucket]
	if !ok {
		db, policy, err := s.store.BucketInfo(t.Bucket)
		if err != nil {
			return
		}
		// Bucket IDs are never reused, so the name stays right.
		rp = bucketKey{key: db + "\x00" + policy.Name, db: db, rp: policy.Name, retention: policy.Duration}
		s.bucketKeys[t.Bucket] = rp
	}
	for _, c := range s.byBucket[rp.key] {
		if !c.computed() || t.Kind == storage.TouchWrite && t.Min >= c.watermark {
			continue
		}
		s.markLate(c, t, rp)
	}
}

// effectiveHorizon is how far back late changes are honored: the flag, but
// never beyond the source's retention. Nothing older can be stored, and the
// retention enforcer's deletes of expired days must not erase the rollups
// that outlive them (the point of downsampling).
func effectiveHorizon(flag, retention time.Duration) time.Duration {
	if retention > 0 && (flag <= 0 || flag > retention) {
		return retention
	}
	return flag
}

type bucketKey struct {
	key, db, rp string
	retention   time.Duration
}

// markLate marks the windows of c that t changed after they were computed.
func (s *Service) markLate(c *cqState, t *storage.Touch, b bucketKey) {
	interval := int64(c.def.sched.interval)
	horizon := effectiveHorizon(s.horizon, b.retention)
	oldest := int64(math.MinInt64)
	if horizon > 0 {
		oldest = s.now().UnixNano() - int64(horizon)
	}
	if len(c.groupOf) > maxGroupCache {
		clear(c.groupOf)
	}
	t.Each(func(key []byte, lo, hi int64) {
		group, seen := c.groupOf[string(key)]
		if !seen {
			group = ""
			if m, _, err := storage.ParseSeriesKey(key, nil); err == nil && c.def.source(b.db, b.rp, m) != nil {
				group, _ = c.def.groupKey(key)
			}
			c.groupOf[string(key)] = group
		}
		if group == "" {
			return
		}
		if hi < oldest {
			if t.Kind == storage.TouchWrite {
				s.m.beyondHorizon.Inc()
			}
			return
		}
		lo, hi = max(lo, oldest, c.since), min(hi, c.watermark-1)
		if lo > hi {
			return
		}
		from, to := c.def.sched.windowStart(lo), c.def.sched.windowStart(hi)+interval
		if covered(c.dirty[group], span{from, to}) || covered(c.dirty[""], span{from, to}) {
			return // already marked, or a scheduled run not started yet covers it
		}
		c.mark(group, span{from, to})
	})
}

// Checkpoint implements storage.TouchObserver: it writes the progress and
// marks that changed since the last checkpoint into the flush's batch.
func (s *Service) Checkpoint(w *storage.CheckpointWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, n := range s.removed {
		w.Delete(progressKey(n[0], n[1]))
		w.DeletePrefix(dirtyPrefix(n[0], n[1]))
		delete(s.removed, id)
	}
	for _, c := range s.cqs {
		if c.progressChanged {
			w.Set(progressKey(c.def.db, c.def.name), encodeProgress(c.since, c.watermark))
			c.progressChanged = false
		}
		for g := range c.changed {
			all := c.dirty[g]
			for _, x := range c.inflight[g] {
				all = all.add(x)
			}
			for _, x := range c.remote[g] {
				all = all.add(x)
			}
			if len(all) == 0 {
				w.Delete(dirtyKey(c.def.db, c.def.name, g))
			} else {
				w.Set(dirtyKey(c.def.db, c.def.name, g), encodeSpans(all))
			}
			delete(c.changed, g)
		}
	}
}
