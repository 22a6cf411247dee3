package storage

import (
	"errors"
	"sort"
	"time"

	"github.com/cockroachdb/pebble"
)

// Databases and retention policies. Each retention policy of a database is a bucket:
// its own namespace of series, fields and blocks. Catalog changes here are made
// durable at once (persist), because WAL replay trusts the catalog to tell which
// buckets exist.

// Errors of retention policy management, in InfluxDB's words.
var (
	ErrRetentionPolicyExists   = errors.New("retention policy already exists")
	ErrRetentionPolicyConflict = errors.New("retention policy conflicts with an existing policy")
	ErrBucketDropped           = errors.New("storage: database or retention policy was dropped")
)

// RetentionPolicyInfo is a retention policy as SHOW RETENTION POLICIES lists it.
type RetentionPolicyInfo struct {
	RetentionPolicy
	Default bool
}

// bucket resolves database db's retention policy rp ("" for the default).
func (e *Engine) bucket(db, rp string) (*bucket, error) {
	e.catMu.RLock()
	defer e.catMu.RUnlock()
	d := e.cat.byName[db]
	if d == nil {
		return nil, &DatabaseNotFoundError{Name: db}
	}
	if rp == "" {
		rp = d.defaultRP
	}
	b := d.rps[rp]
	if b == nil {
		return nil, &RetentionPolicyNotFoundError{Name: rp}
	}
	return b, nil
}

// Bucket returns the ID of database db's retention policy rp ("" for the default).
func (e *Engine) Bucket(db, rp string) (BucketID, error) {
	b, err := e.bucket(db, rp)
	if err != nil {
		return 0, err
	}
	return b.id, nil
}

// BucketInfo returns the database and retention policy of bucket id.
func (e *Engine) BucketInfo(id BucketID) (db string, rp RetentionPolicy, err error) {
	b, err := e.bucketByID(id)
	if err != nil {
		return "", RetentionPolicy{}, err
	}
	return b.db.name, b.rp, nil
}

