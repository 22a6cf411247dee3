package compaction

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"time"

	"github.com/strata-db/strata/storage"
)

// Store is what retention enforcement needs from the storage engine.
type Store interface {
	Buckets() []storage.BucketID
	BucketInfo(id storage.BucketID) (db string, rp storage.RetentionPolicy, err error)
	Delete(b storage.BucketID, m string, expr *storage.TagExpr, min, max int64) error
}

// RetentionEnforcer deletes, bucket by bucket, the data older than the bucket's
// retention policy keeps.
type RetentionEnforcer struct {
	store Store
	log   *slog.Logger
}

// NewRetentionEnforcer returns an enforcer over store.
func NewRetentionEnforcer(store Store, log *slog.Logger) *RetentionEnforcer {
	if log == nil {
		log = slog.Default()
	}
	return &RetentionEnforcer{store: store, log: log}
}

// Cutoff returns the time before which a policy of duration d lets data go at
// now. It is aligned down to storage's day partitions, the granularity InfluxDB
// also drops at (whole shard groups): data is deleted a whole day at a time, up
// to a day after it expired, and blocks are never cut.
func Cutoff(now time.Time, d time.Duration) int64 {
	t := now.Add(-d).UnixNano()
	p := t / storage.PartitionWidth
	if t%storage.PartitionWidth < 0 {
		p--
	}
	return p * storage.PartitionWidth
}

// EnforceOnce deletes expired data in every bucket with a finite retention
// policy.
func (r *RetentionEnforcer) EnforceOnce(now time.Time) error {
	var errs []error
	for _, b := range r.store.Buckets() {
		db, rp, err := r.store.BucketInfo(b)
		if err != nil || rp.Duration <= 0 {
			continue // dropped meanwhile, or kept forever
		}
		cutoff := Cutoff(now, rp.Duration)
		if err := r.store.Delete(b, "", nil, math.MinInt64, cutoff-1); err != nil {
			if !errors.Is(err, storage.ErrBucketDropped) {
				errs = append(errs, err)
				r.log.Error("retention enforcement failed", "db", db, "rp", rp.Name, "err", err)
			}
			continue
		}
		r.log.Debug("retention enforced", "db", db, "rp", rp.Name, "before", time.Unix(0, cutoff).UTC())
	}
	return errors.Join(errs...)
}

// Run enforces retention every interval until ctx ends.
func (r *RetentionEnforcer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.EnforceOnce(now)
		}
	}
}
