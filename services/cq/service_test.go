package cq

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// rig is a real engine, executor and CQ service on a temp dir, with a clock
// the test moves.
type rig struct {
	t    testing.TB
	dir  string
	now  time.Time
	eng  *storage.Engine
	ex   *query.Executor
	svc  *Service
	base time.Time // minute 0 of write and at
	// rollups is ExecOptions.Rollups for q: the rig answers rollups in real
	// time (as the server does), and checkRollup reads what was stored.
	rollups string
}

var base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newRig(t testing.TB, dir string, horizon time.Duration) *rig {
	t.Helper()
	r := &rig{t: t, dir: dir, now: base, base: base}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r.svc = New(Options{LateHorizon: horizon, Now: func() time.Time { return r.now }, Logger: log})
	eng, err := storage.Open(storage.Options{Dir: dir, NoSync: true, Logger: log, Observers: []storage.TouchObserver{r.svc}})
	if err != nil {
		t.Fatal(err)
	}
	r.eng = eng
	r.ex = query.NewExecutor(eng, log, query.Limits{})
	r.ex.SetContinuousQueries(r.svc)
	r.ex.SetRollups(r.svc)
	r.svc.SetExecutor(r.ex)
	return r
}

func (r *rig) close() {
	if err := r.eng.Close(); err != nil {
		r.t.Fatal(err)
	}
}

// q runs one statement and returns its rows as "series|tags|time|values" lines, sorted.
func (r *rig) q(stmt string) []string {
	r.t.Helper()
	parsed, err := influxql.ParseQuery(stmt)
	if err != nil {
		r.t.Fatalf("%s: %v", stmt, err)
	}
	var out []string
	var failed string
	err = r.ex.Execute(context.Background(), parsed, query.ExecOptions{Database: "db", Now: r.now, Rollups: r.rollups}, query.SinkFunc(func(res *query.StatementResult) error {
		if res.Err != "" {
			failed = res.Err
		}
		for _, s := range res.Series {
			for _, row := range s.Rows {
				out = append(out, fmt.Sprintf("%v|%v|%s", s.Tags, time.Unix(0, row.Time).UTC().Format("15:04"), fmt.Sprint(row.Values...)))
			}
		}
		return nil
	}))
	if err != nil || failed != "" {
		r.t.Fatalf("%s: %v %s", stmt, err, failed)
	}
	sort.Strings(out)
	return out
}

// write stores v of host at minute min (plus sec seconds) after base.
func (r *rig) write(host string, min, sec int, v float64) {
	r.t.Helper()
	b, err := r.eng.Bucket("db", "")
	if err != nil {
		r.t.Fatal(err)
	}
	batch, err := r.eng.NewBatch(b)
	if err != nil {
		r.t.Fatal(err)
	}
	ts := r.base.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second).UnixNano()
	if err := batch.Add([]byte("m"), []storage.Tag{{Key: []byte("host"), Value: []byte(host)}}, []storage.FieldValue{{Key: []byte("v"), Type: storage.Float, Float: v}}, ts); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.eng.Write(batch); err != nil {
		r.t.Fatal(err)
	}
}

// at moves the clock to minute min (plus sec) and runs the service once.
func (r *rig) at(min, sec int) {
	r.now = r.base.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second)
	r.svc.RunOnce(context.Background())
}

const rollupCQ = `CREATE CONTINUOUS QUERY c ON db BEGIN SELECT mean(v) AS mean, count(v) AS count, max(v) AS max INTO m_1m FROM m GROUP BY time(1m), host END`

// checkRollup asserts, for every window before minute end, that the rollup
// equals a fresh SELECT of the query over that window.
func (r *rig) checkRollup(end int) {
	r.t.Helper()
	rows := 0
	for w := 0; w < end; w++ {
		rng := fmt.Sprintf("time >= '%s' AND time < '%s'", base.Add(time.Duration(w)*time.Minute).Format(time.RFC3339), base.Add(time.Duration(w+1)*time.Minute).Format(time.RFC3339))
		fresh := r.q("SELECT mean(v) AS mean, count(v) AS count, max(v) AS max FROM m WHERE " + rng + " GROUP BY time(1m), host")
		rolled := r.stored("SELECT mean, count, max FROM m_1m WHERE " + rng + " GROUP BY host")
		if !slices.Equal(fresh, rolled) {
			r.t.Fatalf("minute %d: rollup differs from a fresh SELECT:\nrollup:\n%s\nfresh:\n%s", w, strings.Join(rolled, "\n"), strings.Join(fresh, "\n"))
		}
		rows += len(fresh)
	}
	if rows == 0 {
		r.t.Fatal("no data")
	}
}

