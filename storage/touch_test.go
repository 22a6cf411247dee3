package storage

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
)

// recorder is a TouchObserver that writes down every touch and checkpoints
// how many it saw.
type recorder struct {
	mu          sync.Mutex
	got         []string
	recovered   []string // state found by Recover
	checkpoints int
}

func (r *recorder) Name() string { return "test" }

func (r *recorder) Recover(e *Engine) error {
	return e.ObserverState(r.Name(), func(k, v []byte) error {
		r.recovered = append(r.recovered, string(k)+"="+string(v))
		return nil
	})
}

func (r *recorder) Touched(t *Touch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t.Each(func(key []byte, lo, hi int64) {
		m, tags, _ := ParseSeriesKey(key, nil)
		s := string(m)
		for _, tg := range tags {
			s += "," + string(tg.Key) + "=" + string(tg.Value)
		}
		r.got = append(r.got, fmt.Sprintf("%s %s %s %s replay=%v", t.Kind, s, fmtT(lo), fmtT(hi), t.Replay))
	})
}

func (r *recorder) Checkpoint(w *CheckpointWriter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checkpoints++
	w.Set([]byte("seen"), []byte(fmt.Sprint(len(r.got))))
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

func fmtT(t int64) string {
	switch t {
	case math.MinInt64:
		return "-inf"
	case math.MaxInt64:
		return "+inf"
	}
	return fmt.Sprint(t)
}

// TestTouches checks what each kind of change reports, live and replayed
// from the WAL after a crash, and that a flush checkpoints observer state
// before the WAL records go.
func TestTouches(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{}
	e := openTestEngine(t, dir, Options{Observers: []TouchObserver{rec}})
	if err := e.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	b := bucketOf(t, e, "db")
	write(t, e, "db",
		pt{m: "cpu", tags: map[string]string{"host": "a"}, fields: map[string]any{"v": 1.0, "w": 2.0}, t: 10},
		pt{m: "cpu", tags: map[string]string{"host": "b"}, fields: map[string]any{"v": 1.0}, t: 20},
		pt{m: "cpu", tags: map[string]string{"host": "a"}, fields: map[string]any{"v": 3.0}, t: 30})
	host := func(v string) *TagExpr { return &TagExpr{Op: TagEq, Key: "host", Value: v} }
	if err := e.Delete(b, "cpu", host("a"), 5, 15); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DropSeries(b, "cpu", host("b")); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"write cpu,host=a 10 10 replay=false",
		"write cpu,host=b 20 20 replay=false",
		"write cpu,host=a 30 30 replay=false",
		"delete cpu,host=a 5 15 replay=false",
		"drop series cpu,host=b -inf +inf replay=false",
	}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Fatalf("live touches:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// kill -9: the WAL replays every change, and observers hear them again.
	crash(t, e)
	rec2 := &recorder{}
	e = openTestEngine(t, dir, Options{Observers: []TouchObserver{rec2}})
	for i := range want {
		want[i] = strings.Replace(want[i], "replay=false", "replay=true", 1)
	}
	// The replayed write of host=b names a series the replayed drop removes
	// after it; the write is reported first, as it happened.
	if got := rec2.take(); !slices.Equal(got, want) {
		t.Fatalf("replayed touches:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(rec2.recovered) != 0 {
		t.Fatalf("state before any flush: %v", rec2.recovered)
	}

	// A flush checkpoints, then removes the WAL: after the next crash nothing
	// replays, and the checkpoint is what the observer recovers.
	write(t, e, "db", pt{m: "cpu", tags: map[string]string{"host": "c"}, fields: map[string]any{"v": 1.0}, t: 40})
	rec2.take()
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if rec2.checkpoints != 1 {
		t.Fatalf("checkpoints = %d, want 1", rec2.checkpoints)
	}
	crash(t, e)
	rec3 := &recorder{}
	e = openTestEngine(t, dir, Options{Observers: []TouchObserver{rec3}})
	defer e.Close()
	if got := rec3.take(); len(got) != 0 {
		t.Fatalf("replayed after the flush: %v", got)
	}
	if !slices.Equal(rec3.recovered, []string{"seen=0"}) {
		t.Fatalf("recovered %v, want [seen=0]", rec3.recovered)
	}
}

// TestContinuousQueryRecords stores, lists, replaces and deletes definitions
// across a reopen.
func TestContinuousQueryRecords(t *testing.T) {
	dir := t.TempDir()
	e := openTestEngine(t, dir, Options{})
	for _, r := range []ContinuousQueryRecord{
		{Database: "db", Name: "b", Query: "q1"},
		{Database: "db", Name: "a", Query: "q2"},
		{Database: "db", Name: "b", Query: "q3"},
		{Database: "d2", Name: "a", Query: "q4"},
	} {
		if err := e.PutContinuousQuery(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.DeleteContinuousQuery("db", "a"); err != nil {
		t.Fatal(err)
	}
	crash(t, e) // definitions are durable when Put returns
	e = openTestEngine(t, dir, Options{})
	defer e.Close()
	got, err := e.ContinuousQueries()
	if err != nil {
		t.Fatal(err)
	}
	want := []ContinuousQueryRecord{{Database: "d2", Name: "a", Query: "q4"}, {Database: "db", Name: "b", Query: "q3"}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestContinuousQueryGolden pins the keys and values of the continuous query
// section of docs/format/keys.md, and decodes the fixture back.
func TestContinuousQueryGolden(t *testing.T) {
	q := "CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT mean(v) INTO db.autogen.m1 FROM db.autogen.m GROUP BY time(1h) END"
	var b strings.Builder
	fmt.Fprintf(&b, "# continuous query keys v%d (docs/format/keys.md)\n", ContinuousQueryRecordVersion)
	fmt.Fprintf(&b, "%-22s %x\n", "definition key", continuousQueryKey("db", "cq"))
	fmt.Fprintf(&b, "%-22s %x\n", "definition value", encodeContinuousQuery(q))
	fmt.Fprintf(&b, "%-22s %x\n", "observer state key", append(observerPrefix("cq"), 'p'))
	checkGolden(t, fmt.Sprintf("continuous.v%d.golden", ContinuousQueryRecordVersion), []byte(b.String()))

	r, err := decodeContinuousQuery(continuousQueryKey("db", "cq"), encodeContinuousQuery(q))
	if err != nil || r != (ContinuousQueryRecord{Database: "db", Name: "cq", Query: q}) {
		t.Fatalf("decode: %+v %v", r, err)
	}
	for _, bad := range [][]byte{nil, {2}, {1, 5, 'a'}, append(encodeContinuousQuery("x"), 0)} {
		if _, err := decodeContinuousQuery(continuousQueryKey("db", "cq"), bad); err == nil {
			t.Errorf("value %x decoded", bad)
		}
	}
}

// FuzzContinuousQueryRecord: the definition decoder never panics, and a
// value that decodes encodes back to the same bytes.
func FuzzContinuousQueryRecord(f *testing.F) {
	f.Add([]byte{2, 'd', 'b'}, encodeContinuousQuery("CREATE CONTINUOUS QUERY c ON db BEGIN SELECT count(v) INTO x FROM m GROUP BY time(1m) END"))
	f.Add([]byte{0}, []byte{1, 0})
	f.Fuzz(func(t *testing.T, k, v []byte) {
		key := append([]byte{kindContinuousQuery}, k...)
		r, err := decodeContinuousQuery(key, v)
		if err != nil {
			return
		}
		if got := encodeContinuousQuery(r.Query); string(got) != string(v) {
			t.Fatalf("value %x re-encodes as %x", v, got)
		}
		// Keys are not checked byte for byte: a length written as a longer
		// (non-minimal) uvarint reads the same and is never written.
		_ = continuousQueryKey(r.Database, r.Name)
	})
}
