package partial

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/query/funcs"
)

func TestNewErrors(t *testing.T) {
	cases := []struct {
		name string
		typ  funcs.Type
		args []any
		is   error  // errors.Is target, or nil
		text string // substring of the message
	}{
		{"top", funcs.Float, []any{"host", int64(3)}, ErrNotMergeable, "top with tag arguments"},
		{"bottom", funcs.Integer, []any{"host", "dc", int64(3)}, ErrNotMergeable, "bottom with tag"},
		{"top", funcs.Float, []any{int64(1 << 30)}, ErrTooLarge, "top limit"},
		{"top", funcs.Float, []any{int64(0)}, nil, "limit (0) in top function must be at least 1"},
		{"top", funcs.String, []any{int64(2)}, nil, "unsupported top iterator type"},
		{"sample", funcs.Float, []any{int64(3)}, ErrNotMergeable, "sample"},
		{"derivative", funcs.Float, nil, ErrNotMergeable, "transformation"},
		{"cumulative_sum", funcs.Float, nil, ErrNotMergeable, "transformation"},
		{"nosuch", funcs.Float, nil, nil, "undefined function nosuch()"},
		{"mean", funcs.String, nil, nil, "unsupported mean iterator type: *query.stringInterruptIterator"},
		{"max", funcs.String, nil, nil, "unsupported max iterator type"},
		{"mode", funcs.Unknown, nil, nil, "unsupported median iterator type"},
		{"percentile", funcs.Float, nil, nil, "invalid number of arguments for percentile, expected 2, got 1"},
		{"percentile", funcs.Float, []any{"x"}, nil, "expected float argument in percentile()"},
		{"integral", funcs.Float, []any{"x"}, nil, "second argument to integral must be a duration"},
		{"integral", funcs.Float, []any{-time.Second}, nil, "duration argument must be positive"},
		{"count", funcs.Float, []any{int64(1)}, nil, "invalid number of arguments for count"},
		{"distinct", funcs.Float, []any{int64(1)}, nil, "distinct function can only have one argument"},
	}
	for _, c := range cases {
		s, err := New(c.name, c.typ, c.args...)
		if err == nil || s != nil {
			t.Errorf("New(%s, %s, %v) = %v, %v; want an error", c.name, c.typ, c.args, s, err)
			continue
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("New(%s): %v is not %v", c.name, err, c.is)
		}
		if !strings.Contains(err.Error(), c.text) {
			t.Errorf("New(%s): %q does not say %q", c.name, err, c.text)
		}
	}
}

