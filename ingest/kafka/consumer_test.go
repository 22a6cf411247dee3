package kafka

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-db/strata/ingest/deadletter"
	"github.com/strata-db/strata/storage"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// seqs returns the values of field seq stored in measurement m of db.
func seqs(t *testing.T, e *storage.Engine) []int64 {
	t.Helper()
	b, err := e.Bucket("db", "")
	if err != nil {
		return nil
	}
	var out []int64
	e.ReadSeries(b, "m", nil, math.MinInt64, math.MaxInt64, func(s *storage.SeriesData) error {
		out = append(out, s.Fields["seq"].Ints...)
		return nil
	})
	return out
}

// TestResumesFromStoredOffsetNotCommitted: the group has committed offset 0
// and storage holds 5, so the consumer stores records 5..9 only; a batch
// refused because another writer moved the offsets is consumed again from
// the offsets storage holds, not twice.
func TestResumesFromStoredOffsetNotCommitted(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	p, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("t"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range 10 {
		if err := p.ProduceSync(context.Background(), &kgo.Record{Value: fmt.Appendf(nil, "m seq=%di %d", i, i+1)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// The group commits offset 0 (a member that consumed nothing).
	g, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup("g"), kgo.ConsumeTopics("t"), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	g.CommitOffsetsSync(context.Background(), map[string]map[int32]kgo.EpochOffset{"t": {0: {Epoch: -1, Offset: 0}}}, nil)
	g.Close()

	e, err := storage.Open(storage.Options{Dir: t.TempDir(), NoSync: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	bk, _ := e.Bucket("db", "")
	b, _ := e.NewBatch(bk)
	b.SetOffsets([]storage.SourceOffset{{Stream: "kafka/g/t", Partition: 0, Next: 5, Prev: -1}})
	if _, err := e.Write(b); err != nil {
		t.Fatal(err)
	}

	k, err := New(e, nil, Options{Brokers: []string{addr}, Topics: []string{"t"}, Group: "g", Database: "db", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	consumeUntil(t, k, e, 10)
	got := seqs(t, e)
	if fmt.Sprint(got) != "[5 6 7 8 9]" {
		t.Fatalf("stored seq %v, want [5 6 7 8 9]", got)
	}

	// Records 10..14; while the consumer builds its batch, a member the group
	// gave the partition to meanwhile stores 10 and 11 (points and offset).
	for i := 10; i < 15; i++ {
		if err := p.ProduceSync(context.Background(), &kgo.Record{Value: fmt.Appendf(nil, "m seq=%di %d", i, i+1)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	racer := &racingStore{Engine: e, race: func() {
		b, _ := e.NewBatch(bk)
		for i := 10; i < 12; i++ {
			b.Add([]byte("m"), nil, []storage.FieldValue{{Key: []byte("seq"), Type: storage.Integer, Int: int64(i)}}, int64(i+1))
		}
		b.SetOffsets([]storage.SourceOffset{{Stream: "kafka/g/t", Partition: 0, Next: 12, Prev: 10}})
		if _, err := e.Write(b); err != nil {
			t.Error(err)
		}
	}}
	k, err = New(racer, nil, Options{Brokers: []string{addr}, Topics: []string{"t"}, Group: "g", Database: "db", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	consumeUntil(t, k, e, 15)
	if got := seqs(t, e); fmt.Sprint(got) != "[5 6 7 8 9 10 11 12 13 14]" {
		t.Fatalf("stored seq %v, want 5..14 once each", got)
	}
	if !racer.raced {
		t.Fatal("the racing write never happened")
	}
}

// racingStore runs race once, just before the consumer's first write, as a
// second writer of the same partition would.
type racingStore struct {
	*storage.Engine
	race  func()
	raced bool
}

func (r *racingStore) Write(b *storage.Batch) (storage.WriteResult, error) {
	if !r.raced {
		r.raced = true
		r.race()
	}
	return r.Engine.Write(b)
}

// failingStore fails the first write, as a full disk would, and counts flushes.
type failingStore struct {
	*storage.Engine
	failed  bool
	flushes int
}

func (f *failingStore) Write(b *storage.Batch) (storage.WriteResult, error) {
	if !f.failed {
		f.failed = true
		return storage.WriteResult{}, &storage.UnavailableError{Err: fmt.Errorf("disk full")}
	}
	return f.Engine.Write(b)
}

func (f *failingStore) Flush() error { f.flushes++; return f.Engine.Flush() }

// TestFailedWriteCheckpointsAndRetries: after a failed write the consumer
// flushes before writing again, then stores every record once.
func TestFailedWriteCheckpointsAndRetries(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	p, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("t"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range 20 {
		if err := p.ProduceSync(context.Background(), &kgo.Record{Value: fmt.Appendf(nil, "m seq=%di %d", i, i+1)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	e, err := storage.Open(storage.Options{Dir: t.TempDir(), NoSync: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	fs := &failingStore{Engine: e}
	k, err := New(fs, nil, Options{Brokers: []string{addr}, Topics: []string{"t"}, Group: "g", Database: "db", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	consumeUntil(t, k, e, 20)
	if got := seqs(t, e); len(got) != 20 || got[0] != 0 || got[19] != 19 {
		t.Fatalf("stored seq %v, want 0..19", got)
	}
	if fs.flushes != 1 {
		t.Fatalf("%d checkpoints, want 1", fs.flushes)
	}
}

// TestRecordHeadersRoute: records with HeaderDatabase/HeaderRP go into that
// bucket, each run of records of one bucket a batch of its own, with the
// offsets moving exactly once; a record naming a bucket that does not exist
// becomes dead letters that name it.
func TestRecordHeadersRoute(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	e, err := storage.Open(storage.Options{Dir: t.TempDir(), NoSync: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, db := range []string{"db", "other"} {
		if err := e.CreateDatabase(db, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.CreateRetentionPolicy("db", storage.RetentionPolicy{Name: "rollup", ShardGroupDuration: time.Hour, Replication: 1}, false); err != nil {
		t.Fatal(err)
	}
	p, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("t"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	h := func(kv ...string) []kgo.RecordHeader {
		var out []kgo.RecordHeader
		for i := 0; i < len(kv); i += 2 {
			out = append(out, kgo.RecordHeader{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return out
	}
	headers := [][]kgo.RecordHeader{
		nil, nil,
		h(HeaderRP, "rollup"), h(HeaderRP, "rollup"),
		h(HeaderDatabase, "other"),
		h(HeaderRP, "missing"),
		nil,
		h(HeaderDatabase, "db", HeaderRP, "rollup"),
	}
	for i, hs := range headers {
		if err := p.ProduceSync(context.Background(), &kgo.Record{Headers: hs, Value: fmt.Appendf(nil, "m seq=%di %d", i, i+1)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	letters, err := deadletter.Open(e, deadletter.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	k, err := New(e, letters, Options{Brokers: []string{addr}, Topics: []string{"t"}, Group: "g", Database: "db", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	consumeUntil(t, k, e, int64(len(headers)))
	read := func(db, rp, m, field string) string {
		b, err := e.Bucket(db, rp)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		e.ReadSeries(b, m, nil, math.MinInt64, math.MaxInt64, func(s *storage.SeriesData) error {
			if f := s.Fields[field]; f != nil {
				for _, v := range f.Ints {
					out = append(out, fmt.Sprint(v))
				}
				for _, v := range f.Strings {
					out = append(out, string(v))
				}
			}
			return nil
		})
		return fmt.Sprint(out)
	}
	for _, c := range []struct{ db, rp, m, field, want string }{
		{"db", "", "m", "seq", "[0 1 6]"},
		{"db", "rollup", "m", "seq", "[2 3 7]"},
		{"other", "", "m", "seq", "[4]"},
	} {
		if got := read(c.db, c.rp, c.m, c.field); got != c.want {
			t.Errorf("%s.%s: seq %s, want %s", c.db, c.rp, got, c.want)
		}
	}
	if got := read(deadletter.Database, deadletter.RetentionPolicy, deadletter.Measurement, "raw"); got != "[m seq=5i 6]" {
		t.Errorf("dead letters %s, want the line for db.missing", got)
	}
	if got := read(deadletter.Database, deadletter.RetentionPolicy, deadletter.Measurement, "reason"); !strings.Contains(got, "missing") {
		t.Errorf("dead letter reason %s does not name the policy", got)
	}
}

// consumeUntil runs k until e has stored the offsets of partition 0 of
// topic t up to next (or 30 s passed), then stops it; k must stop cleanly.
func consumeUntil(t *testing.T, k *Consumer, e *storage.Engine, next int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- k.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for e.SourceOffsets("kafka/g/t")[0] != next && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
