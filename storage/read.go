package storage

import (
	"bytes"
	"fmt"
	"math"
	"sort"

	"github.com/cockroachdb/pebble"

	"github.com/strata-db/strata/storage/block"
)

// Read API. The query engine (issue: query path) finds series with SeriesIDs, learns
// their tags with Series and their fields with Fields, and streams each field with a
// Cursor.

// Priorities of the sources a cursor merges: on equal timestamps the higher wins.
// Blocks use their flush sequence number, so later flushes beat earlier ones; the
// head being flushed beats every block; the active head beats everything.
const (
	prioFlushing = math.MaxUint64 - 1
	prioActive   = math.MaxUint64
)

// Measurements returns the sorted names of the measurements of bucket b that have series.
func (e *Engine) Measurements(b BucketID) ([]string, error) {
	d, err := e.bucketByID(b)
	if err != nil {
		return nil, err
	}
	e.catMu.RLock()
	defer e.catMu.RUnlock()
	var out []string
	for _, m := range d.sortedMeasurements() {
		if m.series > 0 {
			out = append(out, m.name)
		}
	}
	return out, nil
}

// Fields returns the fields of measurement m in bucket b, sorted by name.
func (e *Engine) Fields(b BucketID, m string) ([]FieldInfo, error) {
	d, err := e.bucketByID(b)
	if err != nil {
		return nil, err
	}
	e.catMu.RLock()
	defer e.catMu.RUnlock()
	meas := d.measurements[m]
	if meas == nil {
		return nil, nil
	}
	out := make([]FieldInfo, 0, len(meas.fields))
	for _, f := range meas.fields {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// SeriesCount returns the number of series of bucket b.
func (e *Engine) SeriesCount(b BucketID) (int, error) {
	d, err := e.bucketByID(b)
	if err != nil {
		return 0, err
	}
	e.catMu.RLock()
	defer e.catMu.RUnlock()
	return int(d.live.GetCardinality()), nil
}

// Series returns the measurement and tags of series id. The tags are sorted by key
// and must not be modified.
func (e *Engine) Series(id SeriesID) (m []byte, tags []Tag, ok bool) {
	e.catMu.RLock()
	_, key, ok, err := e.seriesEntry(id)
	e.catMu.RUnlock()
	if err != nil {
		// Series has no error result; the read error is the disk's (Health and
		// the next write report it), and the series is left out loudly.
		e.log.Error("read series key", "series", id, "err", err)
		return nil, nil, false
	}
	if !ok {
		return nil, nil, false
	}
	m, tags, err = ParseSeriesKey(key, nil)
	if err != nil {
		return nil, nil, false
	}
	return m, tags, true
}

// HasPoints tells whether field f of series s in bucket b has a point within
// [min, max]. It stops at the first chunk, decoding at most one block.
func (e *Engine) HasPoints(b BucketID, s SeriesID, f FieldID, min, max int64) (bool, error) {
	c, err := e.NewCursor(b, s, f, min, max)
	if err != nil {
		return false, err
	}
	defer c.Close()
	for c.Next() {
		if h := c.Stats(); h != nil && h.Count > 0 {
			return true, nil // a whole block inside the range: no decoding needed
		}
		col, err := c.Column()
		if err != nil {
			return false, err
		}
		if col.Len() > 0 {
			return true, nil
		}
	}
	return false, c.Err()
}

// source is one input of a cursor: a head snapshot or a stored block.
type source struct {
	min, max int64
	prio     uint64
	col      *block.Column // head snapshot, or nil for a block
	key      []byte        // block key; the body is read only if decoded
	hdr      block.Header
}

// Cursor streams the values of one field of one series within [min, max] in time
// order, as chunks. A chunk is either one stored block untouched by any other source,
// whose header statistics a caller may use instead of decoding it (Stats), or the
// merge of overlapping sources.
type Cursor struct {
	e        *Engine
	min, max int64
	it       *pebble.Iterator // kept open: block bodies are read when decoded
	shared   bool             // it belongs to a Snapshot: Close leaves it open
	lower    []byte           // the iterator's bounds for this cursor, restored
	upper    []byte           // before each read of a shared iterator
	clusters [][]source
	i        int
	cur      []source
	dec      *block.Decoder
	col      block.Column
	bufs     *cursorBuffers // the pool's holder of dec and col, given back by Close
	out      *block.Column
	err      error
	blocks   int         // blocks decoded, for EXPLAIN ANALYZE
	ranges   []TimeRange // Within's, or nil: all of [min, max]
}

// TimeRange is an inclusive range of ns.
type TimeRange struct{ Min, Max int64 }

// Within narrows the cursor to ranges (ascending, disjoint, inside its
// range): chunks outside them are skipped without being decoded, and a
// chunk's column holds only its points inside them. A dashboard refresh from
// the result cache reads a series' two edges of the panel's range (the
// window the range start cuts, and the one holding now); one cursor over
// both opens and seeks once instead of twice. Call it before the first Next.
func (c *Cursor) Within(ranges []TimeRange) { c.ranges = ranges }

// overlapping is the part of c.ranges that [min, max] overlaps: all of
// [min, max] (one range) when the cursor is not narrowed.
func (c *Cursor) overlapping(min, max int64) []TimeRange {
	if c.ranges == nil {
		return []TimeRange{{c.min, c.max}}
	}
	i := sort.Search(len(c.ranges), func(i int) bool { return c.ranges[i].Max >= min })
	j := i
	for j < len(c.ranges) && c.ranges[j].Min <= max {
		j++
	}
	return c.ranges[i:j]
}

// extent is the time span of a cluster of sources.
func extent(srcs []source) (lo, hi int64) {
	lo, hi = srcs[0].min, srcs[0].max
	for _, s := range srcs[1:] {
		lo, hi = min(lo, s.min), max(hi, s.max)
	}
	return lo, hi
}

// NewCursor opens a cursor over field f of series s of bucket b within [min, max].
func (e *Engine) NewCursor(b BucketID, s SeriesID, f FieldID, min, max int64) (*Cursor, error) {
	// Heads before blocks: a flush that completes while we read then shows its data
	// twice (deduplicated below) instead of not at all.
	e.headsMu.RLock()
	active, flushing := e.active, e.flushing
	e.headsMu.RUnlock()
	return e.newCursor(active, flushing, nil, math.MaxInt64, b, s, f, min, max)
}

// Snapshot is a consistent view for a sequence of cursors: the heads, pinned
// when it is taken, and one Pebble iterator shared by the cursors opened from
// it. A query opens a cursor per series and field; creating a Pebble iterator
// for each was a quarter of a small query's time. Cursors of one snapshot may
// be open together and interleaved (a raw SELECT merges a series' fields, and
// a group's series, in time order); a snapshot and its cursors are used by one
// goroutine.
//
// The iterator is made by the first cursor that reads blocks, not with the
// snapshot: a dashboard refresh from the result cache opens a snapshot per
// group and reads only the heads (HeadRange), and making and closing an
// iterator it never used was a sixth of its groups' time
// (BenchmarkDashboardRefresh). Made later, the iterator sees the blocks of
// that later moment, as Engine.NewCursor's does: every block it saw when
// the heads were pinned, merged or not, and maybe the blocks a flush made
// of a pinned head since, whose points the cursors then see twice and
// deduplicate (heads first) instead of not at all.
type Snapshot struct {
	e                *Engine
	active, flushing *head
	it               *pebble.Iterator // nil until a cursor reads blocks (iter)
	blockMax         int64            // no block the iterator sees holds a point after this (Engine.blockMax)
}

// Snapshot pins the engine's current heads for reading.
func (e *Engine) Snapshot() (*Snapshot, error) {
	e.headsMu.RLock()
	defer e.headsMu.RUnlock()
	// Read with the heads: a flush raises it before committing the blocks it
	// covers, so no block committed before now holds a point after it.
	return &Snapshot{e: e, active: e.active, flushing: e.flushing, blockMax: e.blockMax.load()}, nil
}

// iter is the snapshot's iterator, made on first use, with blockMax read
// again after it (for the blocks committed since the heads were pinned).
func (sn *Snapshot) iter() (*pebble.Iterator, error) {
	if sn.it == nil {
		it, err := sn.e.pebble.NewIter(&pebble.IterOptions{LowerBound: []byte{kindBlock}, UpperBound: []byte{kindBlock + 1}})
		if err != nil {
			return nil, err
		}
		sn.it, sn.blockMax = it, sn.e.blockMax.load()
	}
	return sn.it, nil
}

// NewCursor opens a cursor over field f of series s of bucket b within [min, max]
// as of the snapshot.
func (sn *Snapshot) NewCursor(b BucketID, s SeriesID, f FieldID, min, max int64) (*Cursor, error) {
	it, err := sn.iter()
	if err != nil {
		return nil, err
	}
	return sn.e.newCursor(sn.active, sn.flushing, it, sn.blockMax, b, s, f, min, max)
}

// HeadRange returns field f of series s within [min, max] when the
// snapshot's heads alone hold that range, as NewCursor would yield it:
// sorted, deduplicated, disjoint views in time order (none: no points), not
// to be modified. ok is false when a cursor is needed: a stored block may
// reach the range, or the flushing head holds some of it (its points and the
// active head's merge by priority). A dashboard refresh reads the window at
// now of every series this way; the cursor's sources, clusters and pooled
// buffers were two thirds of that read (docs/cache.md, "Measured").
func (sn *Snapshot) HeadRange(s SeriesID, f FieldID, min, max int64) (cols []*Column, ok bool) {
	if min <= sn.blockMax {
		return nil, false
	}
	if sn.flushing != nil && sn.flushing.snapshot(s, f, min, max) != nil {
		return nil, false
	}
	sn.e.m.blockSeeksSkipped.Inc()
	return sn.active.snapshot(s, f, min, max), true
}

// Clone returns a snapshot of exactly sn's state (its heads, and a clone
// of its iterator), for another goroutine: a query that splits one group's
// series across cores reads them all as of one instant.
func (sn *Snapshot) Clone() (*Snapshot, error) {
	parent, err := sn.iter() // one instant for both: the clone's
	if err != nil {
		return nil, err
	}
	it, err := parent.Clone(pebble.CloneOptions{})
	if err != nil {
		return nil, err
	}
	return &Snapshot{e: sn.e, active: sn.active, flushing: sn.flushing, it: it, blockMax: sn.blockMax}, nil
}

// Close releases the snapshot's iterator, if a cursor made it.
func (sn *Snapshot) Close() error {
	if sn.it == nil {
		return nil
	}
	return sn.it.Close()
}

// newCursor builds a cursor over the given heads and, if shared is not nil, that
// iterator (re-bounded) instead of a new one. No block the iterator sees holds
// a point after blockMax: a range after it is read from the heads alone.
func (e *Engine) newCursor(active, flushing *head, shared *pebble.Iterator, blockMax int64, b BucketID, s SeriesID, f FieldID, min, max int64) (*Cursor, error) {
	d, err := e.bucketByID(b)
	if err != nil {
		return nil, err
	}
	c := &Cursor{min: min, max: max, e: e, shared: shared != nil}
	if bufs, ok := e.cursorBufs.Get().(*cursorBuffers); ok {
		c.dec, c.col, c.bufs = bufs.dec, bufs.col, bufs
	} else {
		c.dec = block.NewDecoder()
	}
	var srcs []source
	for _, col := range active.snapshot(s, f, min, max) {
		srcs = append(srcs, source{min: col.Times[0], max: col.Times[len(col.Times)-1], prio: prioActive, col: col})
	}
	if flushing != nil {
		for _, col := range flushing.snapshot(s, f, min, max) {
			srcs = append(srcs, source{min: col.Times[0], max: col.Times[len(col.Times)-1], prio: prioFlushing, col: col})
		}
	}

	it := shared
	if shared != nil && min > blockMax {
		// No block source, so no block read needs the bounds restored:
		// making the keys was a quarter of a head-only cursor's opening (a
		// dashboard refresh opens one per series for the window at now).
		e.m.blockSeeksSkipped.Inc()
		c.it = it
		return c.cluster(splitHeadSources(srcs)), nil
	}
	lower, upper := blockScanBounds(d.id, s, f, min, max)
	if it == nil {
		if it, err = e.pebble.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper}); err != nil {
			return nil, err
		}
	} else {
		it.SetBounds(lower, upper)
	}
	c.it, c.lower, c.upper = it, lower, upper
	for it.First(); it.Valid(); it.Next() {
		_, seq, err := parseBlockKey(it.Key())
		if err != nil {
			c.releaseIt()
			return nil, err
		}
		hdr, err := block.DecodeHeader(it.Value())
		if err != nil {
			c.releaseIt()
			return nil, fmt.Errorf("block %x: %w", it.Key(), err)
		}
		if hdr.MaxTime < min || hdr.MinTime > max {
			continue
		}
		srcs = append(srcs, source{min: hdr.MinTime, max: hdr.MaxTime, prio: seq, key: bytes.Clone(it.Key()), hdr: hdr})
	}
	if err := it.Error(); err != nil {
		c.releaseIt()
		return nil, err
	}

	return c.cluster(splitHeadSources(srcs)), nil
}

