package deadletter

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-db/strata/storage"
)

// Database, RetentionPolicy and Measurement locate the letters.
const (
	Database        = "_deadletter"
	RetentionPolicy = "autogen"
	Measurement     = "rejected"
)

// DefaultRetention is how long letters are kept: a week covers a weekend
// between a bad deploy and the operator who fixes and replays it.
const DefaultRetention = 7 * 24 * time.Hour

// MaxRaw bounds the raw bytes kept per letter: a line-protocol line is rarely
// longer than a few hundred bytes, and 4 KiB shows enough of a garbage body to
// tell what sent it.
const MaxRaw = 4096

// Letter is one refused input.
type Letter struct {
	// Source is the path it came by: "http:/write", "http:/api/v2/write",
	// "http:/api/v1/prom/write" or "kafka".
	Source string
	// Origin pins it within the source: "topic/partition@offset" for Kafka;
	// empty for HTTP.
	Origin string
	// Database (and RP) it was meant for.
	Database, RP string
	Reason       string
	Raw          []byte
	Received     time.Time
}

// Writer is what the store needs of the storage engine.
type Writer interface {
	Bucket(db, rp string) (storage.BucketID, error)
	CreateDatabase(name string, rp *storage.RetentionPolicy) error
	NewBatch(b storage.BucketID) (*storage.Batch, error)
	Write(b *storage.Batch) (storage.WriteResult, error)
}

// Options configure a Store.
type Options struct {
	// Rate is how many letters per second are kept on average, Burst how many at
	// once; past the budget letters are counted and dropped. Defaults 1,000/s and
	// 100,000: a bad deploy producing a burst of refusals keeps a full picture,
	// a sustained flood costs at most ~4 MB/s of raw bytes.
	Rate  float64
	Burst float64
	// Now is the clock (tests); default time.Now.
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Store writes letters into the _deadletter database.
type Store struct {
	w    Writer
	opts Options
	log  *slog.Logger

	kept, dropped *prometheus.CounterVec

	mu     sync.Mutex // guards the budget and the clock below
	tokens float64
	refill time.Time
	last   int64 // the last letter's time: letters get distinct timestamps
}

// Open returns the store. The _deadletter database is created with the first
// letter, so a server that never refused anything lists no extra database.
func Open(w Writer, opts Options) (*Store, error) {
	if opts.Rate <= 0 {
		opts.Rate = 1000
	}
	if opts.Burst <= 0 {
		opts.Burst = 100_000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Store{w: w, opts: opts, log: opts.Logger, tokens: opts.Burst, refill: opts.Now(),
		kept: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_deadletter_kept_total",
			Help: "Refused lines and samples stored in the _deadletter database, by source.",
		}, []string{"source"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_deadletter_dropped_total",
			Help: "Refused lines and samples not stored as dead letters (over the budget, or the store failed), by source.",
		}, []string{"source"}),
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(s.kept, s.dropped)
	}
	return s, nil
}

// Keep stores letters (those within the budget) durably, together with offs,
// the source offsets they reach (see storage.Batch.SetOffsets): the Kafka
// consumer logs its letters with offsets of their own stream, so a letter is
// kept once even when its record is consumed again after a crash.
func (s *Store) Keep(letters []Letter, offs []storage.SourceOffset) error {
	if len(letters) == 0 && len(offs) == 0 {
		return nil
	}
	bucket, err := s.bucket()
	if err != nil {
		s.countDropped(letters)
		return err
	}
	b, err := s.w.NewBatch(bucket)
	if err != nil {
		s.countDropped(letters)
		return err
	}
	defer b.Release()
	kept := letters[:0:0]
	s.mu.Lock()
	s.refillLocked()
	for i := range letters {
		if s.tokens < 1 {
			s.dropped.WithLabelValues(letters[i].Source).Inc()
			continue
		}
		s.tokens--
		t := letters[i].Received.UnixNano()
		if t <= s.last {
			t = s.last + 1
		}
		s.last = t
		if err := b.Add([]byte(Measurement), tags(&letters[i]), fields(&letters[i]), t); err != nil {
			s.log.Error("dead letter refused", "err", err)
			s.dropped.WithLabelValues(letters[i].Source).Inc()
			continue
		}
		kept = append(kept, letters[i])
	}
	s.mu.Unlock()
	b.SetOffsets(offs)
	if _, err := s.w.Write(b); err != nil {
		s.countDropped(kept)
		return err
	}
	for i := range kept {
		s.kept.WithLabelValues(kept[i].Source).Inc()
	}
	return nil
}

// bucket returns the letters' bucket, creating the database when it is missing
// (first use, or dropped by an operator).
func (s *Store) bucket() (storage.BucketID, error) {
	b, err := s.w.Bucket(Database, RetentionPolicy)
	var nf *storage.DatabaseNotFoundError
	if !errors.As(err, &nf) {
		return b, err
	}
	rp := storage.DefaultRetentionPolicy()
	rp.Duration = DefaultRetention
	if err := s.w.CreateDatabase(Database, &rp); err != nil {
		return 0, fmt.Errorf("create %s: %w", Database, err)
	}
	return s.w.Bucket(Database, RetentionPolicy)
}

func (s *Store) countDropped(letters []Letter) {
	for i := range letters {
		s.dropped.WithLabelValues(letters[i].Source).Inc()
	}
}

func (s *Store) refillLocked() {
	now := s.opts.Now()
	s.tokens = min(s.opts.Burst, s.tokens+now.Sub(s.refill).Seconds()*s.opts.Rate)
	s.refill = now
}

// tags are the letter's indexed dimensions: few values each, so the series
// stay few (one per source, database and policy).
func tags(l *Letter) []storage.Tag {
	t := []storage.Tag{{Key: []byte("db"), Value: []byte(l.Database)}}
	if l.RP != "" {
		t = append(t, storage.Tag{Key: []byte("rp"), Value: []byte(l.RP)})
	}
	if l.Database == "" {
		t = t[1:]
	}
	return append(t, storage.Tag{Key: []byte("source"), Value: []byte(l.Source)})
}

func fields(l *Letter) []storage.FieldValue {
	raw := l.Raw
	if len(raw) > MaxRaw {
		raw = raw[:MaxRaw]
	}
	f := []storage.FieldValue{
		{Key: []byte("raw"), Type: storage.String, Str: raw},
		{Key: []byte("reason"), Type: storage.String, Str: []byte(l.Reason)},
		{Key: []byte("size"), Type: storage.Integer, Int: int64(len(l.Raw))},
	}
	if l.Origin != "" {
		f = append(f, storage.FieldValue{Key: []byte("origin"), Type: storage.String, Str: []byte(l.Origin)})
	}
	return f
}
