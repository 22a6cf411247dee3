package storage

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble"

	"github.com/strata-db/strata/storage/block"
)

func openTestEngine(t *testing.T, dir string, opts Options) *Engine {
	t.Helper()
	opts.Dir = dir
	opts.NoSync = true // durability across real crashes is tested in cmd/strata
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := Open(opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return e
}

func bucketOf(t *testing.T, e *Engine, db string) BucketID {
	t.Helper()
	b, err := e.Bucket(db, "")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// crash abandons the engine as a kill -9 would: nothing is flushed; files are closed
// only so that the same process can open the directory again.
func crash(t *testing.T, e *Engine) {
	t.Helper()
	e.commitMu.Lock()
	e.closed = true
	e.commitMu.Unlock()
	close(e.stop)
	e.bg.Wait()
	if err := e.wal.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.pebble.Close(); err != nil {
		t.Fatal(err)
	}
}

type pt struct {
	m      string
	tags   map[string]string
	fields map[string]any
	t      int64
}

func tagsOf(kv map[string]string) []Tag {
	var out []Tag
	for k, v := range kv {
		out = append(out, Tag{Key: []byte(k), Value: []byte(v)})
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i].Key) < string(out[j].Key) })
	return out
}

func fieldsOf(kv map[string]any) []FieldValue {
	var out []FieldValue
	for k, v := range kv {
		f := FieldValue{Key: []byte(k)}
		switch x := v.(type) {
		case float64:
			f.Type, f.Float = Float, x
		case int64:
			f.Type, f.Int = Integer, x
		case uint64:
			f.Type, f.Uint = Unsigned, x
		case bool:
			f.Type, f.Bool = Boolean, x
		case string:
			f.Type, f.Str = String, []byte(x)
		default:
			panic(fmt.Sprintf("bad value %T", v))
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i].Key) < string(out[j].Key) })
	return out
}

// write writes pts as one batch and returns the per-point Add errors.
func write(t *testing.T, e *Engine, db string, pts ...pt) (WriteResult, []error) {
	t.Helper()
	b, err := e.NewBatch(bucketOf(t, e, db))
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for _, p := range pts {
		errs = append(errs, b.Add([]byte(p.m), tagsOf(p.tags), fieldsOf(p.fields), p.t))
	}
	res, err := e.Write(b)
	if err != nil {
		t.Fatal(err)
	}
	return res, errs
}

