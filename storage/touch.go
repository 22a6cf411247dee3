package storage

import (
	"fmt"
	"math"

	"github.com/cockroachdb/pebble"
)

// Touch notifications: what (series, time range) each change to stored data
// touched. The continuous query service (services/cq) subscribes to keep its
// rollups exact when data arrives late; a result cache (issue 10) can subscribe
// the same way to invalidate exactly the entries a write made stale.
//
// Durability comes from the WAL, not from a second log: every change that
// touches data is a WAL record (a write, a DELETE, a DROP SERIES), and Open
// delivers a Touch for every record it replays, exactly as for the live change.
// An observer's derived state therefore only has to be durable by the time the
// WAL segments holding those records are removed, which happens after a head
// flush; the flush calls Checkpoint first and commits what the observer writes
// in the same Pebble batch as the new wal_start. So a mark is never lost: it is
// either in a WAL record that will replay, or in Pebble.

// TouchKind says what kind of change a Touch reports.
type TouchKind uint8

// Kinds of change.
const (
	// TouchWrite: points were written (new ones or overwrites: the observer
	// cannot tell, and for a rollup both mean the same recomputation).
	TouchWrite TouchKind = iota + 1
	// TouchDelete: DELETE removed the points of the series in [Min, Max].
	TouchDelete
	// TouchDropSeries: the series were dropped, all their points with them.
	TouchDropSeries
)

func (k TouchKind) String() string {
	switch k {
	case TouchWrite:
		return "write"
	case TouchDelete:
		return "delete"
	case TouchDropSeries:
		return "drop series"
	}
	return fmt.Sprintf("touch(%d)", uint8(k))
}

// Touch is one change to stored data. It is valid only during the call of
// TouchObserver.Touched: the keys it yields alias the engine's memory.
type Touch struct {
	Kind   TouchKind
	Bucket BucketID
	// Min and Max bound every time the change touched: an observer that finds
	// them outside what it cares about returns without calling Each, which is
	// what keeps the write path cheap for on-time data.
	Min, Max int64
	// Replay is set for changes delivered from the WAL while the engine opens.
	Replay bool

	batch *Batch       // TouchWrite, live
	rec   *writeRecord // TouchWrite, replayed
	// pending are the keys of series the replay has created but not yet
	// committed to Pebble (where seriesEntry looks when its cache misses).
	pending map[SeriesID][]byte
	keys    [][]byte // TouchDelete, TouchDropSeries: the series keys, taken before the change
	e       *Engine
}

// Each calls fn for what the change touched: for a write, once per point with
// min == max == the point's time (a point with several fields once); for a
// delete, once per series with the deleted range; for a dropped series, once
// per series with the whole time line. seriesKey is the binary series key
// (ParseSeriesKey splits it).
func (t *Touch) Each(fn func(seriesKey []byte, min, max int64)) {
	switch {
	case t.batch != nil:
		b := t.batch
		for i := range b.points {
			if p := &b.points[i]; !p.dropped {
				fn(b.arena[p.keyOff:p.keyEnd], p.t, p.t)
			}
		}
	case t.rec != nil:
		var last SeriesID
		lastT := int64(math.MinInt64)
		_ = t.rec.forEachValue(func(s SeriesID, _ FieldID, ts int64, _ value) {
			if s == last && ts == lastT {
				return // another field of the same point
			}
			last, lastT = s, ts
			if key, ok := t.pending[s]; ok {
				fn(key, ts, ts)
			} else if b, key, ok, err := t.e.seriesEntry(s); err == nil && ok && b.id == t.Bucket {
				fn(key, ts, ts)
			}
		})
	default:
		for _, k := range t.keys {
			fn(k, t.Min, t.Max)
		}
	}
}

// TouchObserver is told about every change to stored data. The engine calls
// it from the write path, so Touched must be quick and must not call the
// engine's write, delete or flush methods (it runs under the commit lock);
// reading the catalog (BucketInfo) is allowed.
type TouchObserver interface {
	// Name is the observer's namespace for Checkpoint state; unique per engine.
	Name() string
	// Recover is called by Open after the catalog is loaded and before the WAL
	// replays, so the observer can read its checkpointed state (ObserverState)
	// and any catalog it needs before the replayed Touches arrive.
	Recover(e *Engine) error
	// Touched reports one change, in WAL order.
	Touched(t *Touch)
	// Checkpoint is called by a head flush before the WAL records it covers
	// are removed: what the observer derived from them and still needs must be
	// written to w, which commits with the flush.
	Checkpoint(w *CheckpointWriter)
}

// CheckpointWriter writes an observer's state into the flush's Pebble batch,
// under its own key prefix (kindObserverState | lp(name)).
type CheckpointWriter struct {
	b      *pebble.Batch
	prefix []byte
	key    []byte
}