func mustNew(t *testing.T, name string, typ funcs.Type, args ...any) State {
	t.Helper()
	s, err := New(name, typ, args...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTypedAddErrors(t *testing.T) {
	s := mustNew(t, "sum", funcs.Float)
	if err := s.AddInts([]int64{1}, []int64{1}); !errors.Is(err, ErrType) {
		t.Errorf("ints into a float sum: %v", err)
	}
	if err := s.AddStrings([]int64{1}, []string{"a"}); !errors.Is(err, ErrType) {
		t.Errorf("strings into a float sum: %v", err)
	}
	if err := s.AddFloats([]int64{1, 2}, []float64{1}); err == nil {
		t.Error("length mismatch accepted")
	}
	if err := Add(s, 1, struct{}{}); !errors.Is(err, ErrType) {
		t.Errorf("foreign value: %v", err)
	}
	if s.Final(0) != nil {
		t.Error("failed adds changed the state")
	}
	if err := Add(s, 1, nil); err != nil || s.Final(0) != nil {
		t.Errorf("a null is skipped: %v", err)
	}
}

func TestMergeMismatch(t *testing.T) {
	cases := []struct {
		a, b State
	}{
		{mustNew(t, "sum", funcs.Float), mustNew(t, "sum", funcs.Integer)},
		{mustNew(t, "sum", funcs.Float), mustNew(t, "mean", funcs.Float)},
		{mustNew(t, "min", funcs.Float), mustNew(t, "max", funcs.Float)},
		{mustNew(t, "distinct", funcs.String), mustNew(t, "count_distinct", funcs.String)},
		{mustNew(t, "percentile", funcs.Float, 50.0), mustNew(t, "percentile", funcs.Float, 90.0)},
		{mustNew(t, "integral", funcs.Float), mustNew(t, "integral", funcs.Float, time.Minute)},
		{mustNew(t, "top", funcs.Float, int64(2)), mustNew(t, "top", funcs.Float, int64(3))},
		{mustNew(t, "top", funcs.Float, int64(2)), mustNew(t, "bottom", funcs.Float, int64(2))},
		{mustNew(t, "count", funcs.Float), nil},
	}
	for _, c := range cases {
		if err := Add(c.a, 1, zeroOf(c.a.Type())); err != nil {
			t.Fatal(err)
		}
		before := c.a.AppendBinary(nil)
		if err := c.a.Merge(c.b); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s.Merge(%v): %v, want ErrMismatch", c.a.Kind(), c.b, err)
		}
		if string(before) != string(c.a.AppendBinary(nil)) {
			t.Errorf("%s: failed merge changed the receiver", c.a.Kind())
		}
	}
}

func zeroOf(t funcs.Type) any {
	return map[funcs.Type]any{funcs.Float: 1.0, funcs.Integer: int64(1), funcs.Unsigned: uint64(1),
		funcs.String: "a", funcs.Boolean: true}[t]
}

func TestIntegralOrder(t *testing.T) {
	s := mustNew(t, "integral", funcs.Float)
	if err := s.AddFloats([]int64{5, 3}, []float64{1, 2}); !errors.Is(err, ErrOrder) {
		t.Errorf("out-of-order adds: %v", err)
	}
	a, b := mustNew(t, "integral", funcs.Float), mustNew(t, "integral", funcs.Float)
	if err := a.AddFloats([]int64{1, 5}, []float64{1, 1}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddFloats([]int64{3, 8}, []float64{1, 1}); err != nil {
		t.Fatal(err)
	}
	if err := a.Merge(b); !errors.Is(err, ErrOrder) {
		t.Errorf("overlapping partials: %v", err)
	}
	// Later partial as receiver: Merge orders by time.
	c := mustNew(t, "integral", funcs.Float)
	if err := c.AddFloats([]int64{5 * 1e9, 7 * 1e9}, []float64{3, 1}); err != nil {
		t.Fatal(err)
	}
	d := mustNew(t, "integral", funcs.Float)
	if err := d.AddFloats([]int64{1e9, 3 * 1e9}, []float64{1, 3}); err != nil {
		t.Fatal(err)
	}
	if err := c.Merge(d); err != nil {
		t.Fatal(err)
	}
	// 0.5·(1+3)·2 + 0.5·(3+3)·2 + 0.5·(3+1)·2
	if got := c.Final(0); len(got) != 1 || got[0].Value != 14.0 {
		t.Errorf("reversed merge: %v, want 14", got)
	}
}

// TestAddStats: which kinds answer from a block header, and that what they
// fold equals decoding the block.
func TestAddStats(t *testing.T) {
	block := funcs.Stats{Type: uint8(funcs.Integer), Count: 3, MinTime: 10, MaxTime: 30,
		IMin: -2, IMax: 9, ISum: 8, IFirst: 1, ILast: 9}
	ts, vs := []int64{10, 20, 30}, []int64{1, -2, 9}
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"count", true}, {"sum", true}, {"mean", true}, {"first", true}, {"last", true},
		{"spread", true}, {"min", false}, {"max", false}, {"stddev", false}, {"integral", false},
		{"median", false}, {"mode", false}, {"distinct", false},
	} {
		s := mustNew(t, c.name, funcs.Integer)
		ok, err := s.AddStats(block)
		if err != nil || ok != c.ok {
			t.Errorf("%s: AddStats = %v, %v; want %v", c.name, ok, err, c.ok)
			continue
		}
		if !ok {
			if s.Final(0) != nil {
				t.Errorf("%s: refused stats but folded something", c.name)
			}
			continue
		}
		d := mustNew(t, c.name, funcs.Integer)
		if err := d.AddInts(ts, vs); err != nil {
			t.Fatal(err)
		}
		if err := sameResult(s.Final(0), d.Final(0), 0); err != nil {
			t.Errorf("%s: stats %v, decoded %v: %v", c.name, s.Final(0), d.Final(0), err)
		}
	}

	// min and max take a block that cannot beat the held value, and a block
	// of one value.
	m := mustNew(t, "min", funcs.Integer)
	if err := m.AddInts([]int64{1}, []int64{-5}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := m.AddStats(block); !ok {
		t.Error("min -5 cannot be beaten by a block whose min is -2")
	}
	one := funcs.Stats{Type: uint8(funcs.Integer), Count: 1, MinTime: 40, MaxTime: 40,
		IMin: -9, IMax: -9, ISum: -9, IFirst: -9, ILast: -9}
	if ok, _ := m.AddStats(one); !ok {
		t.Error("a one-value block has a known time")
	}
	if got := m.Final(0); got[0].Time != 40 || got[0].Value != int64(-9) {
		t.Errorf("min after stats: %v", got)
	}
	if _, err := m.AddStats(funcs.Stats{Type: uint8(funcs.Float), Count: 1}); !errors.Is(err, ErrType) {
		t.Errorf("float stats into an integer min: %v", err)
	}
	// count of a string block needs only the count.
	c := mustNew(t, "count", funcs.String)
	if ok, err := c.AddStats(funcs.Stats{Type: uint8(funcs.String), Count: 7}); !ok || err != nil {
		t.Errorf("string count stats: %v %v", ok, err)
	}
	if got := c.Final(0); got[0].Value != int64(7) {
		t.Errorf("count: %v", got)
	}
}

// TestMeanSeries pins the difference EndSeries makes: integers wrap inside
// a series, not across series, as InfluxDB averages per series.
func TestMeanSeries(t *testing.T) {
	one := mustNew(t, "mean", funcs.Integer)
	if err := one.AddInts([]int64{1, 2}, []int64{math.MaxInt64, math.MaxInt64}); err != nil {
		t.Fatal(err)
	}
	if got := one.Final(0)[0].Value.(float64); got != -1 {
		t.Errorf("one series wraps: %v, want -1", got)
	}
	a, b := mustNew(t, "mean", funcs.Integer), mustNew(t, "mean", funcs.Integer)
	_ = a.AddInts([]int64{1}, []int64{math.MaxInt64})
	_ = b.AddInts([]int64{1}, []int64{math.MaxInt64})
	a.EndSeries()
	b.EndSeries()
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	if got := a.Final(0)[0].Value.(float64); got != math.MaxInt64 {
		t.Errorf("two series: %v, want %v", got, float64(math.MaxInt64))
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string][]byte{
		"empty":           {},
		"short header":    {1, 1},
		"version 1":       {1, 1, 1, 0}, // before distinct kept first times
		"unknown kind":    {2, 99, 1, 0},
		"kind 0":          {2, 0, 1, 0},
		"unknown type":    {2, 1, 9, 0},
		"mean of strings": {2, 3, 4, 0, 0},
		"truncated count": {2, 1, 1},
		"bad uvarint":     {2, 1, 1, 0x80},
		"trailing bytes":  {2, 1, 1, 3, 0},
		"flag 2":          {2, 4, 2, 2},
		"truncated value": {2, 4, 1, 1, 0, 1, 2},
		"huge median":     {2, 11, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 1},
		"huge floats":     {2, 11, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0},
		"string too long": {2, 14, 4, 1, 0, 5, 'a'},
		"distinct order":  {2, 14, 2, 2, 0, 4, 0, 2},
		"distinct repeat": {2, 14, 2, 2, 0, 2, 2, 2},
		"distinct time":   {2, 14, 2, 2, 2, 2, 0, 4},
		"integral unit 0": {2, 10, 1, 0, 0},
		"integral order": append([]byte{2, 10, 1, 1, 2, 10},
			append(make([]byte, 8), append([]byte{10}, make([]byte, 24)...)...)...),
		"percentile NaN": append([]byte{2, 12, 1}, append(appendFloat(nil, math.NaN()), 0)...),
		"top limit 0":    {2, 16, 1, 0, 0},
		"top too many":   {2, 16, 2, 1, 3, 0, 0, 0, 0, 0, 0},
		"count overflow": {2, 1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	}
	for name, b := range cases {
		s, err := Decode(b)
		if err == nil {
			t.Errorf("%s: Decode(%x) = %v, want an error", name, b, s)
			continue
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v is not ErrCorrupt", name, err)
		}
	}
}