// cluster groups the cursor's sources into overlapping clusters, disjoint and
// ordered. The head's sources come already cut at the blocks' extents
// (splitHeadSources): a head snapshot is one sorted column that may hold an old
// point and a new one; as one source it would overlap, and force the decoding
// and merging of, every block in between.
func (c *Cursor) cluster(srcs []source) *Cursor {
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].min < srcs[j].min })
	for i := 0; i < len(srcs); {
		end := srcs[i].max
		j := i + 1
		for j < len(srcs) && srcs[j].min <= end {
			if srcs[j].max > end {
				end = srcs[j].max
			}
			j++
		}
		c.clusters = append(c.clusters, srcs[i:j])
		i = j
	}
	return c
}

// Descending makes the cursor return its chunks newest first (each chunk's values
// stay in ascending order), so ORDER BY time DESC LIMIT n reads only the newest
// blocks. Call it before the first Next.
func (c *Cursor) Descending() {
	for i, j := 0, len(c.clusters)-1; i < j; i, j = i+1, j-1 {
		c.clusters[i], c.clusters[j] = c.clusters[j], c.clusters[i]
	}
}

// splitHeadSources cuts every head source into pieces that each lie within one
// extent of the stored blocks (overlapping blocks joined) or between two extents.
func splitHeadSources(srcs []source) []source {
	var extents [][2]int64
	for _, s := range srcs {
		if s.col == nil {
			extents = append(extents, [2]int64{s.min, s.max})
		}
	}
	if len(extents) == 0 {
		return srcs
	}
	sort.Slice(extents, func(i, j int) bool { return extents[i][0] < extents[j][0] })
	merged := extents[:1]
	for _, x := range extents[1:] {
		last := &merged[len(merged)-1]
		if x[0] <= last[1] {
			last[1] = max(last[1], x[1])
			continue
		}
		merged = append(merged, x)
	}
	out := srcs[:0:0]
	for _, s := range srcs {
		if s.col == nil {
			out = append(out, s)
			continue
		}
		// Walk the sorted column, cutting where it enters or leaves an extent.
		times := s.col.Times
		e := 0
		for i := 0; i < len(times); {
			for e < len(merged) && merged[e][1] < times[i] {
				e++
			}
			var end int64 // last time of this piece (inclusive)
			switch {
			case e == len(merged):
				end = times[len(times)-1]
			case times[i] >= merged[e][0]:
				end = merged[e][1] // inside extent e
			default:
				end = merged[e][0] - 1 // before extent e
			}
			j := i + sort.Search(len(times)-i, func(k int) bool { return times[i+k] > end })
			piece := sliceColumn(s.col, i, j)
			out = append(out, source{min: times[i], max: times[j-1], prio: s.prio, col: piece})
			i = j
		}
	}
	return out
}

