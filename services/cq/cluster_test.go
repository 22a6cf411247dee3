package cq

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/strata-db/strata/query"
)

// follower is the Cluster of a node that is not the runner.
type follower struct{}

func (follower) Runner() bool { return false }
func (follower) Take(context.Context, []Progress) (map[string]uint64, []Marks, error) {
	return nil, nil, nil
}
func (follower) Release(context.Context, map[string]uint64) {}
func (follower) Sink() query.PointSink                      { return nil }

func marksText(ms []Marks) string {
	var out string
	for _, m := range ms {
		out += fmt.Sprintf("%s.%s %q", m.Database, m.Name, string(m.Group))
		for _, x := range m.Spans {
			out += fmt.Sprintf(" [%d,%d)", (x[0]-base.UnixNano())/int64(time.Minute), (x[1]-base.UnixNano())/int64(time.Minute))
		}
		out += ";"
	}
	return out
}

// TestTakeMarks: a node that is not the runner computes nothing; it marks
// its late writes once the runner told it the progress, hands its marks over
// until the runner releases the latest token, and keeps unreleased marks
// across a restart.
func TestTakeMarks(t *testing.T) {
	dir := t.TempDir()
	r := newRig(t, dir, 0)
	r.svc.SetCluster(follower{})
	if err := r.eng.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	r.q(rollupCQ)
	min := func(m int) int64 { return base.Add(time.Duration(m) * time.Minute).UnixNano() }
	progress := []Progress{{Database: "db", Name: "c", Since: min(0), Watermark: min(10)}, {Database: "db", Name: "absent", Since: 0, Watermark: 1}}
	take := func() (uint64, string) {
		tok, ms := r.svc.TakeMarks(progress)
		return tok, marksText(ms)
	}
	r.write("a", 2, 0, 1) // before any progress: not late here
	for m := 0; m <= 10; m++ {
		r.at(m, 0)
	}
	if rows := r.stored("SELECT * FROM m_1m"); len(rows) != 0 {
		t.Fatalf("a node that is not the runner wrote %v", rows)
	}
	steps := []struct {
		do   func() string
		want string
	}{
		{func() string { _, s := take(); return s }, ""},
		{func() string { r.write("a", 2, 30, 5); _, s := take(); return s }, `db.c "\x01m\x04host\x01a" [2,3);`},
		{func() string { r.write("b", 11, 0, 5); _, s := take(); return s }, `db.c "\x01m\x04host\x01a" [2,3);`}, // on time: not a mark
		{func() string {
			tok, _ := take()
			r.write("b", 4, 0, 5) // after the take: a new mark
			r.svc.ReleaseMarks(tok - 1)
			_, s := take()
			return s
		}, `db.c "\x01m\x04host\x01a" [2,3);db.c "\x01m\x04host\x01b" [4,5);`},
		{func() string {
			tok, _ := take()
			r.write("a", 5, 0, 5)
			r.svc.ReleaseMarks(tok) // released; the write after it is not
			_, s := take()
			return s
		}, `db.c "\x01m\x04host\x01a" [5,6);`},
		{func() string {
			// Unreleased marks are checkpointed: a restart hands them again.
			if err := r.eng.Flush(); err != nil {
				t.Fatal(err)
			}
			r.close()
			r = newRig(t, dir, 0)
			r.svc.SetCluster(follower{})
			_, s := take()
			return s
		}, `db.c "\x01m\x04host\x01a" [5,6);`},
		{func() string {
			tok, _ := take()
			r.svc.ReleaseMarks(tok)
			_, s := take()
			return s
		}, ""},
	}
	for i, st := range steps {
		if got := st.do(); got != st.want {
			t.Fatalf("step %d: marks %s, want %s", i, got, st.want)
		}
	}
	r.close()
}

// TestCatchUpSkipsEmptyWindows: a run over several windows (a catch-up
// after downtime, as a node set's new runner does) writes nothing for a
// window without data, as 1.x's one run per window does, instead of a
// count of 0.
func TestCatchUpSkipsEmptyWindows(t *testing.T) {
	r := newRig(t, t.TempDir(), 0)
	defer r.close()
	if err := r.eng.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	r.q(rollupCQ)
	r.at(0, 0)
	r.write("a", 0, 10, 1)
	r.write("a", 2, 10, 3)
	r.at(3, 0) // one run over minutes 0 to 2
	got := r.stored("SELECT count FROM m_1m")
	if want := []string{"map[]|00:00|1", "map[]|00:02|1"}; !slicesEqual(got, want) {
		t.Fatalf("rollup %v, want %v", got, want)
	}
}

func slicesEqual(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }
