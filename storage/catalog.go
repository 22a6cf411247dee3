package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/cockroachdb/pebble"

	"github.com/strata-db/strata/storage/block"
)

// BucketID, SeriesID and FieldID are the compact identifiers the catalog hands
// out. A bucket is one retention policy of one database: the namespace in which
// series, fields and data live (InfluxDB keeps each retention policy's data apart
// the same way). IDs are never reused, so a WAL record naming a dropped bucket or
// series can be recognised and skipped on replay. Series IDs are 32-bit because the
// tag index keeps them in 32-bit roaring bitmaps, the fastest and smallest variant;
// four billion series per server is far beyond what one node holds.
type (
	BucketID uint32
	SeriesID uint32
	FieldID  uint32
)

// FieldType is the type of a field's values; the numbering is the line protocol's.
// Its String is InfluxDB's word for it ("float", "integer", ...).
type FieldType = block.Type

// Field types.
const (
	Float    = block.Float
	Integer  = block.Integer
	Unsigned = block.Unsigned
	String   = block.String
	Boolean  = block.Boolean
)

// Tag is one tag of a series.
type Tag struct{ Key, Value []byte }

// FieldInfo describes a field of a measurement.
type FieldInfo struct {
	ID   FieldID
	Name string
	Type FieldType
}

// RetentionPolicy describes how long a bucket keeps data.
type RetentionPolicy struct {
	Name               string
	Duration           time.Duration // 0: forever
	ShardGroupDuration time.Duration // reported for compatibility; blocks are cut per day
	Replication        int
}

// DefaultRetentionPolicy is the policy a database gets when none is given.
func DefaultRetentionPolicy() RetentionPolicy {
	return RetentionPolicy{Name: "autogen", ShardGroupDuration: 168 * time.Hour, Replication: 1}
}

// database is the in-memory catalog entry of one database. Guarded by Engine.catMu.
type database struct {
	name      string
	defaultRP string
	rps       map[string]*bucket
	// created orders SHOW DATABASES: an ID from the bucket sequence taken at
	// creation (0 for databases written before it was kept: their first bucket).
	created BucketID
}

// databaseValue is the value of a database's catalog key: the default policy
// and the creation order.
func databaseValue(d *database) []byte {
	v := appendLP(nil, []byte(d.defaultRP))
	if d.created != 0 {
		v = appendU32(v, uint32(d.created))
	}
	return v
}

// bucket is the in-memory catalog of one retention policy of a database. Guarded by
// Engine.catMu.
type bucket struct {
	id   BucketID
	db   *database
	rp   RetentionPolicy
	live *roaring.Bitmap // every series of the bucket; keys and tags are in Pebble (index.go)
	// seriesGen counts the series ever added to the bucket: a series key found
	// absent at one count is still absent at the same count (drops only remove),
	// which spares resolve a second Pebble lookup per new series.
	seriesGen    uint64
	measurements map[string]*measurement
}

type measurement struct {
	name   string
	fields map[string]*FieldInfo
	series int // number of series, kept for SHOW statements and metrics

	// all is every series of the measurement, loaded at open from its posting list
	// and kept up to date as series come and go. The posting lists of tag values
	// stay in Pebble; see index.go.
	all *roaring.Bitmap

	// tagKeys caches TagKeys' sorted answer (nil: not known). Reading it from
	// the posting keys in Pebble on every query was 11% of a one-series
	// query's CPU (TSBS single-groupby-1-1-1). It is stored under catMu's read
	// lock, which excludes the writers that clear it (a series added to or
	// dropped from the measurement) under the write lock.
	tagKeys atomic.Pointer[[]string]
}

// catalog holds databases, series and fields in memory; Pebble holds the durable copy.
type catalog struct {
	orphans      [][]byte // keys of entries whose bucket is gone, found by load
	byName       map[string]*database
	buckets      map[BucketID]*bucket
	nextSeriesID SeriesID
	nextBucketID BucketID
	nextFieldID  FieldID
}

func newCatalog() *catalog {
	return &catalog{
		byName:       map[string]*database{},
		buckets:      map[BucketID]*bucket{},
		nextSeriesID: 1,
		nextBucketID: 1,
		nextFieldID:  1,
	}
}

