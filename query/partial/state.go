package partial

import (
	"errors"
	"fmt"
	"time"

	"github.com/strata-db/strata/query/funcs"
)

// State is one aggregate's partial result over some of a window's points. Any
// number of States of the same call, built over disjoint parts of the input,
// merge into the State of their union; Final turns it into the rows the
// engine returns. A State is not safe for concurrent use.
type State interface {
	// Kind is the aggregate; Type the type of the values it takes.
	Kind() Kind
	Type() funcs.Type

	// The typed adds fold one column of values with their times (ns). ts and
	// vs must have the same length. A column of another type than Type(), or
	// a time-order violation where the kind needs order (integral), is an
	// error and leaves the state as it was before the call only for the type
	// and length checks; integral may have folded a prefix.
	AddFloats(ts []int64, vs []float64) error
	AddInts(ts []int64, vs []int64) error
	AddUints(ts []int64, vs []uint64) error
	AddStrings(ts []int64, vs []string) error
	AddBools(ts []int64, vs []bool) error

	// AddStats folds a whole storage block through its header statistics in
	// O(1). ok is false, with nothing folded, when the header is not enough
	// (stddev and the value collections need every value; min and max need
	// the time of the extreme, which the header lacks, unless the block
	// holds one value or cannot change the result); the caller then decodes
	// the block and uses the typed adds. A block of another type is an error.
	// Float sum and mean take the header's sum (added in time order from
	// the block's first value): bit for bit what the typed adds give when
	// the block starts the state's open series, else rounded once like a
	// merge. The executor therefore folds a float sum's or mean's header
	// only into a window its series has not fed yet, and decodes the block
	// otherwise, to keep InfluxDB's order of additions across blocks.
	AddStats(s funcs.Stats) (ok bool, err error)

	// EndSeries marks that everything added so far belongs to finished
	// series. InfluxDB computes sum and mean per series and then merges the
	// per-series results; integer means wrap inside a series but not across
	// series, and float sums round in that order. Partials of one series
	// (split by time, block or core) merge without it; call it on a partial
	// before merging it with partials of other series. Only sum and mean
	// depend on it; for the other kinds it does nothing.
	EndSeries()

	// Merge folds other, a State of the same kind, type and arguments, into
	// the receiver; other is not modified. Merging is associative, and
	// commutative except where noted per kind (integral orders partials by
	// time). A mismatch is an error and leaves the receiver unchanged.
	Merge(other State) error

	// Final returns the result rows as funcs.NewWindowFunc does for the same
	// points: aggregates at windowStart, selectors at their own time, nil
	// for an empty state. Aux columns are not carried by partial states.
	Final(windowStart int64) []funcs.Point

	// AppendBinary appends the state's encoding (docs/format/partial-aggregates.md);
	// Decode reads it back.
	AppendBinary(dst []byte) []byte
}

// Kind names an aggregate that has a partial state. Its numeric value is the
// kind tag of the binary encoding and must never change.
type Kind uint8

// The kinds. Tags 32 and up are reserved for sketches (HLL, DDSketch,
// count-min).
const (
	Count         Kind = 1
	Sum           Kind = 2
	Mean          Kind = 3
	Min           Kind = 4
	Max           Kind = 5
	First         Kind = 6
	Last          Kind = 7
	Spread        Kind = 8
	Stddev        Kind = 9
	Integral      Kind = 10
	Median        Kind = 11
	Percentile    Kind = 12
	Mode          Kind = 13
	Distinct      Kind = 14
	CountDistinct Kind = 15
	Top           Kind = 16
	Bottom        Kind = 17

	// The approximate functions (sketch.go, query/sketch), one kind each.
	ApproxCountDistinct Kind = 32
	ApproxPercentile    Kind = 33
	ApproxMedian        Kind = 34
	ApproxTopK          Kind = 35
	ApproxCount         Kind = 36
	SketchCountDistinct Kind = 37
	SketchPercentile    Kind = 38
	MergeCountDistinct  Kind = 39
	MergePercentile     Kind = 40
	MergeMedian         Kind = 41
	MergeSketch         Kind = 42
	SketchTopK          Kind = 43
	SketchCount         Kind = 44
	MergeTopK           Kind = 45
	MergeCount          Kind = 46
)