// stored runs stmt reading rollups as stored (what the service wrote).
func (r *rig) stored(stmt string) []string {
	r.t.Helper()
	r.rollups = query.RollupsStored
	defer func() { r.rollups = "" }()
	return r.q(stmt)
}

func (r *rig) metric(name string) float64 {
	switch name {
	case "windows":
		return testutil.ToFloat64(r.svc.m.windows)
	case "late":
		return testutil.ToFloat64(r.svc.m.lateWindows)
	case "beyond":
		return testutil.ToFloat64(r.svc.m.beyondHorizon)
	case "errors":
		return testutil.ToFloat64(r.svc.m.runs.WithLabelValues("error"))
	}
	panic(name)
}

// TestLateData runs a CQ on 1.x's schedule, then sends late points into three
// old windows, an overwrite and a DELETE: only those (group, window) units are
// recomputed, and the rollup equals a fresh SELECT for every window. Then the
// same marks survive a restart before the recomputation.
func TestLateData(t *testing.T) {
	dir := t.TempDir()
	r := newRig(t, dir, time.Hour)
	if err := r.eng.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	r.q(rollupCQ)
	r.at(0, 0) // 1.x's first run only starts the clock
	for min := 0; min < 10; min++ {
		r.write("a", min, 10, float64(min))
		r.write("b", min, 20, float64(10+min))
		r.at(min+1, 0) // the window that just ended is computed
	}
	r.checkRollup(10)
	// 11: 1.x's first run, at a window boundary, computes the window before it.
	if w, l := r.metric("windows"), r.metric("late"); w != 11 || l != 0 {
		t.Fatalf("on time: %v windows, %v late; want 11, 0", w, l)
	}

	r.write("a", 2, 30, 100) // late, three windows
	r.write("b", 5, 30, 200)
	r.write("a", 7, 45, 300)
	r.write("a", 3, 10, 50) // an overwrite of an existing point
	b, _ := r.eng.Bucket("db", "")
	if err := r.eng.Delete(b, "m", &storage.TagExpr{Op: storage.TagEq, Key: "host", Value: "b"}, base.Add(8*time.Minute).UnixNano(), base.Add(9*time.Minute).UnixNano()-1); err != nil {
		t.Fatal(err)
	}
	r.write("a", -120, 0, 1) // beyond the one-hour horizon
	r.at(10, 30)             // not due on the schedule: only the dirty windows
	r.checkRollup(10)
	if l := r.metric("late"); l != 5 {
		t.Fatalf("late windows recomputed = %v, want 5 (a@2, b@5, a@7, a@3, b@8)", l)
	}
	if n := r.metric("beyond"); n != 1 {
		t.Fatalf("late points beyond the horizon = %v, want 1", n)
	}

	// A late write, then a restart before the service ran: the checkpoint
	// written by the closing flush holds the mark.
	r.write("b", 1, 40, 400)
	r.close()
	r = newRig(t, dir, time.Hour)
	defer r.close()
	r.now = base.Add(10*time.Minute + 40*time.Second)
	r.at(10, 40)
	r.checkRollup(10)
	if l := r.metric("late"); l != 1 {
		t.Fatalf("after restart: late windows recomputed = %v, want 1", l)
	}
	// The schedule goes on from where it stopped, catching up the windows of
	// the downtime (1.x would skip them).
	r.write("a", 10, 5, 1)
	r.write("a", 11, 5, 2)
	r.at(12, 0) // first run after the restart: starts the clock
	r.at(13, 0)
	r.checkRollup(13)
}

