package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
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
	id           BucketID
	db           *database
	rp           RetentionPolicy
	series       map[string]SeriesID // binary series key -> ID
	measurements map[string]*measurement
}

type measurement struct {
	name   string
	fields map[string]*FieldInfo
	series int // number of series, kept for SHOW statements and metrics

	// The measurement's tag index: every series, and the series of each tag key
	// and value. Loaded from Pebble's posting lists at open, updated as series come
	// and go; see index.go.
	all  *roaring.Bitmap
	tags map[string]map[string]*roaring.Bitmap
}

// indexSeries adds series id with the given tags to the measurement's index.
func (m *measurement) indexSeries(id SeriesID, tags []Tag) {
	if m.all == nil {
		m.all = roaring.New()
		m.tags = map[string]map[string]*roaring.Bitmap{}
	}
	m.all.Add(uint32(id))
	for _, t := range tags {
		vals := m.tags[string(t.Key)]
		if vals == nil {
			vals = map[string]*roaring.Bitmap{}
			m.tags[string(t.Key)] = vals
		}
		bm := vals[string(t.Value)]
		if bm == nil {
			bm = roaring.New()
			vals[string(t.Value)] = bm
		}
		bm.Add(uint32(id))
	}
}

// seriesInfo is what the engine remembers of every series. Guarded by Engine.catMu.
type seriesInfo struct {
	bucket BucketID
	key    []byte // binary series key (measurement + sorted tags)
}

// catalog holds databases, series and fields in memory; Pebble holds the durable copy.
type catalog struct {
	orphans      [][]byte // keys of entries whose bucket is gone, found by load
	byName       map[string]*database
	buckets      map[BucketID]*bucket
	series       map[SeriesID]*seriesInfo
	nextSeriesID SeriesID
	nextBucketID BucketID
	nextFieldID  FieldID
}

func newCatalog() *catalog {
	return &catalog{
		byName:       map[string]*database{},
		buckets:      map[BucketID]*bucket{},
		series:       map[SeriesID]*seriesInfo{},
		nextSeriesID: 1,
		nextBucketID: 1,
		nextFieldID:  1,
	}
}

func (c *catalog) addBucket(d *database, id BucketID, rp RetentionPolicy) *bucket {
	b := &bucket{id: id, db: d, rp: rp, series: map[string]SeriesID{}, measurements: map[string]*measurement{}}
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
	ids := make([]SeriesID, 0, len(b.series))
	for _, id := range b.series {
		ids = append(ids, id)
		delete(c.series, id)
	}
	return ids
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

func (c *catalog) addSeries(d *bucket, id SeriesID, key []byte) error {
	m, _, err := ParseSeriesKey(key, nil)
	if err != nil {
		return err
	}
	k := string(key)
	d.series[k] = id
	c.series[id] = &seriesInfo{bucket: d.id, key: []byte(k)}
	d.measurement(m).series++
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
	// Series.
	if err := scanPrefix(db, []byte{kindSeriesByID}, func(k, v []byte) error {
		if len(k) != 5 || len(v) < 4 {
			return fmt.Errorf("series entry %x: %w", k, errBadKey)
		}
		id := SeriesID(binary.BigEndian.Uint32(k[1:]))
		d := c.buckets[BucketID(binary.BigEndian.Uint32(v))]
		if d == nil {
			c.orphans = append(c.orphans, bytes.Clone(k)) // bucket dropped
			return nil
		}
		return c.addSeries(d, id, bytes.Clone(v[4:]))
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
	if err := c.loadPostings(db); err != nil {
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

// loadPostings reads the persisted posting lists into the measurements' in-memory
// index (Pebble folds each list's merge operands as it reads it, once).
func (c *catalog) loadPostings(db *pebble.DB) error {
	if err := scanPrefix(db, []byte{kindMeasurement}, func(k, v []byte) error {
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
		meas := b.measurement(m)
		if meas.all == nil {
			meas.all = bm
			meas.tags = map[string]map[string]*roaring.Bitmap{}
		} else {
			meas.all.Or(bm)
		}
		return nil
	}); err != nil {
		return err
	}
	return scanPrefix(db, []byte{kindTagPosting}, func(k, v []byte) error {
		if len(k) < 5 {
			return fmt.Errorf("posting list %x: %w", k, errBadKey)
		}
		b := c.buckets[BucketID(binary.BigEndian.Uint32(k[1:5]))]
		if b == nil {
			return nil
		}
		m, rest, err := readLP(k[5:])
		if err != nil {
			return err
		}
		key, value, err := readLP(rest)
		if err != nil {
			return err
		}
		bm := roaring.New()
		if err := bm.UnmarshalBinary(v); err != nil {
			return fmt.Errorf("posting list %x: %w", k, err)
		}
		meas := b.measurement(m)
		if meas.tags == nil {
			meas.all = roaring.New()
			meas.tags = map[string]map[string]*roaring.Bitmap{}
		}
		vals := meas.tags[string(key)]
		if vals == nil {
			vals = map[string]*roaring.Bitmap{}
			meas.tags[string(key)] = vals
		}
		vals[string(value)] = bm
		return nil
	})
}
