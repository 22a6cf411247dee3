package wal

import (
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// gathered returns the value of a counter or gauge, or the sample count and
// sum of a histogram, from reg.
func gathered(t *testing.T, reg *prometheus.Registry, name string) (value float64, count uint64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		switch {
		case m.GetHistogram() != nil:
			return m.GetHistogram().GetSampleSum(), m.GetHistogram().GetSampleCount()
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), 0
		default:
			return m.GetGauge().GetValue(), 0
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0, 0
}

func TestWAL_Metrics(t *testing.T) {
	dir := t.TempDir()
	// A torn tail to repair at open.
	data, offs := writeSegmentFixture(t, dir, fixtureRecords(3, 10))
	if err := os.WriteFile(segmentPath(dir, 1), data[:offs[2]+4], 0o644); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	w := mustOpen(t, Options{Dir: dir, Registerer: reg, SegmentSize: 1024})
	if _, err := Open(Options{Dir: t.TempDir(), Registerer: reg, Logger: quietLogger(nil)}); err == nil {
		t.Fatal("a second log on the same registry opened")
	}
	const n, size = 20, 100
	for range n {
		if err := w.Write(make([]byte, size)); err != nil {
			t.Fatal(err)
		}
	}
	checks := []struct {
		name      string
		value     float64
		count     uint64
		checkCnt  bool
		skipValue bool
	}{
		{name: "strata_wal_bytes_written_total", value: n * (size + recordHeaderSize)},
		{name: "strata_wal_fsync_batch_records", value: n, count: uint64(w.commits.Load()), checkCnt: true},
		{name: "strata_wal_fsync_batch_bytes", value: n * (size + recordHeaderSize)},
		{name: "strata_wal_fsync_duration_seconds", count: uint64(w.commits.Load()), checkCnt: true, skipValue: true},
		{name: "strata_wal_segments", value: float64(len(w.Segments()))},
		{name: "strata_wal_corruptions_total", value: 1},
	}
	for _, c := range checks {
		v, cnt := gathered(t, reg, c.name)
		if !c.skipValue && v != c.value {
			t.Errorf("%s = %v, want %v", c.name, v, c.value)
		}
		if c.checkCnt && cnt != c.count {
			t.Errorf("%s count = %d, want %d", c.name, cnt, c.count)
		}
	}
	if len(w.Segments()) < 3 {
		t.Fatalf("expected rolls with a 1 KiB segment size, have %v", w.Segments())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = mustOpen(t, Options{Dir: dir, Registerer: reg})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
