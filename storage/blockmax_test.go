package storage

import (
	"fmt"
	"math"
	"testing"

	"github.com/cockroachdb/pebble"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// readSnap reads field v of series m over [min, max] through a snapshot
// cursor: the times, and whether the cursor skipped the block index.
func readSnap(t *testing.T, e *Engine, min, max int64) (times []int64, skipped bool) {
	t.Helper()
	bk := bucketOf(t, e, "db")
	ids, _ := e.SeriesIDs(bk, "m", nil)
	f, _ := e.Fields(bk, "m")
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	before := testutil.ToFloat64(e.m.blockSeeksSkipped)
	cur, err := snap.NewCursor(bk, SeriesID(ids.Minimum()), f[0].ID, min, max)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	for cur.Next() {
		col, err := cur.Column()
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, col.Times...)
	}
	return times, testutil.ToFloat64(e.m.blockSeeksSkipped) > before
}

func points(ts ...int64) []pt {
	var out []pt
	for _, x := range ts {
		out = append(out, pt{"m", nil, map[string]any{"v": float64(x)}, x})
	}
	return out
}

// TestBlockMaxSkipsOnlyWhatNoBlockHolds: a cursor whose range starts after
// the latest time any flush wrote reads the head alone, and every other
// cursor still sees every block; the watermark survives a reopen and a
// crash, and is unknown (every cursor seeks) when a flush may have written
// blocks without it.
func TestBlockMaxSkipsOnlyWhatNoBlockHolds(t *testing.T) {
	dir := t.TempDir()
	e := openTestEngine(t, dir, Options{})
	if got := e.blockMax.load(); got != math.MinInt64 {
		t.Fatalf("fresh store: watermark %d, want none", got)
	}
	e.CreateDatabase("db", nil)
	write(t, e, "db", points(100, 150, 199)...)
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	write(t, e, "db", points(500)...) // in the head
	steps := []struct {
		name     string
		min, max int64
		want     string
		skip     bool
	}{
		{"after every block", 300, 600, "[500]", true},
		{"reaching a block", 150, 600, "[150 199 500]", false},
		{"at the watermark", 199, 600, "[199 500]", false},
	}
	check := func(stage string) {
		t.Helper()
		for _, s := range steps {
			got, skipped := readSnap(t, e, s.min, s.max)
			if fmt.Sprint(got) != s.want || skipped != s.skip {
				t.Errorf("%s, %s: times %v (skipped %v), want %s (skipped %v)", stage, s.name, got, skipped, s.want, s.skip)
			}
		}
	}
	check("first flush")

	// A late point flushed does not lower it; a later one raises it.
	write(t, e, "db", points(50)...)
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	steps = []struct {
		name     string
		min, max int64
		want     string
		skip     bool
	}{
		{"the head's point now in a block", 300, 600, "[500]", false},
		{"after every block", 501, 2000, "[]", true},
	}
	check("second flush")
	write(t, e, "db", points(1000)...)
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	steps[1] = struct {
		name     string
		min, max int64
		want     string
		skip     bool
	}{"the later block", 501, 2000, "[1000]", false}
	check("third flush")

	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = openTestEngine(t, dir, Options{})
	if got := e.blockMax.load(); got != 1000 {
		t.Fatalf("reopened: watermark %d, want 1000", got)
	}
	write(t, e, "db", points(3000)...)
	crash(t, e)
	e = openTestEngine(t, dir, Options{})
	if got := e.blockMax.load(); got != 1000 {
		t.Fatalf("after a crash: watermark %d, want 1000 (3000 is in the replayed head)", got)
	}
	if got, skipped := readSnap(t, e, 2000, 4000); fmt.Sprint(got) != "[3000]" || !skipped {
		t.Fatalf("after a crash: times %v (skipped %v), want [3000] from the head alone", got, skipped)
	}

	// A flush that did not keep the watermark (an older version): unknown.
	if err := e.pebble.Delete(metaKey(metaBlockMaxTime), pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	if err := e.pebble.Flush(); err != nil {
		t.Fatal(err)
	}
	crash(t, e) // a Close would flush the head, and keep the watermark again
	e = openTestEngine(t, dir, Options{})
	defer e.Close()
	if got := e.blockMax.load(); got != math.MaxInt64 {
		t.Fatalf("without a stored watermark: %d, want unknown", got)
	}
	if got, skipped := readSnap(t, e, 2000, 4000); fmt.Sprint(got) != "[3000]" || skipped {
		t.Fatalf("unknown watermark: times %v (skipped %v), want [3000] and a seek", got, skipped)
	}
}

// headRange is readSnap through Snapshot.HeadRange: the times, and ok.
func headRange(t *testing.T, e *Engine, min, max int64) (times []int64, ok bool) {
	t.Helper()
	bk := bucketOf(t, e, "db")
	ids, _ := e.SeriesIDs(bk, "m", nil)
	f, _ := e.Fields(bk, "m")
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	cols, ok := snap.HeadRange(SeriesID(ids.Minimum()), f[0].ID, min, max)
	for _, c := range cols {
		times = append(times, c.Times...)
	}
	return times, ok
}

// TestHeadRangeIsTheCursorsHeadOnlyRead: HeadRange answers exactly the
// ranges a snapshot cursor reads from the heads alone, with the cursor's
// points, and declines a range a block may reach or the flushing head holds
// points of (those merge by priority in a cursor).
func TestHeadRangeIsTheCursorsHeadOnlyRead(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{})
	defer e.Close()
	e.CreateDatabase("db", nil)
	write(t, e, "db", points(100, 150, 199)...)
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	write(t, e, "db", points(500, 520, 640)...)
	swap := func(f func()) {
		e.commitMu.Lock()
		e.headsMu.Lock()
		f()
		e.headsMu.Unlock()
		e.commitMu.Unlock()
	}
	swap(func() { e.flushing, e.active = e.active, newHead() }) // as if a flush of 500-640 were running
	write(t, e, "db", points(700, 720, 820)...)
	steps := []struct {
		name     string
		min, max int64
		want     string // "" when HeadRange declines
	}{
		{"reaching a block", 150, 800, ""},
		{"the flushing head's points", 300, 800, ""},
		{"between the flushing points", 530, 600, "[]"},
		{"the active head's points", 650, 800, "[700 720]"},
		{"cut inside", 710, 719, "[]"},
		{"after every point", 900, 1000, "[]"},
	}
	for _, s := range steps {
		got, ok := headRange(t, e, s.min, s.max)
		cur, _ := readSnap(t, e, s.min, s.max)
		switch {
		case s.want == "" && ok:
			t.Errorf("%s: HeadRange answered %v, want it to decline", s.name, got)
		case s.want != "" && (!ok || fmt.Sprint(got) != s.want):
			t.Errorf("%s: HeadRange %v (ok %v), want %s", s.name, got, ok, s.want)
		case ok && fmt.Sprint(got) != fmt.Sprint(cur):
			t.Errorf("%s: HeadRange %v, the cursor %v", s.name, got, cur)
		}
	}
	swap(func() { e.flushing = nil }) // nothing to finish: the test's "flush" keeps its points only in memory
}