var kindNames = map[Kind]string{
	Count: "count", Sum: "sum", Mean: "mean", Min: "min", Max: "max", First: "first",
	Last: "last", Spread: "spread", Stddev: "stddev", Integral: "integral",
	Median: "median", Percentile: "percentile", Mode: "mode", Distinct: "distinct",
	CountDistinct: "count_distinct", Top: "top", Bottom: "bottom",
	ApproxCountDistinct: "approx_count_distinct", ApproxPercentile: "approx_percentile",
	ApproxMedian: "approx_median", ApproxTopK: "approx_top_k", ApproxCount: "approx_count",
	SketchCountDistinct: "sketch_count_distinct", SketchPercentile: "sketch_percentile",
	MergeCountDistinct: "merge_count_distinct", MergePercentile: "merge_percentile",
	MergeMedian: "merge_median", MergeSketch: "merge_sketch",
	SketchTopK: "sketch_top_k", SketchCount: "sketch_count", MergeTopK: "merge_top_k",
	MergeCount: "merge_count",
}

// String returns the InfluxQL function name ("count_distinct" for
// count(distinct(x))).
func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Errors. Wrapped errors carry the details; test with errors.Is.
var (
	// ErrNotMergeable: the function has no partial state (see New).
	ErrNotMergeable = errors.New("partial: function has no mergeable partial state")
	// ErrType: values, statistics or a state of the wrong type.
	ErrType = errors.New("partial: type mismatch")
	// ErrMismatch: Merge of states of different kinds or arguments.
	ErrMismatch = errors.New("partial: states do not match")
	// ErrOrder: integral input or partials out of time order.
	ErrOrder = errors.New("partial: integral input out of time order")
	// ErrTooLarge: a value collection would pass MaxValues.
	ErrTooLarge = errors.New("partial: state too large")
	// ErrCorrupt: Decode input that is not a valid encoding.
	ErrCorrupt = errors.New("partial: corrupt encoding")
)

// MaxValues bounds the values a collection state (median, percentile, mode,
// distinct, count_distinct) holds, so one window cannot take the process's
// memory: 16 Mi values, a few hundred MiB at most.
const MaxValues = 1 << 24

// New returns an empty State for an InfluxQL call: name is lower case
// ("count_distinct" for count(distinct(x))), in the type of the field's
// values, args the literal arguments after the field as funcs.NewWindowFunc
// takes them (percentile's N, integral's unit). Errors for unknown functions,
// bad arguments and unsupported types carry InfluxDB's texts, from funcs.
//
// top and bottom have a bounded state (the best N points, see topk.go) but
// only without tag arguments: with them each tag tuple contributes its own
// best point, and partial states do not carry tag columns (Aux). sample has
// none: its reservoir's random draws depend on seeing every point in one
// pass, so two samples do not merge into a sample of the union.
// Transformations run over the aggregated series, not over windows, and are
// never partial. These calls return an error wrapping ErrNotMergeable.
func New(name string, in funcs.Type, args ...any) (State, error) {
	f, err := NewFactory(name, in, args...)
	if err != nil {
		return nil, err
	}
	return f(), nil
}