// liveSeries counts the series of every bucket: buckets are few, and a
// roaring cardinality is a sum over its containers, so this costs well under
// a microsecond per new series.
func (c *catalog) liveSeries() uint64 {
	var n uint64
	for _, b := range c.buckets {
		n += b.live.GetCardinality()
	}
	return n
}

func (c *catalog) addBucket(d *database, id BucketID, rp RetentionPolicy) *bucket {
	b := &bucket{id: id, db: d, rp: rp, live: roaring.New(), measurements: map[string]*measurement{}}
	d.rps[rp.Name] = b
	c.buckets[id] = b
	if id >= c.nextBucketID {
		c.nextBucketID = id + 1
	}
	return b
}

// removeBucket forgets bucket b and its series, returning their IDs.
func (c *catalog) removeBucket(b *bucket) []SeriesID {
	delete(b.db.rps, b.rp.Name)
	delete(c.buckets, b.id)
	return bitmapIDs(b.live.ToArray())
}

// seriesBucket returns the bucket holding live series id, or nil. Buckets are few
// (one per retention policy), so this is a handful of bitmap probes.
func (c *catalog) seriesBucket(id SeriesID) *bucket {
	for _, b := range c.buckets {
		if b.live.Contains(uint32(id)) {
			return b
		}
	}
	return nil
}

// seriesCount is the number of series in all buckets.
func (c *catalog) seriesCount() uint64 {
	var n uint64
	for _, b := range c.buckets {
		n += b.live.GetCardinality()
	}
	return n
}

func retentionValue(id BucketID, rp RetentionPolicy) []byte {
	v := appendU32(nil, uint32(id))
	v = appendU64(v, uint64(rp.Duration))
	v = appendU64(v, uint64(rp.ShardGroupDuration))
	return appendU32(v, uint32(rp.Replication))
}

func parseRetentionValue(name string, v []byte) (BucketID, RetentionPolicy, error) {
	if len(v) != 24 {
		return 0, RetentionPolicy{}, fmt.Errorf("retention policy %q: %w", name, errBadKey)
	}
	return BucketID(binary.BigEndian.Uint32(v)), RetentionPolicy{
		Name:               name,
		Duration:           time.Duration(binary.BigEndian.Uint64(v[4:])),
		ShardGroupDuration: time.Duration(binary.BigEndian.Uint64(v[12:])),
		Replication:        int(binary.BigEndian.Uint32(v[20:])),
	}, nil
}

func (d *bucket) measurement(name []byte) *measurement {
	m := d.measurements[string(name)]
	if m == nil {
		m = &measurement{name: string(name), fields: map[string]*FieldInfo{}}
		d.measurements[m.name] = m
	}
	return m
}

// addSeries adds series id with the given key to bucket d in memory; the engine
// writes its index entries (writeSeries).
func (c *catalog) addSeries(d *bucket, id SeriesID, key []byte) error {
	m, _, err := ParseSeriesKey(key, nil)
	if err != nil {
		return err
	}
	d.live.Add(uint32(id))
	d.seriesGen++
	meas := d.measurement(m)
	meas.series++
	meas.tagKeys.Store(nil)
	if meas.all == nil {
		meas.all = roaring.New()
	}
	meas.all.Add(uint32(id))
	if id >= c.nextSeriesID {
		c.nextSeriesID = id + 1
	}
	return nil
}

func (c *catalog) addField(d *bucket, m []byte, name string, id FieldID, t FieldType) *FieldInfo {
	f := &FieldInfo{ID: id, Name: name, Type: t}
	d.measurement(m).fields[name] = f
	if id >= c.nextFieldID {
		c.nextFieldID = id + 1
	}
	return f
}