// Buckets returns every bucket, for background work such as retention enforcement.
func (e *Engine) Buckets() []BucketID {
	e.catMu.RLock()
	defer e.catMu.RUnlock()
	out := make([]BucketID, 0, len(e.cat.buckets))
	for id := range e.cat.buckets {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (e *Engine) bucketByID(id BucketID) (*bucket, error) {
	e.catMu.RLock()
	b := e.cat.buckets[id]
	e.catMu.RUnlock()
	if b == nil {
		return nil, ErrBucketDropped
	}
	return b, nil
}

// CreateDatabase creates database name with retention policy rp (nil: "autogen",
// keeping data forever, or no policy at all under Options.NoRetentionAutoCreate)
// as its default. Creating an existing database is not an error unless rp
// conflicts with the policy of that name it has.
func (e *Engine) CreateDatabase(name string, rp *RetentionPolicy) error {
	e.commitMu.Lock()
	defer e.commitMu.Unlock()
	if e.closed {
		return ErrClosed
	}
	e.catMu.Lock()
	defer e.catMu.Unlock()
	policy := DefaultRetentionPolicy()
	if rp != nil {
		policy = *rp
	}
	withRP := rp != nil || !e.opts.NoRetentionAutoCreate
	if d := e.cat.byName[name]; d != nil {
		if rp != nil {
			if b := d.rps[policy.Name]; b == nil || b.rp != policy {
				return ErrRetentionPolicyConflict
			}
		}
		return nil
	}
	if !withRP {
		policy.Name = "" // no default policy until one is created as DEFAULT
	}
	// The database takes an ID of the bucket sequence for its creation order
	// (its first bucket's, when it has one), so SHOW DATABASES lists it where
	// it was created even without a policy.
	id := e.cat.nextBucketID
	d := &database{name: name, defaultRP: policy.Name, rps: map[string]*bucket{}, created: id}
	pb := e.pebble.NewBatch()
	pb.Set(databaseKey(name), databaseValue(d), nil)
	if withRP {
		pb.Set(retentionKey(name, policy.Name), retentionValue(id, policy), nil)
	}
	pb.Set(metaKey(metaNextBucketID), appendU32(nil, uint32(id+1)), nil)
	if err := pb.Commit(pebble.NoSync); err != nil {
		return err
	}
	// Durable before any write can name it: WAL replay skips records of buckets
	// that do not exist.
	if err := e.persist(); err != nil {
		return err
	}
	e.cat.byName[name] = d
	if withRP {
		e.cat.addBucket(d, id, policy)
	} else {
		e.cat.nextBucketID = id + 1
	}
	return nil
}

// DropDatabase deletes database name and all its data. Dropping a database that does
// not exist is not an error (InfluxDB 1.x behaves so).
func (e *Engine) DropDatabase(name string) error {
	e.flushMu.Lock()
	defer e.flushMu.Unlock()
	e.commitMu.Lock()
	defer e.commitMu.Unlock()
	if e.closed {
		return ErrClosed
	}
	e.catMu.Lock()
	d := e.cat.byName[name]
	if d == nil {
		e.catMu.Unlock()
		return nil
	}
	// Removing the catalog entries first, durably, is what makes the drop durable:
	// WAL records of these buckets are skipped on replay from then on, and IDs are
	// never reused. What follows only reclaims space (and is redone on open if a
	// crash interrupts it: removeOrphans).
	pb := e.pebble.NewBatch()
	pb.Delete(databaseKey(name), nil)
	for rp := range d.rps {
		pb.Delete(retentionKey(name, rp), nil)
	}
	if err := pb.Commit(pebble.NoSync); err != nil {
		e.catMu.Unlock()
		return err
	}
	if err := e.persist(); err != nil {
		e.catMu.Unlock()
		return err
	}
	delete(e.cat.byName, name)
	var dropped []*bucket
	var ids []SeriesID
	for _, b := range d.rps {
		dropped = append(dropped, b)
		ids = append(ids, e.forgetBucket(b)...)
	}
	e.catMu.Unlock()
	return e.reclaimBuckets(dropped, ids)
}

// reclaimBuckets deletes the data of dropped buckets. The caller holds commitMu
// and flushMu.
func (e *Engine) reclaimBuckets(bs []*bucket, series []SeriesID) error {
	pb := e.pebble.NewBatch()
	for _, b := range bs {
		e.active.dropBucket(b.id)
		for _, kind := range []byte{kindSeriesByKey, kindMeasurement, kindTagPosting, kindField, kindBlock} {
			p := appendU32([]byte{kind}, uint32(b.id))
			pb.DeleteRange(p, prefixEnd(p), nil)
		}
	}
	for _, id := range series {
		pb.Delete(seriesByIDKey(id), nil)
	}
	return pb.Commit(pebble.NoSync)
}

// Databases returns the names of all databases in the order they were created (the
// order SHOW DATABASES lists them in InfluxDB).
func (e *Engine) Databases() []string {
	e.catMu.RLock()
	defer e.catMu.RUnlock()
	type entry struct {
		name  string
		first BucketID
	}
	var out []entry
	for n, d := range e.cat.byName {
		first := d.created
		if first == 0 { // created before the order was kept: its first bucket
			first = BucketID(^uint32(0))
			for _, b := range d.rps {
				if b.id < first {
					first = b.id
				}
			}
		}
		out = append(out, entry{n, first})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].first != out[j].first {
			return out[i].first < out[j].first
		}
		return out[i].name < out[j].name
	})
	names := make([]string, len(out))
	for i, x := range out {
		names[i] = x.name
	}
	return names
}

// RetentionPolicies lists the retention policies of db in creation order.
func (e *Engine) RetentionPolicies(db string) ([]RetentionPolicyInfo, error) {
	e.catMu.RLock()
	defer e.catMu.RUnlock()
	d := e.cat.byName[db]
	if d == nil {
		return nil, &DatabaseNotFoundError{Name: db}
	}
	var bs []*bucket
	for _, b := range d.rps {
		bs = append(bs, b)
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].id < bs[j].id })
	out := make([]RetentionPolicyInfo, len(bs))
	for i, b := range bs {
		out[i] = RetentionPolicyInfo{RetentionPolicy: b.rp, Default: b.rp.Name == d.defaultRP}
	}
	return out, nil
}