// readAll returns series key string -> field -> time -> value.
func readAll(t *testing.T, e *Engine, db, m string, expr *TagExpr, min, max int64) map[string]map[string]map[int64]any {
	t.Helper()
	out := map[string]map[string]map[int64]any{}
	err := e.ReadSeries(bucketOf(t, e, db), m, expr, min, max, func(s *SeriesData) error {
		key := s.Measurement
		for _, tg := range s.Tags {
			key += "," + string(tg.Key) + "=" + string(tg.Value)
		}
		fm := map[string]map[int64]any{}
		for name, col := range s.Fields {
			vals := map[int64]any{}
			for i, ts := range col.Times {
				if i > 0 && col.Times[i-1] >= ts {
					t.Fatalf("%s %s: times not strictly increasing at %d", key, name, i)
				}
				vals[ts] = cell(col, i)
			}
			fm[name] = vals
		}
		out[key] = fm
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func cell(c *block.Column, i int) any {
	switch c.Type {
	case Float:
		return c.Floats[i]
	case Integer:
		return c.Ints[i]
	case Unsigned:
		return c.Uints[i]
	case Boolean:
		return c.Bools[i]
	case String:
		return string(c.Strings[i])
	}
	return nil
}

func TestWriteReadAllTypesAcrossFlushAndRestart(t *testing.T) {
	dir := t.TempDir()
	e := openTestEngine(t, dir, Options{})
	if err := e.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	nan := math.Float64frombits(0x7ff8000000000bad)
	pts := []pt{
		{"m", map[string]string{"host": "a"}, map[string]any{"f": 1.5, "i": int64(-3), "u": uint64(math.MaxUint64), "b": true, "s": "x\"y"}, 10},
		{"m", map[string]string{"host": "a"}, map[string]any{"f": math.Copysign(0, -1), "i": int64(math.MinInt64), "s": ""}, 20},
		{"m", map[string]string{"host": "b"}, map[string]any{"f": nan}, -5},
	}
	if res, errs := write(t, e, "db", pts...); res.Written != 3 || res.Rejected != 0 {
		t.Fatalf("write: %+v %v", res, errs)
	}
	want := map[string]map[string]map[int64]any{
		"m,host=a": {
			"f": {10: 1.5, 20: math.Copysign(0, -1)},
			"i": {10: int64(-3), 20: int64(math.MinInt64)},
			"u": {10: uint64(math.MaxUint64)},
			"b": {10: true},
			"s": {10: "x\"y", 20: ""},
		},
		"m,host=b": {"f": {-5: nan}},
	}
	check := func(stage string) {
		t.Helper()
		got := readAll(t, e, "db", "m", nil, math.MinInt64, math.MaxInt64)
		if !sameData(got, want) {
			t.Fatalf("%s: got %v, want %v", stage, got, want)
		}
	}
	check("head")
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	check("blocks")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = openTestEngine(t, dir, Options{})
	check("reopened")
	// Same after a crash with data only in the WAL.
	write(t, e, "db", pt{"m", map[string]string{"host": "a"}, map[string]any{"f": 2.5}, 30})
	want["m,host=a"]["f"][30] = 2.5
	crash(t, e)
	e = openTestEngine(t, dir, Options{})
	defer e.Close()
	check("replayed")
}

// sameData compares bit-exactly for floats (NaN payloads, -0).
func sameData(a, b map[string]map[string]map[int64]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, fa := range a {
		fb, ok := b[k]
		if !ok || len(fa) != len(fb) {
			return false
		}
		for f, va := range fa {
			vb, ok := fb[f]
			if !ok || len(va) != len(vb) {
				return false
			}
			for ts, x := range va {
				y, ok := vb[ts]
				if !ok {
					return false
				}
				if xf, ok := x.(float64); ok {
					yf, ok := y.(float64)
					if !ok || math.Float64bits(xf) != math.Float64bits(yf) {
						return false
					}
				} else if x != y {
					return false
				}
			}
		}
	}
	return true
}

func TestLastWriteWinsAcrossHeadAndBlocks(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{})
	defer e.Close()
	e.CreateDatabase("db", nil)
	tags := map[string]string{"t": "a"}
	// Out of order, with a duplicate inside the batch: the later line wins.
	write(t, e, "db",
		pt{"m", tags, map[string]any{"v": 3.0, "w": 1.0}, 30},
		pt{"m", tags, map[string]any{"v": 1.0}, 10},
		pt{"m", tags, map[string]any{"v": 2.0}, 20},
		pt{"m", tags, map[string]any{"v": 9.0}, 10},
	)
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	// Overwrite one flushed point in the head; fields merge (w stays).
	write(t, e, "db", pt{"m", tags, map[string]any{"v": 20.0}, 20})
	want := map[string]map[string]map[int64]any{"m,t=a": {"v": {10: 9.0, 20: 20.0, 30: 3.0}, "w": {30: 1.0}}}
	if got := readAll(t, e, "db", "m", nil, math.MinInt64, math.MaxInt64); !sameData(got, want) {
		t.Fatalf("head over block: got %v", got)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	// Two overlapping blocks now; the newer flush wins.
	if got := readAll(t, e, "db", "m", nil, math.MinInt64, math.MaxInt64); !sameData(got, want) {
		t.Fatalf("block over block: got %v", got)
	}
	// Time range bounds are inclusive.
	want = map[string]map[string]map[int64]any{"m,t=a": {"v": {20: 20.0}}}
	if got := readAll(t, e, "db", "m", nil, 11, 29); !sameData(got, want) {
		t.Fatalf("range: got %v", got)
	}
}

func TestTypeConflicts(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{})
	defer e.Close()
	e.CreateDatabase("db", nil)
	write(t, e, "db", pt{"tc", nil, map[string]any{"v": 1.0}, 1})

	res, errs := write(t, e, "db",
		pt{"tc", nil, map[string]any{"v": 3.0}, 3},
		pt{"tc", nil, map[string]any{"v": int64(4)}, 4},
		pt{"tc", nil, map[string]any{"v": 5.0}, 5},
		// Inside one batch, the first point to introduce a field fixes its type.
		pt{"new", nil, map[string]any{"x": "s"}, 1},
		pt{"new", nil, map[string]any{"x": true}, 2},
	)
	if res.Written != 3 || res.Rejected != 2 {
		t.Fatalf("result %+v", res)
	}
	var c *FieldTypeConflictError
	if !errors.As(errs[1], &c) || c.Error() != `field type conflict: input field "v" on measurement "tc" is type integer, already exists as type float` {
		t.Fatalf("error %v", errs[1])
	}
	if errs[4] == nil || errs[4].Error() != `field type conflict: input field "x" on measurement "new" is type boolean, already exists as type string` {
		t.Fatalf("error %v", errs[4])
	}
	got := readAll(t, e, "db", "tc", nil, math.MinInt64, math.MaxInt64)
	if len(got["tc"]["v"]) != 3 {
		t.Fatalf("got %v", got)
	}
	// A point whose only field is "time", and a tag named "time", are rejected.
	_, errs = write(t, e, "db", pt{"tk", nil, map[string]any{"time": 1.0}, 1},
		pt{"tk3", map[string]string{"time": "x"}, map[string]any{"v": 1.0}, 1},
		pt{"tk2", nil, map[string]any{"time": 1.0, "v": 2.0}, 1})
	if errs[0] == nil || errs[0].Error() != `invalid field name: input field "time" on measurement "tk" is invalid` {
		t.Fatalf("time field: %v", errs[0])
	}
	if errs[1] == nil || errs[1].Error() != `invalid tag key: input tag "time" on measurement "tk3" is invalid` {
		t.Fatalf("time tag: %v", errs[1])
	}
	if errs[2] != nil {
		t.Fatalf("time next to other fields must be dropped silently: %v", errs[2])
	}
	if f, _ := e.Fields(bucketOf(t, e, "db"), "tk2"); len(f) != 1 || f[0].Name != "v" {
		t.Fatalf("fields of tk2: %v", f)
	}
}

func TestTagPredicates(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{})
	defer e.Close()
	e.CreateDatabase("db", nil)
	series := []map[string]string{
		{"host": "web1", "dc": "eu"},
		{"host": "web2", "dc": "us"},
		{"host": "db1", "dc": "eu"},
		{"host": "db2"}, // no dc
	}
	var pts []pt
	for i, s := range series {
		pts = append(pts, pt{"cpu", s, map[string]any{"v": float64(i)}, 1})
	}
	pts = append(pts, pt{"other", map[string]string{"host": "web1"}, map[string]any{"v": 1.0}, 1})
	write(t, e, "db", pts...)
	eq := func(k, v string) *TagExpr { return &TagExpr{Op: TagEq, Key: k, Value: v} }
	re := func(op TagOp, k, r string) *TagExpr { return &TagExpr{Op: op, Key: k, Regex: regexp.MustCompile(r)} }
	cases := []struct {
		name string
		expr *TagExpr
		want []string // hosts
	}{
		{"all", nil, []string{"db1", "db2", "web1", "web2"}},
		{"eq", eq("host", "web1"), []string{"web1"}},
		{"eq missing value", eq("host", "nope"), nil},
		{"neq", &TagExpr{Op: TagNotEq, Key: "dc", Value: "eu"}, []string{"db2", "web2"}},
		{"eq empty means tag absent", eq("dc", ""), []string{"db2"}},
		{"regex", re(TagMatch, "host", "^web"), []string{"web1", "web2"}},
		{"not regex", re(TagNotMatch, "host", "^web"), []string{"db1", "db2"}},
		{"regex matching empty includes absent", re(TagMatch, "dc", "^(us|)$"), []string{"db2", "web2"}},
		{"and", &TagExpr{Op: TagAnd, LHS: re(TagMatch, "host", "1$"), RHS: eq("dc", "eu")}, []string{"db1", "web1"}},
		{"or", &TagExpr{Op: TagOr, LHS: eq("host", "db2"), RHS: eq("dc", "us")}, []string{"db2", "web2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, e, "db", "cpu", tc.expr, math.MinInt64, math.MaxInt64)
			var hosts []string
			for k := range got {
				m := regexp.MustCompile(`host=(\w+)`).FindStringSubmatch(k)
				hosts = append(hosts, m[1])
			}
			sort.Strings(hosts)
			if fmt.Sprint(hosts) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", hosts, tc.want)
			}
		})
	}
	keys, _ := e.TagKeys(bucketOf(t, e, "db"), "cpu")
	if fmt.Sprint(keys) != "[dc host]" {
		t.Fatalf("tag keys %v", keys)
	}
	vals, _, _ := e.TagValues(bucketOf(t, e, "db"), "cpu", "host")
	if fmt.Sprint(vals) != "[db1 db2 web1 web2]" {
		t.Fatalf("tag values %v", vals)
	}
	ms, _ := e.Measurements(bucketOf(t, e, "db"))
	if fmt.Sprint(ms) != "[cpu other]" {
		t.Fatalf("measurements %v", ms)
	}
}