// kindObserverState | lp(observer name) | key -> value, owned by the observer.
const kindObserverState byte = 0x0c

func observerPrefix(name string) []byte {
	return appendLP([]byte{kindObserverState}, []byte(name))
}

// Set stores value under key in the observer's namespace.
func (w *CheckpointWriter) Set(key, value []byte) {
	w.key = append(append(w.key[:0], w.prefix...), key...)
	w.b.Set(w.key, value, nil)
}

// Delete removes key from the observer's namespace.
func (w *CheckpointWriter) Delete(key []byte) {
	w.key = append(append(w.key[:0], w.prefix...), key...)
	w.b.Delete(w.key, nil)
}

// ObserverState calls fn for every key (without the namespace prefix) and value
// the observer called name checkpointed, in key order.
func (e *Engine) ObserverState(name string, fn func(key, value []byte) error) error {
	p := observerPrefix(name)
	return scanPrefix(e.pebble, p, func(k, v []byte) error { return fn(k[len(p):], v) })
}

// The hooks below are the only places the write path knows of observers.

func (e *Engine) recoverObservers() error {
	for _, o := range e.opts.Observers {
		if err := o.Recover(e); err != nil {
			return fmt.Errorf("observer %s: %w", o.Name(), err)
		}
	}
	return nil
}

// Observers hear of a change after it is applied (still under commitMu), so
// whatever an observer starts because of it (a recomputation) sees it.

// touchWrite reports a committed batch once it is in the head. The caller
// holds commitMu.
func (e *Engine) touchWrite(b *Batch) {
	if len(e.opts.Observers) == 0 {
		return
	}
	t := Touch{Kind: TouchWrite, Bucket: b.bkt.id, Min: math.MaxInt64, Max: math.MinInt64, batch: b, e: e}
	for i := range b.points {
		if p := &b.points[i]; !p.dropped {
			t.Min, t.Max = min(t.Min, p.t), max(t.Max, p.t)
		}
	}
	e.notify(&t)
}

// touchReplayedWrite reports a write record replayed at Open.
// pending holds the keys of the series the replay created since it last
// committed its Pebble batch.
func (e *Engine) touchReplayedWrite(w *writeRecord, pending map[SeriesID][]byte) {
	if len(e.opts.Observers) == 0 {
		return
	}
	t := Touch{Kind: TouchWrite, Bucket: w.bucket, Min: math.MaxInt64, Max: math.MinInt64, rec: w, e: e, Replay: true, pending: pending}
	_ = w.forEachValue(func(_ SeriesID, _ FieldID, ts int64, _ value) {
		t.Min, t.Max = min(t.Min, ts), max(t.Max, ts)
	})
	e.notify(&t)
}

// dropTouch prepares the report of a DELETE or DROP SERIES record before it is
// applied, while the series keys are still in the catalog; notifyDrop sends
// it once the change is applied. It returns nil without observers.
func (e *Engine) dropTouch(d dropRecord, replay bool) *Touch {
	if len(e.opts.Observers) == 0 {
		return nil
	}
	t := &Touch{Kind: TouchDropSeries, Bucket: d.bucket, Min: math.MinInt64, Max: math.MaxInt64, e: e, Replay: replay}
	ids := d.drop
	if d.deleteRange {
		t.Kind, t.Min, t.Max = TouchDelete, d.min, d.max
		ids = append(append([]SeriesID(nil), d.trim...), d.drop...)
	}
	e.catMu.RLock()
	for _, s := range ids {
		b, key, ok, err := e.seriesEntry(s)
		if err != nil {
			e.log.Error("observers: read series key", "series", s, "err", err)
		} else if ok && b.id == d.bucket {
			t.keys = append(t.keys, key) // series keys are never modified, only dropped
		}
	}
	e.catMu.RUnlock()
	return t
}

// notifyDrop reports a change prepared by dropTouch, if there is one.
func (e *Engine) notifyDrop(t *Touch) {
	if t != nil && len(t.keys) > 0 {
		e.notify(t)
	}
}

func (e *Engine) notify(t *Touch) {
	for _, o := range e.opts.Observers {
		o.Touched(t)
	}
}

// checkpointObservers lets every observer write its state into the flush's batch.
func (e *Engine) checkpointObservers(pb *pebble.Batch) {
	for _, o := range e.opts.Observers {
		o.Checkpoint(&CheckpointWriter{b: pb, prefix: observerPrefix(o.Name())})
	}
}

// DeletePrefix removes every key of the observer's namespace that starts with
// prefix. Later Sets of the same checkpoint survive it.
func (w *CheckpointWriter) DeletePrefix(prefix []byte) {
	start := append(append([]byte(nil), w.prefix...), prefix...)
	w.b.DeleteRange(start, prefixEnd(start), nil)
}