// CreateRetentionPolicy adds retention policy rp to db, making it the default if
// asked. Creating one that exists with identical settings is not an error.
func (e *Engine) CreateRetentionPolicy(db string, rp RetentionPolicy, makeDefault bool) error {
	e.commitMu.Lock()
	defer e.commitMu.Unlock()
	e.catMu.Lock()
	defer e.catMu.Unlock()
	d := e.cat.byName[db]
	if d == nil {
		return &DatabaseNotFoundError{Name: db}
	}
	if b := d.rps[rp.Name]; b != nil {
		if b.rp != rp || (makeDefault && d.defaultRP != rp.Name) {
			return ErrRetentionPolicyExists
		}
		return nil
	}
	id := e.cat.nextBucketID
	pb := e.pebble.NewBatch()
	pb.Set(retentionKey(db, rp.Name), retentionValue(id, rp), nil)
	pb.Set(metaKey(metaNextBucketID), appendU32(nil, uint32(id+1)), nil)
	if makeDefault {
		pb.Set(databaseKey(db), databaseValue(&database{defaultRP: rp.Name, created: d.created}), nil)
	}
	if err := pb.Commit(pebble.NoSync); err != nil {
		return err
	}
	if err := e.persist(); err != nil {
		return err
	}
	e.cat.addBucket(d, id, rp)
	if makeDefault {
		d.defaultRP = rp.Name
	}
	return nil
}

// RetentionPolicyUpdate lists what ALTER RETENTION POLICY changes; nil: unchanged.
type RetentionPolicyUpdate struct {
	Duration           *time.Duration
	ShardGroupDuration *time.Duration
	Replication        *int
	MakeDefault        bool
}

// AlterRetentionPolicy changes retention policy name of db.
func (e *Engine) AlterRetentionPolicy(db, name string, u RetentionPolicyUpdate) error {
	e.commitMu.Lock()
	defer e.commitMu.Unlock()
	e.catMu.Lock()
	defer e.catMu.Unlock()
	d := e.cat.byName[db]
	if d == nil {
		return &DatabaseNotFoundError{Name: db}
	}
	b := d.rps[name]
	if b == nil {
		return &RetentionPolicyNotFoundError{Name: name}
	}
	rp := b.rp
	if u.Duration != nil {
		rp.Duration = *u.Duration
	}
	if u.ShardGroupDuration != nil {
		rp.ShardGroupDuration = *u.ShardGroupDuration
	}
	if u.Replication != nil {
		rp.Replication = *u.Replication
	}
	pb := e.pebble.NewBatch()
	pb.Set(retentionKey(db, name), retentionValue(b.id, rp), nil)
	if u.MakeDefault {
		pb.Set(databaseKey(db), databaseValue(&database{defaultRP: name, created: d.created}), nil)
	}
	if err := pb.Commit(pebble.NoSync); err != nil {
		return err
	}
	if err := e.persist(); err != nil {
		return err
	}
	b.rp = rp
	if u.MakeDefault {
		d.defaultRP = name
	}
	return nil
}

// DropRetentionPolicy deletes retention policy name of db with its data. Dropping
// one that does not exist is not an error.
func (e *Engine) DropRetentionPolicy(db, name string) error {
	e.flushMu.Lock()
	defer e.flushMu.Unlock()
	e.commitMu.Lock()
	defer e.commitMu.Unlock()
	e.catMu.Lock()
	d := e.cat.byName[db]
	if d == nil {
		e.catMu.Unlock()
		return &DatabaseNotFoundError{Name: db}
	}
	b := d.rps[name]
	if b == nil {
		e.catMu.Unlock()
		return nil
	}
	if err := e.pebble.Delete(retentionKey(db, name), pebble.NoSync); err != nil {
		e.catMu.Unlock()
		return err
	}
	if err := e.persist(); err != nil {
		e.catMu.Unlock()
		return err
	}
	ids := e.forgetBucket(b)
	e.catMu.Unlock()
	return e.reclaimBuckets([]*bucket{b}, ids)
}