// TestDDL checks CREATE's checks and answers, SHOW, DROP, and that the
// definitions survive a restart.
func TestDDL(t *testing.T) {
	dir := t.TempDir()
	r := newRig(t, dir, 0)
	if err := r.eng.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ stmt, err string }{
		{rollupCQ, ""},
		{rollupCQ, ""}, // the same again: no error, as 1.x
		{strings.Replace(rollupCQ, "max(v)", "min(v)", 1), "continuous query already exists"},
		{`CREATE CONTINUOUS QUERY x ON nodb BEGIN SELECT mean(v) INTO m2 FROM m GROUP BY time(1m) END`, "database not found: nodb"},
		{`CREATE CONTINUOUS QUERY x ON db BEGIN SELECT mean(v) INTO nop.m2 FROM m GROUP BY time(1m) END`, "retention policy not found: db.nop"},
		{`CREATE CONTINUOUS QUERY x ON db BEGIN SELECT v INTO m2 FROM m END`, "continuous queries must be aggregate queries"},
		{`CREATE CONTINUOUS QUERY x ON db BEGIN SELECT nosuch(v) INTO m2 FROM m GROUP BY time(1m) END`, "undefined function nosuch()"},
		{`DROP CONTINUOUS QUERY nosuch ON db`, "continuous query not found"},
	} {
		parsed, err := influxql.ParseQuery(c.stmt)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		r.ex.Execute(context.Background(), parsed, query.ExecOptions{Database: "db"}, query.SinkFunc(func(res *query.StatementResult) error {
			got = res.Err
			return nil
		}))
		if got != c.err {
			t.Errorf("%s: error %q, want %q", c.stmt, got, c.err)
		}
	}
	want := []query.ContinuousQueryInfo{{Database: "db", Name: "c",
		Query: "CREATE CONTINUOUS QUERY c ON db BEGIN SELECT mean(v) AS mean, count(v) AS count, max(v) AS max INTO db.autogen.m_1m FROM db.autogen.m GROUP BY time(1m), host END"}}
	if got := r.svc.ContinuousQueryStatus(); !slices.Equal(got, want) {
		t.Fatalf("status %+v, want %+v", got, want)
	}
	r.close()
	r = newRig(t, dir, 0)
	if got := r.svc.ContinuousQueryStatus(); !slices.Equal(got, want) {
		t.Fatalf("after restart: %+v, want %+v", got, want)
	}
	r.q("DROP CONTINUOUS QUERY c ON db")
	r.close()
	r = newRig(t, dir, 0)
	defer r.close()
	if got := r.svc.ContinuousQueryStatus(); len(got) != 0 {
		t.Fatalf("dropped query back after restart: %+v", got)
	}
}

// TestBackoff: a run that fails keeps its windows marked, backs off
// (visible in the status and metrics) and computes them once it can.
func TestBackoff(t *testing.T) {
	r := newRig(t, t.TempDir(), 0)
	defer r.close()
	if err := r.eng.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	r.q(`CREATE RETENTION POLICY out ON db DURATION 0s REPLICATION 1`)
	r.q(`CREATE CONTINUOUS QUERY c ON db BEGIN SELECT count(v) INTO db.out.m_1m FROM m GROUP BY time(1m) END`)
	r.write("a", 0, 1, 1)
	r.at(0, 30)
	r.q(`DROP RETENTION POLICY out ON db`) // the target goes away
	r.at(1, 0)
	st := r.svc.ContinuousQueryStatus()
	if len(st) != 1 || st[0].Err == "" || !st[0].RetryAt.After(r.now) {
		t.Fatalf("status after a failure: %+v", st)
	}
	if r.metric("errors") != 1 {
		t.Fatalf("error runs = %v", r.metric("errors"))
	}
	if cols, row := r.show(); !slices.Equal(cols, []string{"name", "query", "status", "error"}) || !strings.HasPrefix(fmt.Sprint(row[2]), "retrying at ") || row[3] != st[0].Err {
		t.Fatalf("SHOW CONTINUOUS QUERIES of a failing query: %v %v", cols, row)
	}
	r.at(1, 0) // backing off: no attempt
	if r.metric("errors") != 1 {
		t.Fatalf("retried during the backoff")
	}
	r.q(`CREATE RETENTION POLICY out ON db DURATION 0s REPLICATION 1`)
	r.at(1, 2)
	if st := r.svc.ContinuousQueryStatus(); st[0].Err != "" {
		t.Fatalf("still failing: %+v", st)
	}
	if cols, _ := r.show(); !slices.Equal(cols, []string{"name", "query"}) {
		t.Fatalf("SHOW CONTINUOUS QUERIES when healthy has columns %v, want 1.x's", cols)
	}
	if got := r.q(`SELECT count FROM db.out.m_1m`); !slices.Equal(got, []string{"map[]|00:00|1"}) {
		t.Fatalf("rollup after recovery: %v", got)
	}
}