// Next moves to the next chunk; it returns false at the end or on error (see Err).
func (c *Cursor) Next() bool {
	if c.err != nil || c.i >= len(c.clusters) {
		return false
	}
	for c.ranges != nil && c.i < len(c.clusters) {
		if lo, hi := extent(c.clusters[c.i]); len(c.overlapping(lo, hi)) > 0 {
			break
		}
		c.i++ // wholly outside the ranges: never decoded
	}
	if c.i >= len(c.clusters) {
		return false
	}
	c.cur = c.clusters[c.i]
	c.i++
	c.out = nil
	return true
}

// Stats returns the header of the current chunk when the chunk is exactly one stored
// block lying wholly inside the cursor's time range, so its count, sum, min, max,
// first and last are the chunk's; otherwise nil.
func (c *Cursor) Stats() *BlockStats {
	if len(c.cur) != 1 || c.cur[0].key == nil {
		return nil
	}
	h := &c.cur[0].hdr
	if h.MinTime < c.min || h.MaxTime > c.max {
		return nil
	}
	if in := c.overlapping(h.MinTime, h.MaxTime); len(in) != 1 || h.MinTime < in[0].Min || h.MaxTime > in[0].Max {
		return nil
	}
	return h
}

// Column returns the current chunk's values within the range, decoding as needed. The
// column is valid until the next call to Next or Close.
func (c *Cursor) Column() (*Column, error) {
	if c.out != nil {
		return c.out, nil
	}
	if len(c.cur) == 1 {
		s := &c.cur[0]
		col := s.col
		if col == nil {
			if err := c.decode(&c.col, s.key); err != nil {
				return nil, err
			}
			c.blocks++
			col = &c.col
		}
		c.out = c.narrow(TrimColumn(col, c.min, c.max))
		return c.out, nil
	}
	cols := make([]*block.Column, len(c.cur))
	prio := make([]uint64, len(c.cur))
	for i := range c.cur {
		s := &c.cur[i]
		prio[i] = s.prio
		if s.col != nil {
			cols[i] = s.col
			continue
		}
		col := &block.Column{}
		if err := c.decode(col, s.key); err != nil {
			return nil, err
		}
		c.blocks++
		cols[i] = col
	}
	c.out = c.narrow(TrimColumn(mergeColumns(cols, prio), c.min, c.max))
	return c.out, nil
}