func TestDropDatabaseStaysDropped(t *testing.T) {
	dir := t.TempDir()
	e := openTestEngine(t, dir, Options{})
	e.CreateDatabase("db", nil)
	write(t, e, "db", pt{"m", nil, map[string]any{"v": 1.0}, 1})
	e.Flush()
	write(t, e, "db", pt{"m", nil, map[string]any{"v": 2.0}, 2}) // only in WAL and head
	if err := e.DropDatabase("db"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Bucket("db", ""); !errors.As(err, new(*DatabaseNotFoundError)) {
		t.Fatalf("batch on dropped db: %v", err)
	}
	e.CreateDatabase("db", nil)
	crash(t, e) // the WAL still holds the old database's point
	e = openTestEngine(t, dir, Options{})
	defer e.Close()
	if got := readAll(t, e, "db", "m", nil, math.MinInt64, math.MaxInt64); len(got) != 0 {
		t.Fatalf("dropped data came back: %v", got)
	}
	if fmt.Sprint(e.Databases()) != "[db]" {
		t.Fatalf("databases %v", e.Databases())
	}
}

// TestDropDatabaseOrphansRemoved simulates a crash right after a drop became durable
// (catalog entry gone) but before its range deletions did: the next open removes
// the leftovers.
func TestDropDatabaseOrphansRemoved(t *testing.T) {
	dir := t.TempDir()
	e := openTestEngine(t, dir, Options{})
	e.CreateDatabase("gone", nil)
	e.CreateDatabase("kept", nil)
	write(t, e, "gone", pt{"m", map[string]string{"t": "a"}, map[string]any{"v": 1.0}, 1})
	write(t, e, "kept", pt{"m", map[string]string{"t": "a"}, map[string]any{"v": 1.0}, 1})
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	// Only the durable part of DropDatabase: the catalog entry.
	if err := e.pebble.Delete(databaseKey("gone"), pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	if err := e.pebble.Delete(retentionKey("gone", "autogen"), pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	if err := e.persist(); err != nil {
		t.Fatal(err)
	}
	crash(t, e)
	e = openTestEngine(t, dir, Options{})
	defer e.Close()
	for kind := kindSeriesByKey; kind <= kindBlock; kind++ {
		n := 0
		scanPrefix(e.pebble, []byte{kind}, func(k, v []byte) error { n++; return nil })
		// What is left belongs to "kept" only: one series, one measurement, one tag
		// posting, one field, one block.
		if n != 1 {
			t.Errorf("kind %#x: %d keys left, want 1 (those of the kept database)", kind, n)
		}
	}
	if got := readAll(t, e, "kept", "m", nil, math.MinInt64, math.MaxInt64); len(got) != 1 {
		t.Fatalf("kept database lost data: %v", got)
	}
}

func TestSeriesLimit(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{MaxSeriesPerDatabase: 2})
	defer e.Close()
	e.CreateDatabase("db", nil)
	res, _ := write(t, e, "db",
		pt{"m", map[string]string{"h": "1"}, map[string]any{"v": 1.0}, 1},
		pt{"m", map[string]string{"h": "1"}, map[string]any{"v": 1.0}, 2}, // same series, no new one
		pt{"m", map[string]string{"h": "2"}, map[string]any{"v": 1.0}, 1},
		pt{"m", map[string]string{"h": "3"}, map[string]any{"v": 1.0}, 1},
	)
	if res.Written != 3 || res.Rejected != 1 || res.Errors[0].Error() != "max-series-per-database limit exceeded: (2)" {
		t.Fatalf("result %+v", res)
	}
}

// TestSeriesLimitTotal: --max-series counts the series of every database,
// survives a reopen, and never refuses a point of an existing series.
func TestSeriesLimitTotal(t *testing.T) {
	dir := t.TempDir()
	opts := Options{MaxSeriesPerDatabase: -1, MaxSeries: 3}
	e := openTestEngine(t, dir, opts)
	e.CreateDatabase("a", nil)
	e.CreateDatabase("b", nil)
	h := func(v string) map[string]string { return map[string]string{"h": v} }
	f := map[string]any{"v": 1.0}
	if res, _ := write(t, e, "a", pt{"m", h("1"), f, 1}, pt{"m", h("2"), f, 1}); res.Written != 2 {
		t.Fatalf("a: %+v", res)
	}
	res, _ := write(t, e, "b", pt{"m", h("1"), f, 1}, pt{"m", h("2"), f, 1})
	if res.Written != 1 || res.Rejected != 1 || res.Errors[0].Error() != "max-series limit exceeded: (3 series in all databases)" {
		t.Fatalf("b: %+v", res)
	}
	e.Close()
	e = openTestEngine(t, dir, opts)
	defer e.Close()
	if res, _ := write(t, e, "a", pt{"m", h("1"), f, 2}, pt{"m", h("9"), f, 2}); res.Written != 1 || res.Rejected != 1 {
		t.Fatalf("after reopen: %+v", res)
	}
}

// TestConcurrentWritersWithFlushes writes from several goroutines while a tiny head
// forces many flushes, then checks every value, live and after a crash.
func TestConcurrentWritersWithFlushes(t *testing.T) {
	dir := t.TempDir()
	e := openTestEngine(t, dir, Options{HeadMaxBytes: 64 << 10})
	e.CreateDatabase("db", nil)
	const writers, batches, perBatch = 4, 40, 50
	// A reader runs throughout: head snapshots sort fields written out of order
	// and hand out views while writers append and flushes freeze heads (-race).
	stopReading := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		bk := bucketOf(t, e, "db")
		for {
			select {
			case <-stopReading:
				return
			default:
			}
			e.ReadSeries(bk, "cpu", nil, math.MinInt64, math.MaxInt64, func(s *SeriesData) error {
				for _, c := range s.Fields {
					for i := 1; i < c.Len(); i++ {
						if c.Times[i] <= c.Times[i-1] {
							t.Errorf("reader saw unsorted times")
							return nil
						}
					}
				}
				return nil
			})
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w)))
			for b := 0; b < batches; b++ {
				var pts []pt
				for i := 0; i < perBatch; i++ {
					ts := int64(b*perBatch + perBatch - 1 - i) // out of order within a batch
					host := fmt.Sprintf("h%d", rng.Intn(5))
					pts = append(pts, pt{"cpu", map[string]string{"w": fmt.Sprint(w), "host": host}, map[string]any{"v": float64(ts)}, ts})
				}
				b, _ := e.NewBatch(bucketOf(t, e, "db"))
				for _, p := range pts {
					b.Add([]byte(p.m), tagsOf(p.tags), fieldsOf(p.fields), p.t)
				}
				if _, err := e.Write(b); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(stopReading)
	<-readerDone
	count := func() int {
		n := 0
		for _, f := range readAll(t, e, "db", "cpu", nil, math.MinInt64, math.MaxInt64) {
			for ts, v := range f["v"] {
				if v != float64(ts) {
					t.Fatalf("value %v at %d", v, ts)
				}
				n++
			}
		}
		return n
	}
	if n := count(); n != writers*batches*perBatch {
		t.Fatalf("live: %d values, want %d", n, writers*batches*perBatch)
	}
	crash(t, e)
	e = openTestEngine(t, dir, Options{})
	defer e.Close()
	if n := count(); n != writers*batches*perBatch {
		t.Fatalf("after crash: %d values, want %d", n, writers*batches*perBatch)
	}
}

func TestCursorStatsOnlyForWholeBlocks(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{})
	defer e.Close()
	e.CreateDatabase("db", nil)
	var pts []pt
	for i := 0; i < 3*maxBlockPoints; i++ {
		pts = append(pts, pt{"m", nil, map[string]any{"v": float64(i)}, int64(i)})
	}
	write(t, e, "db", pts...)
	e.Flush()
	bk := bucketOf(t, e, "db")
	ids, _ := e.SeriesIDs(bk, "m", nil)
	f, _ := e.Fields(bk, "m")
	last := int64(3*maxBlockPoints - 1)
	cur, err := e.NewCursor(bk, SeriesID(ids.Minimum()), f[0].ID, 100, last)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	var stats, sum, n int
	for cur.Next() {
		col, err := cur.Column()
		if err != nil {
			t.Fatal(err)
		}
		if h := cur.Stats(); h != nil {
			stats++
			if h.Count != len(col.Times) || h.FSum != sumFloats(col.Floats) {
				t.Fatalf("stats %+v disagree with column of %d", h, len(col.Times))
			}
		}
		for _, v := range col.Floats {
			sum += int(v)
			n++
		}
	}
	if want := int(last) - 99; n != want || sum != (100+int(last))*want/2 {
		t.Fatalf("n=%d sum=%d", n, sum)
	}
	// Three full blocks: the first is cut by the range, the others not.
	if stats != 2 {
		t.Fatalf("%d chunks with stats, want 2", stats)
	}
}

