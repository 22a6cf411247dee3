package storage

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"testing"
	"time"
)

func seriesKeys(t *testing.T, e *Engine, db, m string) []string {
	t.Helper()
	var out []string
	for k := range readAll(t, e, db, m, nil, math.MinInt64, math.MaxInt64) {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestRetentionPoliciesAreSeparateBuckets(t *testing.T) {
	dir := t.TempDir()
	e := openTestEngine(t, dir, Options{})
	if err := e.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	week := RetentionPolicy{Name: "week", Duration: 7 * 24 * time.Hour, ShardGroupDuration: 24 * time.Hour, Replication: 1}
	if err := e.CreateRetentionPolicy("db", week, false); err != nil {
		t.Fatal(err)
	}
	if err := e.CreateRetentionPolicy("db", week, false); err != nil {
		t.Fatalf("identical re-create: %v", err)
	}
	week2 := week
	week2.Duration = 14 * 24 * time.Hour
	if err := e.CreateRetentionPolicy("db", week2, false); !errors.Is(err, ErrRetentionPolicyExists) {
		t.Fatalf("conflicting re-create: %v", err)
	}
	now := time.Now().UnixNano()
	wb, err := e.Bucket("db", "week")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := e.NewBatch(wb)
	if err := b.Add([]byte("m"), nil, fieldsOf(map[string]any{"v": 1.0}), now); err != nil {
		t.Fatal(err)
	}
	if err := b.Add([]byte("m"), nil, fieldsOf(map[string]any{"v": 2.0}), now-8*24*int64(time.Hour)); !errors.Is(err, ErrBeyondRetention) {
		t.Fatalf("old point: %v", err)
	}
	if res, err := e.Write(b); err != nil || res.Written != 1 || res.Rejected != 1 {
		t.Fatalf("write %+v %v", res, err)
	}
	write(t, e, "db", pt{"m", nil, map[string]any{"v": 3.0}, 1}) // default RP: autogen
	check := func(stage string) {
		t.Helper()
		if got := readAll(t, e, "db", "m", nil, math.MinInt64, math.MaxInt64); len(got["m"]["v"]) != 1 || got["m"]["v"][1] != 3.0 {
			t.Fatalf("%s: autogen holds %v", stage, got)
		}
		if ids, _ := e.SeriesIDs(wb, "m", nil); ids.GetCardinality() != 1 {
			t.Fatalf("%s: week has %d series", stage, ids.GetCardinality())
		}
		rps, _ := e.RetentionPolicies("db")
		if len(rps) != 2 || rps[0].Name != "autogen" || !rps[0].Default || rps[1].Name != "week" || rps[1].Default {
			t.Fatalf("%s: policies %+v", stage, rps)
		}
	}
	check("live")
	crash(t, e)
	e = openTestEngine(t, dir, Options{})
	check("replayed")

	d := 48 * time.Hour
	if err := e.AlterRetentionPolicy("db", "week", RetentionPolicyUpdate{Duration: &d, MakeDefault: true}); err != nil {
		t.Fatal(err)
	}
	rps, _ := e.RetentionPolicies("db")
	if rps[1].Duration != d || !rps[1].Default || rps[0].Default {
		t.Fatalf("after alter: %+v", rps)
	}
	if err := e.DropRetentionPolicy("db", "week"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Bucket("db", "week"); !errors.As(err, new(*RetentionPolicyNotFoundError)) {
		t.Fatalf("dropped policy: %v", err)
	}
	e.Close()
	e = openTestEngine(t, dir, Options{})
	defer e.Close()
	if rps, _ := e.RetentionPolicies("db"); len(rps) != 1 {
		t.Fatalf("after reopen: %+v", rps)
	}
	if fmt.Sprint(e.Databases()) != "[db]" {
		t.Fatal(e.Databases())
	}
}

func TestDropSeriesAndMeasurementSurviveReplay(t *testing.T) {
	dir := t.TempDir()
	e := openTestEngine(t, dir, Options{})
	e.CreateDatabase("db", nil)
	write(t, e, "db",
		pt{"m", map[string]string{"host": "a"}, map[string]any{"v": 1.0}, 1},
		pt{"m", map[string]string{"host": "b"}, map[string]any{"v": 2.0}, 1},
		pt{"gone", map[string]string{"host": "a"}, map[string]any{"x": "s"}, 1},
	)
	e.Flush() // half the data in blocks, half in the head
	write(t, e, "db", pt{"m", map[string]string{"host": "a"}, map[string]any{"v": 3.0}, 2})
	bk := bucketOf(t, e, "db")
	if n, err := e.DropSeries(bk, "m", &TagExpr{Op: TagEq, Key: "host", Value: "a"}); err != nil || n != 1 {
		t.Fatalf("drop series: %d %v", n, err)
	}
	if err := e.DropMeasurement(bk, "gone"); err != nil {
		t.Fatal(err)
	}
	// A write after the drop re-creates the series: it must survive replay.
	write(t, e, "db", pt{"m", map[string]string{"host": "a"}, map[string]any{"v": 4.0}, 3})
	check := func(stage string) {
		t.Helper()
		got := readAll(t, e, "db", "m", nil, math.MinInt64, math.MaxInt64)
		want := map[string]map[string]map[int64]any{
			"m,host=a": {"v": {3: 4.0}},
			"m,host=b": {"v": {1: 2.0}},
		}
		if !sameData(got, want) {
			t.Fatalf("%s: %v", stage, got)
		}
		if ms, _ := e.Measurements(bucketOf(t, e, "db")); fmt.Sprint(ms) != "[m]" {
			t.Fatalf("%s: measurements %v", stage, ms)
		}
		if f, _ := e.Fields(bucketOf(t, e, "db"), "gone"); len(f) != 0 {
			t.Fatalf("%s: fields of dropped measurement: %v", stage, f)
		}
		vals, _, _ := e.TagValues(bucketOf(t, e, "db"), "m", "host")
		if fmt.Sprint(vals) != "[a b]" {
			t.Fatalf("%s: tag values %v", stage, vals)
		}
	}
	check("live")
	crash(t, e)
	e = openTestEngine(t, dir, Options{})
	check("replayed")
	e.Close()
	e = openTestEngine(t, dir, Options{})
	defer e.Close()
	check("flushed and reopened")
}

func TestDeleteRange(t *testing.T) {
	dir := t.TempDir()
	e := openTestEngine(t, dir, Options{})
	e.CreateDatabase("db", nil)
	var pts []pt
	for i := int64(0); i < 10; i++ {
		pts = append(pts, pt{"m", map[string]string{"host": "a"}, map[string]any{"v": float64(i)}, i})
	}
	pts = append(pts, pt{"m", map[string]string{"host": "b"}, map[string]any{"v": 100.0}, 5})
	write(t, e, "db", pts[:6]...)
	e.Flush()
	write(t, e, "db", pts[6:]...)
	bk := bucketOf(t, e, "db")
	// Points 3..7 of every series: host=b has nothing else and is dropped.
	if err := e.Delete(bk, "m", nil, 3, 7); err != nil {
		t.Fatal(err)
	}
	check := func(stage string) {
		t.Helper()
		got := readAll(t, e, "db", "m", nil, math.MinInt64, math.MaxInt64)
		want := map[string]map[string]map[int64]any{"m,host=a": {"v": {0: 0.0, 1: 1.0, 2: 2.0, 8: 8.0, 9: 9.0}}}
		if !sameData(got, want) {
			t.Fatalf("%s: %v", stage, got)
		}
		vals, _, _ := e.TagValues(bucketOf(t, e, "db"), "m", "host")
		if fmt.Sprint(vals) != "[a]" {
			t.Fatalf("%s: series left %v", stage, vals)
		}
	}
	check("live")
	crash(t, e)
	e = openTestEngine(t, dir, Options{})
	check("replayed")
	// Deleting everything leaves no measurement.
	if err := e.Delete(bucketOf(t, e, "db"), "", nil, math.MinInt64, math.MaxInt64); err != nil {
		t.Fatal(err)
	}
	if ms, _ := e.Measurements(bucketOf(t, e, "db")); len(ms) != 0 {
		t.Fatalf("measurements after deleting all: %v", ms)
	}
	e.Close()
}

// Under NoRetentionAutoCreate a database starts without policies; that survives a
// restart (also one with the option off: it applies at creation only), and writes
// need a policy first.
func TestCreateDatabaseWithoutRetentionAutoCreate(t *testing.T) {
	dir := t.TempDir()
	e := openTestEngine(t, dir, Options{NoRetentionAutoCreate: true})
	if err := e.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	check := func(stage string, e *Engine, want int) {
		t.Helper()
		rps, err := e.RetentionPolicies("db")
		if err != nil || len(rps) != want {
			t.Fatalf("%s: policies %v %v, want %d", stage, rps, err, want)
		}
	}
	check("created", e, 0)
	if _, err := e.Bucket("db", ""); !errors.As(err, new(*RetentionPolicyNotFoundError)) {
		t.Fatalf("default policy of a database without one: %v", err)
	}
	if err := e.CreateDatabase("db", nil); err != nil {
		t.Fatalf("re-create: %v", err)
	}
	e.Close()
	e = openTestEngine(t, dir, Options{})
	check("reopened", e, 0)
	if got := e.Databases(); len(got) != 1 || got[0] != "db" {
		t.Fatalf("databases %v", got)
	}
	// Creation order holds for a policy-less database too, across a restart.
	if err := e.CreateDatabase("a_later", nil); err != nil {
		t.Fatal(err)
	}
	e.Close()
	e = openTestEngine(t, dir, Options{})
	if got := e.Databases(); fmt.Sprint(got) != "[db a_later]" {
		t.Fatalf("databases %v, want creation order", got)
	}
	rp := RetentionPolicy{Name: "rp0", Duration: time.Hour, ShardGroupDuration: time.Hour, Replication: 1}
	if err := e.CreateRetentionPolicy("db", rp, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Bucket("db", ""); err == nil {
		t.Fatal("a policy not created as DEFAULT became the default")
	}
	if err := e.CreateDatabase("other", nil); err != nil { // the option is off now
		t.Fatal(err)
	}
	if rps, _ := e.RetentionPolicies("other"); len(rps) != 1 || rps[0].Name != "autogen" || !rps[0].Default {
		t.Fatalf("other: %v", rps)
	}
	// Making rp0 the default keeps the creation order.
	if err := e.AlterRetentionPolicy("db", "rp0", RetentionPolicyUpdate{MakeDefault: true}); err != nil {
		t.Fatal(err)
	}
	e.Close()
	e = openTestEngine(t, dir, Options{})
	if got := e.Databases(); fmt.Sprint(got) != "[db a_later other]" {
		t.Fatalf("databases %v, want creation order", got)
	}
	if _, err := e.Bucket("db", ""); err != nil {
		t.Fatalf("default policy after ALTER ... DEFAULT and a restart: %v", err)
	}
	e.Close()
}