// narrow keeps the points of col inside the cursor's ranges, if narrowed.
func (c *Cursor) narrow(col *block.Column) *block.Column {
	if c.ranges == nil || col.Len() == 0 {
		return col
	}
	in := c.overlapping(col.Times[0], col.Times[col.Len()-1])
	if len(in) == 1 {
		return TrimColumn(col, in[0].Min, in[0].Max)
	}
	out := &block.Column{Type: col.Type}
	for _, r := range in {
		i := sort.Search(col.Len(), func(k int) bool { return col.Times[k] >= r.Min })
		j := sort.Search(col.Len(), func(k int) bool { return col.Times[k] > r.Max })
		out.AppendRows(col, i, j)
	}
	return out
}

// decode reads the block stored under key through the cursor's iterator (a
// consistent view: merges and deletes since NewCursor do not affect it),
// decoding only its points inside the cursor's range.
func (c *Cursor) decode(col *block.Column, key []byte) error {
	if c.shared {
		// Another cursor of the snapshot may have re-bounded the iterator since.
		c.it.SetBounds(c.lower, c.upper)
	}
	if !c.it.SeekGE(key) || !bytes.Equal(c.it.Key(), key) {
		c.err = fmt.Errorf("block %x vanished from the cursor's view", key)
		if err := c.it.Error(); err != nil {
			c.err = err
		}
		return c.err
	}
	// Only the cursor's range: a one-hour query over 12-hour blocks decodes
	// a block's values from the last mark before the hour to its end
	// (marks.go, block.Decoder.DecodeRangeMarked).
	m, _ := c.e.marks.get(key)
	next, err := c.dec.DecodeRangeMarked(col, c.it.Value(), c.min, c.max, m)
	if err != nil {
		c.err = fmt.Errorf("block %x: %w", key, err)
		return c.err
	}
	if next != nil && next != m {
		c.e.marks.put(key, next)
	}
	return nil
}