func sumFloats(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

// TestHeadPointsMergeOnlyWithTheirBlocks: an old and a new point in the head must
// not pull every block between them into one merge.
func TestHeadPointsMergeOnlyWithTheirBlocks(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{})
	defer e.Close()
	e.CreateDatabase("db", nil)
	day := PartitionWidth
	for d := int64(0); d < 5; d++ { // five days, one block each
		write(t, e, "db", pt{"m", nil, map[string]any{"v": float64(d)}, d * day},
			pt{"m", nil, map[string]any{"v": float64(d)}, d*day + 1000})
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	// Head: one point inside day 0's block, one after everything.
	write(t, e, "db", pt{"m", nil, map[string]any{"v": 99.0}, 500}, pt{"m", nil, map[string]any{"v": 77.0}, 9 * day})
	bk := bucketOf(t, e, "db")
	ids, _ := e.SeriesIDs(bk, "m", nil)
	f, _ := e.Fields(bk, "m")
	cur, err := e.NewCursor(bk, SeriesID(ids.Minimum()), f[0].ID, math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	var chunks, untouched, values int
	for cur.Next() {
		chunks++
		if cur.Stats() != nil {
			untouched++
		}
		col, _ := cur.Column()
		values += col.Len()
	}
	// Day 0 merged with the head point inside it; days 1-4 untouched; the new point alone.
	if chunks != 6 || untouched != 4 || values != 12 {
		t.Fatalf("chunks=%d untouched=%d values=%d, want 6, 4, 12", chunks, untouched, values)
	}
}

// TestStringsAcrossBlocks reads a string field spanning several blocks: decoded
// strings must not alias a buffer the next block's decode overwrites.
func TestStringsAcrossBlocks(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{})
	defer e.Close()
	e.CreateDatabase("db", nil)
	day := PartitionWidth
	want := map[int64]any{}
	for d := int64(0); d < 3; d++ {
		for i := int64(0); i < 5; i++ {
			v := fmt.Sprintf("day%d-point%d-%s", d, i, strings.Repeat("x", int(d+i)))
			write(t, e, "db", pt{"m", nil, map[string]any{"s": v}, d*day + i})
			want[d*day+i] = v
		}
	}
	e.Flush()
	got := readAll(t, e, "db", "m", nil, math.MinInt64, math.MaxInt64)
	if !sameData(got, map[string]map[string]map[int64]any{"m": {"s": want}}) {
		t.Fatalf("got %v", got)
	}
}

// TestSnapshotCursorsSeeAConsistentView: cursors from one snapshot share an
// iterator; data flushed after the snapshot was taken stays visible through its
// pinned heads, once (the iterator, made by the first cursor, sees the flushed
// blocks too, and the cursor keeps the head's copy), and writes after it are
// not required to be.
func TestSnapshotCursorsSeeAConsistentView(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{})
	defer e.Close()
	e.CreateDatabase("db", nil)
	write(t, e, "db", pt{"m", map[string]string{"h": "a"}, map[string]any{"v": 1.0}, 1},
		pt{"m", map[string]string{"h": "b"}, map[string]any{"v": 2.0}, 1})
	e.Flush()
	write(t, e, "db", pt{"m", map[string]string{"h": "a"}, map[string]any{"v": 3.0}, 2}) // in the head
	bk := bucketOf(t, e, "db")
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if err := e.Flush(); err != nil { // moves the pinned head into blocks
		t.Fatal(err)
	}
	ids, _ := e.SeriesIDs(bk, "m", nil)
	f, _ := e.Fields(bk, "m")
	if _, ok := snap.HeadRange(SeriesID(ids.Minimum()), f[0].ID, 100, 200); !ok || snap.it != nil {
		t.Fatalf("HeadRange after every block: ok %v, iterator made %v; want true, false", ok, snap.it != nil)
	}
	total := 0.0
	for _, id := range ids.ToArray() { // cursors one at a time on the shared iterator
		cur, err := snap.NewCursor(bk, SeriesID(id), f[0].ID, math.MinInt64, math.MaxInt64)
		if err != nil {
			t.Fatal(err)
		}
		for cur.Next() {
			col, err := cur.Column()
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range col.Floats {
				total += v
			}
		}
		if err := cur.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if total != 6 {
		t.Fatalf("snapshot read sum %v, want 6 (1+2 in blocks, 3 from the pinned head)", total)
	}
}

// TestCursorWithin: a narrowed cursor returns exactly the points inside its
// ranges, decodes no block outside them, and gives stats only for a block
// lying wholly inside one range.
func TestCursorWithin(t *testing.T) {
	e := openTestEngine(t, t.TempDir(), Options{})
	defer e.Close()
	e.CreateDatabase("db", nil)
	var pts []pt
	for i := 0; i < 4*maxBlockPoints; i++ {
		pts = append(pts, pt{"m", nil, map[string]any{"v": float64(i)}, int64(i)})
	}
	write(t, e, "db", pts...)
	e.Flush()
	// Head points too, one inside the last range.
	write(t, e, "db", pt{"m", nil, map[string]any{"v": -1.0}, int64(4*maxBlockPoints + 5)})
	bk := bucketOf(t, e, "db")
	ids, _ := e.SeriesIDs(bk, "m", nil)
	f, _ := e.Fields(bk, "m")
	n := int64(maxBlockPoints)
	for _, tc := range []struct {
		name                 string
		ranges               []TimeRange
		wantBlocks, wantStat int
	}{
		{"two edges", []TimeRange{{10, 20}, {4*n - 3, 4*n + 10}}, 2, 0},
		{"one block whole, one cut", []TimeRange{{n, 2*n - 1}, {3*n + 1, 3*n + 2}}, 2, 1}, // the whole one decoded here too: the test reads its column
		{"two ranges in one block", []TimeRange{{5, 6}, {100, 102}}, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi := tc.ranges[0].Min, tc.ranges[len(tc.ranges)-1].Max
			cur, err := e.NewCursor(bk, SeriesID(ids.Minimum()), f[0].ID, lo, hi)
			if err != nil {
				t.Fatal(err)
			}
			defer cur.Close()
			cur.Within(tc.ranges)
			var got []int64
			stats := 0
			for cur.Next() {
				if cur.Stats() != nil {
					stats++
				}
				col, err := cur.Column()
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, col.Times...)
			}
			var want []int64
			for _, r := range tc.ranges {
				for ts := r.Min; ts <= r.Max; ts++ {
					if ts < 4*n || ts == 4*n+5 {
						want = append(want, ts)
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("times %v, want %v", got, want)
			}
			if cur.BlocksDecoded() != tc.wantBlocks || stats != tc.wantStat {
				t.Fatalf("decoded %d blocks with %d stats, want %d and %d", cur.BlocksDecoded(), stats, tc.wantBlocks, tc.wantStat)
			}
		})
	}
}