// NewFactory checks a call once, as New does, and returns a constructor of
// its empty States: an executor that needs one State per time window pays
// for the argument and type checks once per call instead of once per window.
func NewFactory(name string, in funcs.Type, args ...any) (func() State, error) {
	k, ok := kindOf(name)
	if !ok {
		if funcs.IsTransform(name) {
			return nil, fmt.Errorf("%w: %s is a transformation over the aggregated series", ErrNotMergeable, name)
		}
		if name == "sample" {
			return nil, fmt.Errorf("%w: sample draws at random over one pass; samples of parts do not merge", ErrNotMergeable)
		}
	}
	// funcs validates the arguments with InfluxDB's texts.
	if _, err := funcs.NewWindowFunc(name, args); err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotMergeable, name)
	}
	if _, err := funcs.OutputType(name, in); err != nil {
		return nil, err
	}
	var p params
	if sketchKinds[k] {
		a, err := approxArgs(k, args)
		if err != nil {
			return nil, err
		}
		p.approx = a
	}
	if k == Top || k == Bottom {
		if len(args) > 1 {
			return nil, fmt.Errorf("%w: %s with tag arguments needs the tag columns, which partial states do not carry", ErrNotMergeable, name)
		}
		n := args[0].(int64) // funcs checked it is an int64 ≥ 1
		if n > MaxValues/2 {
			return nil, fmt.Errorf("%w: %s limit %d, at most %d", ErrTooLarge, name, n, MaxValues/2)
		}
		p.limit = int(n)
	}
	switch k {
	case Percentile:
		switch v := args[0].(type) {
		case float64:
			p.pct = v
		case int64:
			p.pct = float64(v)
		}
	case Integral:
		p.unit = time.Second
		if len(args) == 1 {
			p.unit = args[0].(time.Duration)
		}
	}
	if _, err := newState(k, in, p); err != nil {
		return nil, err
	}
	// The checks ran once above: the executor makes a state per window, and
	// repeating them (a type lookup by name each time) cost more than the
	// state itself on TSBS's one-hour, one-minute-window queries.
	return func() State { return construct(k, in, p) }, nil
}

func kindOf(name string) (Kind, bool) {
	for k, n := range kindNames {
		if n == name {
			return k, true
		}
	}
	return 0, false
}

// params are the call arguments a kind keeps in its state.
type params struct {
	pct    float64       // percentile's N
	unit   time.Duration // integral's unit
	limit  int           // top's and bottom's N
	approx *funcs.Approx // the approximate functions' call
}

// newState builds an empty state of a kind and a type the kind accepts.
func newState(k Kind, t funcs.Type, p params) (state, error) {
	if _, err := funcs.OutputType(k.String(), t); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrType, err)
	}
	switch k {
	case Integral:
		if p.unit <= 0 {
			return nil, fmt.Errorf("%w: integral unit %d", ErrCorrupt, p.unit)
		}
	case Top, Bottom:
		if p.limit < 1 {
			return nil, fmt.Errorf("%w: %s limit %d", ErrCorrupt, k, p.limit)
		}
	}
	if st := construct(k, t, p); st != nil {
		return st, nil
	}
	return nil, fmt.Errorf("%w: unknown kind %d", ErrCorrupt, k)
}

// construct builds an empty state of a kind, type and parameters newState
// has checked; nil for an unknown kind.
func construct(k Kind, t funcs.Type, p params) state {
	switch k {
	case Count:
		return newCount(t)
	case Sum:
		return newSum(t)
	case Mean:
		return newMean(t)
	case Min, Max, First, Last:
		return newSelector(k, t)
	case Spread:
		return newSpread(t)
	case Stddev:
		return newStddev(t)
	case Integral:
		return newIntegral(t, p.unit)
	case Median, Percentile, Mode, Distinct, CountDistinct:
		return newCollection(k, t, p.pct)
	case Top, Bottom:
		return newTop(k, t, p.limit)
	}
	if sketchKinds[k] {
		if p.approx == nil {
			// Decode: decodeFields reads the arguments.
			p.approx = &funcs.Approx{}
		}
		return newSketchState(k, t, p.approx)
	}
	return nil
}

// state is what every kind implements: the public State plus its field
// encoding, so the header is written and read in one place (codec.go).
type state interface {
	State
	appendFields(dst []byte) []byte
	decodeFields(r *reader) error
}

// Add folds one value of any of the five Go types; nil is a null and is
// skipped, as funcs skips it. It is the convenient, slow path.
func Add(s State, t int64, v any) error {
	ts := []int64{t}
	switch x := v.(type) {
	case nil:
		return nil
	case float64:
		return s.AddFloats(ts, []float64{x})
	case int64:
		return s.AddInts(ts, []int64{x})
	case uint64:
		return s.AddUints(ts, []uint64{x})
	case string:
		return s.AddStrings(ts, []string{x})
	case bool:
		return s.AddBools(ts, []bool{x})
	}
	return fmt.Errorf("%w: value %T", ErrType, v)
}

// AddPoints folds points one by one (see Add).
func AddPoints(s State, pts []funcs.Point) error {
	for i := range pts {
		if err := Add(s, pts[i].Time, pts[i].Value); err != nil {
			return err
		}
	}
	return nil
}