// cursorBuffers are a closed cursor's decoder and decode buffers, reused by the
// next cursor: a query opens a cursor per series and field, and growing fresh
// buffers for each (allocation and zeroing) cost as much as decoding.
type cursorBuffers struct {
	dec *block.Decoder
	col block.Column
}

// Close releases the cursor's view of the store and its buffers: columns it
// returned are invalid afterwards. Every cursor must be closed.
func (c *Cursor) Close() error {
	if c.it == nil {
		return nil
	}
	err := c.releaseIt()
	c.it = nil
	// The holder the buffers came in goes back with them: a new one per
	// Close was a third of a head-only cursor's allocations.
	bufs := c.bufs
	if bufs == nil {
		bufs = &cursorBuffers{}
	}
	bufs.dec, bufs.col = c.dec, c.col
	c.e.cursorBufs.Put(bufs)
	c.dec, c.col, c.bufs, c.out, c.cur = nil, block.Column{}, nil, nil, nil
	return err
}

// releaseIt closes the cursor's iterator unless it is a snapshot's.
func (c *Cursor) releaseIt() error {
	if c.shared {
		return nil
	}
	return c.it.Close()
}

// Err returns the first error the cursor met.
func (c *Cursor) Err() error { return c.err }

// BlocksDecoded tells how many stored blocks the cursor has decoded so far.
func (c *Cursor) BlocksDecoded() int { return c.blocks }