var update = flag.Bool("update", false, "rewrite testdata/keys/cq-state.v1.golden")

// TestStateGolden pins the checkpoint values of docs/format/keys.md
// ("Observer state") and decodes them back.
func TestStateGolden(t *testing.T) {
	p := encodeProgress(-60e9, 120e9)
	d := encodeSpans(spans{{0, 60e9}, {120e9, 180e9}})
	got := fmt.Sprintf("# continuous query checkpoint state v%d (docs/format/keys.md)\nprogress key  %x\nprogress      %x\ndirty key     %x\ndirty         %x\n",
		stateVersion, progressKey("db", "c"), p, dirtyKey("db", "c", "\x01m"), d)
	path := filepath.Join("..", "..", "testdata", "keys", fmt.Sprintf("cq-state.v%d.golden", stateVersion))
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("checkpoint format changed without a version bump:\n%s\nwant:\n%s", got, want)
	}
	if s, w, err := decodeProgress(p); err != nil || s != -60e9 || w != 120e9 {
		t.Fatalf("progress: %v %v %v", s, w, err)
	}
	if sp, err := decodeSpans(d); err != nil || !slices.Equal(sp, spans{{0, 60e9}, {120e9, 180e9}}) {
		t.Fatalf("spans: %v %v", sp, err)
	}
	kind, db, name, group, err := parseStateKey(dirtyKey("db", "c", "\x01m"))
	if err != nil || kind != 'd' || db != "db" || name != "c" || group != "\x01m" {
		t.Fatalf("key: %c %q %q %q %v", kind, db, name, group, err)
	}
	for _, bad := range [][]byte{nil, {2}, {1, 1, 2}, {1, 1, 4, 2}, append(d, 0)} {
		if _, err := decodeSpans(bad); err == nil {
			t.Errorf("spans %x decoded", bad)
		}
	}
}

// FuzzDecodeState: the checkpoint decoders never panic, and what decodes
// encodes back the same.
func FuzzDecodeState(f *testing.F) {
	f.Add(encodeSpans(spans{{0, 60e9}, {120e9, 180e9}}))
	f.Add(encodeProgress(1, 2))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if sp, err := decodeSpans(b); err == nil {
			if again, err := decodeSpans(encodeSpans(sp)); err != nil || !slices.Equal(again, sp) {
				t.Fatalf("spans %v do not round-trip: %v %v", sp, again, err)
			}
		}
		if s, w, err := decodeProgress(b); err == nil && !slices.Equal(encodeProgress(s, w), b) {
			t.Fatalf("progress %x does not round-trip", b)
		}
		parseStateKey(b)
	})
}

func TestSpansAdd(t *testing.T) {
	for _, c := range []struct {
		in   []span
		want spans
	}{
		{[]span{{0, 1}, {2, 3}}, spans{{0, 1}, {2, 3}}},
		{[]span{{2, 3}, {0, 1}}, spans{{0, 1}, {2, 3}}},
		{[]span{{0, 1}, {1, 2}}, spans{{0, 2}}},
		{[]span{{0, 1}, {4, 5}, {2, 3}, {1, 4}}, spans{{0, 5}}},
		{[]span{{0, 10}, {2, 3}}, spans{{0, 10}}},
		{[]span{{3, 3}}, nil},
	} {
		var s spans
		for _, x := range c.in {
			s = s.add(x)
		}
		if !slices.Equal(s, c.want) {
			t.Errorf("add %v = %v, want %v", c.in, s, c.want)
		}
	}
}