// load reads the whole catalog from Pebble.
func (c *catalog) load(db *pebble.DB) error {
	// Databases and their retention policies (buckets).
	if err := scanPrefix(db, []byte{kindDatabase}, func(k, v []byte) error {
		rp, rest, err := readLP(v)
		if err != nil {
			return fmt.Errorf("database %q: %w", k[1:], err)
		}
		d := &database{name: string(k[1:]), defaultRP: string(rp), rps: map[string]*bucket{}}
		if len(rest) == 4 {
			d.created = BucketID(binary.BigEndian.Uint32(rest))
			if d.created >= c.nextBucketID {
				c.nextBucketID = d.created + 1
			}
		}
		c.byName[d.name] = d
		return nil
	}); err != nil {
		return err
	}
	if err := scanPrefix(db, []byte{kindRetention}, func(k, v []byte) error {
		name, rp, err := readLP(k[1:])
		if err != nil {
			return err
		}
		id, policy, err := parseRetentionValue(string(rp), v)
		if err != nil {
			return err
		}
		d := c.byName[string(name)]
		if d == nil {
			c.orphans = append(c.orphans, bytes.Clone(k)) // database dropped
			return nil
		}
		c.addBucket(d, id, policy)
		return nil
	}); err != nil {
		return err
	}
	// Fields.
	if err := scanPrefix(db, []byte{kindField}, func(k, v []byte) error {
		if len(k) < 5 || len(v) != 5 {
			return fmt.Errorf("field entry %x: %w", k, errBadKey)
		}
		d := c.buckets[BucketID(binary.BigEndian.Uint32(k[1:5]))]
		if d == nil {
			return nil
		}
		m, name, err := readLP(k[5:])
		if err != nil {
			return err
		}
		c.addField(d, m, string(name), FieldID(binary.BigEndian.Uint32(v)), FieldType(v[4]))
		return nil
	}); err != nil {
		return err
	}
	if err := c.loadMeasurements(db); err != nil {
		return err
	}
	for name, target := range map[string]*uint32{
		metaNextSeriesID: (*uint32)(&c.nextSeriesID),
		metaNextBucketID: (*uint32)(&c.nextBucketID),
		metaNextFieldID:  (*uint32)(&c.nextFieldID),
	} {
		v, err := getMeta(db, name)
		if err != nil {
			return err
		}
		if len(v) == 4 && binary.BigEndian.Uint32(v) > *target {
			*target = binary.BigEndian.Uint32(v)
		}
	}
	return nil
}

func fieldValue(id FieldID, t FieldType) []byte {
	return append(appendU32(nil, uint32(id)), byte(t))
}

func (d *bucket) sortedMeasurements() []*measurement {
	out := make([]*measurement, 0, len(d.measurements))
	for _, m := range d.measurements {
		if m.series > 0 || len(m.fields) > 0 {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func scanPrefix(db *pebble.DB, prefix []byte, fn func(k, v []byte) error) error {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		if err := fn(it.Key(), it.Value()); err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Error(); err != nil {
		it.Close()
		return err
	}
	return it.Close()
}

func getMeta(db *pebble.DB, name string) ([]byte, error) {
	v, closer, err := db.Get(metaKey(name))
	if err == pebble.ErrNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := bytes.Clone(v)
	closer.Close()
	return out, nil
}

// loadMeasurements reads every measurement's posting list into memory: the live
// series of each bucket and measurement. One key per measurement (Pebble folds its
// merge operands as it reads it); the series' keys and tag postings stay in Pebble.
func (c *catalog) loadMeasurements(db *pebble.DB) error {
	return scanPrefix(db, []byte{kindMeasurement}, func(k, v []byte) error {
		if len(k) < 5 {
			return fmt.Errorf("posting list %x: %w", k, errBadKey)
		}
		b := c.buckets[BucketID(binary.BigEndian.Uint32(k[1:5]))]
		if b == nil {
			return nil
		}
		m, _, err := readLP(k[5:])
		if err != nil {
			return err
		}
		bm := roaring.New()
		if err := bm.UnmarshalBinary(v); err != nil {
			return fmt.Errorf("posting list %x: %w", k, err)
		}
		if bm.IsEmpty() {
			return nil
		}
		meas := b.measurement(m)
		if meas.all == nil {
			meas.all = roaring.New()
		}
		meas.all.Or(bm)
		meas.series = int(meas.all.GetCardinality())
		b.live.Or(bm)
		if next := SeriesID(bm.Maximum()) + 1; next > c.nextSeriesID {
			c.nextSeriesID = next
		}
		return nil
	})
}