// SeriesData is one series' points as ReadSeries hands them out.
type SeriesData struct {
	ID          SeriesID
	Measurement string
	Tags        []Tag
	Fields      map[string]*block.Column // field name -> values within the range
}

// ReadSeries streams every series of measurement m in bucket b matching expr, with all its
// fields' values within [min, max], to fn in series-ID order. It materialises one
// series at a time; the query engine uses cursors directly.
func (e *Engine) ReadSeries(b BucketID, m string, expr *TagExpr, min, max int64, fn func(*SeriesData) error) error {
	ids, err := e.SeriesIDs(b, m, expr)
	if err != nil {
		return err
	}
	fields, err := e.Fields(b, m)
	if err != nil {
		return err
	}
	var iterErr error
	ids.Iterate(func(x uint32) bool {
		sid := SeriesID(x)
		mm, tags, ok := e.Series(sid)
		if !ok {
			return true // dropped meanwhile
		}
		sd := &SeriesData{ID: sid, Measurement: string(mm), Tags: tags, Fields: map[string]*block.Column{}}
		for _, f := range fields {
			cur, err := e.NewCursor(b, sid, f.ID, min, max)
			if err != nil {
				iterErr = err
				return false
			}
			defer cur.Close()
			all := &block.Column{Type: f.Type}
			for cur.Next() {
				col, err := cur.Column()
				if err != nil {
					iterErr = err
					return false
				}
				n := all.Len()
				all.AppendRows(col, 0, col.Len())
				// Decoded strings live in the cursor's reused buffer: own them.
				all.OwnStrings(n)
			}
			if len(all.Times) > 0 {
				sd.Fields[f.Name] = all
			}
		}
		if len(sd.Fields) == 0 {
			return true
		}
		if err := fn(sd); err != nil {
			iterErr = err
			return false
		}
		return true
	})
	return iterErr
}