// TestTiers runs the README's downsampling tiers (raw, 1-minute, 1-hour): a
// late raw point recomputes its minute, and the rewritten minute recomputes
// its hour.
func TestTiers(t *testing.T) {
	r := newRig(t, t.TempDir(), 0)
	defer r.close()
	r.base = time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour) // within the raw policy's 7 days
	for _, q := range []string{
		`CREATE DATABASE db WITH DURATION 7d NAME raw`,
		`CREATE RETENTION POLICY m90d ON db DURATION 90d REPLICATION 1`,
		`CREATE RETENTION POLICY forever ON db DURATION INF REPLICATION 1`,
		`CREATE CONTINUOUS QUERY m_1m ON db BEGIN SELECT mean(v) AS v, max(v) AS vmax INTO m90d.m FROM raw.m GROUP BY time(1m), * END`,
		`CREATE CONTINUOUS QUERY m_1h ON db BEGIN SELECT mean(v) AS v, max(vmax) AS vmax INTO forever.m FROM m90d.m GROUP BY time(1h), * END`,
	} {
		r.q(q)
	}
	r.now = r.base.Add(-time.Second)
	r.svc.RunOnce(context.Background()) // first runs start the clocks
	hourRange := fmt.Sprintf("time >= '%s' AND time < '%s'", r.base.Format(time.RFC3339), r.base.Add(time.Hour).Format(time.RFC3339))
	for min := 0; min < 120; min++ {
		r.write("a", min, 0, float64(min%7))
		r.at(min+1, 0)
	}
	hour := func() []string {
		return r.stored(`SELECT v, vmax FROM forever.m WHERE ` + hourRange)
	}
	fromMinutes := func() []string {
		return r.stored(`SELECT mean(v) AS v, max(vmax) AS vmax FROM m90d.m WHERE ` + hourRange + ` GROUP BY time(1h)`)
	}
	before := hour()
	if len(before) != 1 || !slices.Equal(before, fromMinutes()) {
		t.Fatalf("hour rollup %v, from the minutes %v", before, fromMinutes())
	}
	r.write("a", 30, 30, 1000) // late, into minute 30 of hour 0
	r.at(120, 10)              // recomputes the minute, which marks the hour
	r.at(120, 20)              // recomputes the hour
	after := hour()
	if slices.Equal(after, before) || !slices.Equal(after, fromMinutes()) || !strings.Contains(after[0], "1000") {
		t.Fatalf("after a late raw point: hour %v (was %v), from the minutes %v", after, before, fromMinutes())
	}
	if l := r.metric("late"); l != 2 {
		t.Fatalf("late windows recomputed = %v, want 2 (the minute, then the hour)", l)
	}
}

// TestDDLDuringWrites creates and drops a query while late and on-time
// writes go on and the service runs: no deadlock between the write path
// (which calls Touched under the engine's commit lock) and the DDL (which
// stores definitions), and no race (go test -race).
func TestDDLDuringWrites(t *testing.T) {
	r := newRig(t, t.TempDir(), 0)
	defer r.close()
	if err := r.eng.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			r.write("a", i%20, 0, float64(i))
		}
	}()
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		r.q(rollupCQ)
		r.svc.RunOnce(ctx)
		r.q("DROP CONTINUOUS QUERY c ON db")
	}
	close(done)
	<-stopped
}

// TestRetentionKeepsRollups: the retention enforcer's delete of expired raw
// data is not late data, whatever --cq-late-horizon says.
func TestRetentionKeepsRollups(t *testing.T) {
	r := newRig(t, t.TempDir(), 1000*24*time.Hour)
	defer r.close()
	r.base = time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	r.q(`CREATE DATABASE db WITH DURATION 7d NAME raw`)
	r.q(rollupCQ)
	r.now = r.base
	r.svc.RunOnce(context.Background())
	r.write("a", 0, 1, 1)
	r.at(1, 0)
	r.svc.mu.Lock()
	r.svc.cqs[cqID("db", "c")].since = r.base.Add(-30 * 24 * time.Hour).UnixNano() // as if it ran for a month
	r.svc.mu.Unlock()
	b, _ := r.eng.Bucket("db", "")
	if err := r.eng.Delete(b, "", nil, math.MinInt64, r.base.Add(-8*24*time.Hour).UnixNano()); err != nil {
		t.Fatal(err)
	}
	r.svc.mu.Lock()
	dirty := len(r.svc.cqs[cqID("db", "c")].dirty)
	r.svc.mu.Unlock()
	if dirty != 0 {
		t.Fatalf("an expiry delete marked %d groups dirty", dirty)
	}
}

// show answers SHOW CONTINUOUS QUERIES: the columns and first row of db's series.
func (r *rig) show() ([]string, []any) {
	r.t.Helper()
	parsed, _ := influxql.ParseQuery("SHOW CONTINUOUS QUERIES")
	var cols []string
	var row []any
	r.ex.Execute(context.Background(), parsed, query.ExecOptions{}, query.SinkFunc(func(res *query.StatementResult) error {
		for _, s := range res.Series {
			if s.Name == "db" && len(s.Rows) > 0 {
				cols, row = s.Columns, s.Rows[0].Values
			}
		}
		return nil
	}))
	return cols, row
}

