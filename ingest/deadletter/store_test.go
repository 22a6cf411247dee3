package deadletter

import (
	"bytes"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/strata-db/strata/storage"
)

func openEngine(t *testing.T) *storage.Engine {
	t.Helper()
	e, err := storage.Open(storage.Options{Dir: t.TempDir(), NoSync: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// stored returns the raw and size fields of every letter, in time order.
func stored(t *testing.T, e *storage.Engine) (raws [][]byte, sizes []int64) {
	t.Helper()
	b, err := e.Bucket(Database, RetentionPolicy)
	if err != nil {
		t.Fatal(err)
	}
	err = e.ReadSeries(b, Measurement, nil, math.MinInt64, math.MaxInt64, func(s *storage.SeriesData) error {
		raws = append(raws, s.Fields["raw"].Strings...)
		sizes = append(sizes, s.Fields["size"].Ints...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return raws, sizes
}

// TestKeepBudgetAndTruncation: letters past the burst are counted, not
// stored, until the rate refills the budget; raw bytes past MaxRaw are cut
// and the original size kept; letters of the same instant get distinct times.
func TestKeepBudgetAndTruncation(t *testing.T) {
	e := openEngine(t)
	now := time.Now() // letters older than the 7-day policy would be refused
	reg := prometheus.NewRegistry()
	s, err := Open(e, Options{Rate: 1, Burst: 2, Now: func() time.Time { return now }, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Bucket(Database, RetentionPolicy); err == nil {
		t.Fatal("the database exists before the first letter")
	}
	long := bytes.Repeat([]byte("x"), MaxRaw+10)
	letters := []Letter{
		{Source: "kafka", Database: "db", Reason: "r", Raw: long, Received: now},
		{Source: "kafka", Database: "db", Reason: "r", Raw: []byte("b"), Received: now},
		{Source: "kafka", Database: "db", Reason: "r", Raw: []byte("c"), Received: now},
	}
	if err := s.Keep(letters, nil); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second) // one more token
	if err := s.Keep([]Letter{{Source: "kafka", Database: "db", Reason: "r", Raw: []byte("d"), Received: now}}, nil); err != nil {
		t.Fatal(err)
	}
	raws, sizes := stored(t, e)
	if len(raws) != 3 || len(raws[0]) != MaxRaw || sizes[0] != MaxRaw+10 || string(raws[1]) != "b" || string(raws[2]) != "d" {
		t.Fatalf("stored %d letters: sizes %v", len(raws), sizes)
	}
	if got := testutil.ToFloat64(s.dropped.WithLabelValues("kafka")); got != 1 {
		t.Fatalf("dropped = %v, want 1", got)
	}
	if got := testutil.ToFloat64(s.kept.WithLabelValues("kafka")); got != 3 {
		t.Fatalf("kept = %v, want 3", got)
	}
}

// TestKeepWithOffsets: the offsets given with letters are stored with them.
func TestKeepWithOffsets(t *testing.T) {
	e := openEngine(t)
	s, err := Open(e, Options{})
	if err != nil {
		t.Fatal(err)
	}
	offs := []storage.SourceOffset{{Stream: "kafka-deadletter/g/t", Partition: 1, Next: 5, Prev: -1}}
	if err := s.Keep([]Letter{{Source: "kafka", Raw: []byte("x"), Received: time.Now()}}, offs); err != nil {
		t.Fatal(err)
	}
	if got := e.SourceOffsets("kafka-deadletter/g/t"); got[1] != 5 {
		t.Fatalf("offsets %v", got)
	}
}