// TestBackReference: a regex source with INTO :MEASUREMENT rolls up each
// measurement into its namesake, and a late point recomputes only its own
// measurement's window.
func TestBackReference(t *testing.T) {
	r := newRig(t, t.TempDir(), 0)
	defer r.close()
	if err := r.eng.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	r.q(`CREATE RETENTION POLICY rp1 ON db DURATION 0s REPLICATION 1`)
	r.q(`CREATE CONTINUOUS QUERY c ON db BEGIN SELECT count(v) AS n INTO rp1.:MEASUREMENT FROM /[cg]pu/ GROUP BY time(1m) END`)
	r.at(0, 0)
	for min := 0; min < 3; min++ {
		for _, m := range []string{"cpu", "gpu", "disk"} {
			r.writeM(m, "a", min, 5, 1)
		}
		r.at(min+1, 0)
	}
	r.writeM("gpu", "b", 1, 30, 1)  // late
	r.writeM("disk", "b", 1, 30, 1) // not read by the query
	r.at(3, 30)
	if l := r.metric("late"); l != 1 {
		t.Fatalf("late windows recomputed = %v, want 1 (gpu, minute 1)", l)
	}
	for m, want := range map[string][]string{
		"cpu": {"map[]|00:00|1", "map[]|00:01|1", "map[]|00:02|1"},
		"gpu": {"map[]|00:00|1", "map[]|00:01|2", "map[]|00:02|1"},
	} {
		if got := r.stored("SELECT n FROM rp1." + m); !slices.Equal(got, want) {
			t.Errorf("rp1.%s = %v, want %v", m, got, want)
		}
	}
	if got := r.stored("SELECT * FROM rp1.disk"); len(got) != 0 {
		t.Errorf("disk rolled up: %v", got)
	}
}

func (r *rig) writeM(m, host string, min, sec int, v float64) {
	r.t.Helper()
	b, err := r.eng.Bucket("db", "")
	if err != nil {
		r.t.Fatal(err)
	}
	batch, err := r.eng.NewBatch(b)
	if err != nil {
		r.t.Fatal(err)
	}
	ts := r.base.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second).UnixNano()
	if err := batch.Add([]byte(m), []storage.Tag{{Key: []byte("host"), Value: []byte(host)}}, []storage.FieldValue{{Key: []byte("v"), Type: storage.Float, Float: v}}, ts); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.eng.Write(batch); err != nil {
		r.t.Fatal(err)
	}
}

// TestResampleRuns: RESAMPLE EVERY 2m FOR 4m computes the last four minutes
// every two minutes, through the service as the schedule table says.
func TestResampleRuns(t *testing.T) {
	r := newRig(t, t.TempDir(), 0)
	defer r.close()
	if err := r.eng.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	r.q(`CREATE CONTINUOUS QUERY c ON db RESAMPLE EVERY 2m FOR 4m BEGIN SELECT count(v) AS n INTO m_1m FROM m GROUP BY time(1m) END`)
	// The first run (00:00:30) starts the clock at 00:00 and, FOR being
	// longer than an interval, computes [-3m, 0) as 1.x does; then every two
	// minutes the four minutes before the run's end.
	r.at(0, 30)
	for _, c := range []struct{ min, windows int }{{1, 3}, {2, 7}, {3, 7}, {4, 11}, {6, 15}} {
		r.write("a", c.min-1, 0, 1)
		r.at(c.min, 0)
		if w := r.metric("windows"); w != float64(c.windows) {
			t.Fatalf("at minute %d: %v windows computed, want %d", c.min, w, c.windows)
		}
	}
	// Empty windows inside a run's range get count 0, as the SELECT answers.
	want := []string{"map[]|00:00|1", "map[]|00:01|1", "map[]|00:02|1", "map[]|00:03|1", "map[]|00:04|0", "map[]|00:05|1", "map[]|23:58|0", "map[]|23:59|0"}
	if got := r.stored("SELECT n FROM m_1m"); !slices.Equal(got, want) {
		t.Fatalf("rollup %v", got)
	}
}
