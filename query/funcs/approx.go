package funcs

import (
	"fmt"
	"math"
	"time"

	"github.com/strata-db/strata/query/sketch"
)

// The approximate functions (docs/approximate.md): each call is an Approx,
// which says which sketch it builds, how it reads its input (raw values, or
// stored sketches: the merge_ functions) and what it returns (an estimate,
// or the sketch itself as a string for SELECT INTO: the sketch_ functions).
// The window functions here and query/partial's states both run through
// it, so the two paths give the same answers.

// Approx is one approximate call, its arguments checked.
type Approx struct {
	Name      string
	Sketch    sketch.Kind
	Precision int     // HLL
	Pct       float64 // DDSketch: the percentile Final answers
	K         int     // top-k rows
	Value     any     // approx_count's value (string, int64 or float64)
	// Stored: the input values are sketches as Text (merge_*); Emit: the
	// result is the merged sketch as Text (sketch_*, merge_sketch).
	Stored, Emit bool
}

// IsApprox tells the approximate functions (and the sketch_ and merge_
// ones), which NewApprox takes.
func IsApprox(name string) bool {
	switch name {
	case "approx_count_distinct", "sketch_count_distinct", "approx_percentile", "merge_percentile",
		"approx_median", "merge_median", "sketch_percentile", "approx_top_k", "approx_count",
		"merge_count_distinct", "merge_sketch", "sketch_top_k", "merge_top_k", "sketch_count", "merge_count":
		return true
	}
	return false
}

// NewApprox checks a call of an approximate function; args are the
// literals after the field. Errors name the function, InfluxQL style.
func NewApprox(name string, args []any) (*Approx, error) {
	a := &Approx{Name: name, Precision: sketch.DefaultPrecision, Pct: 50}
	switch name {
	case "approx_count_distinct", "sketch_count_distinct":
		a.Sketch, a.Emit = sketch.KindHLL, name == "sketch_count_distinct"
		if len(args) > 1 {
			return nil, argCountError(name, 1, 2, len(args))
		}
		if len(args) == 1 {
			p, ok := args[0].(int64)
			if !ok || p < sketch.MinPrecision || p > sketch.MaxPrecision {
				return nil, errorf("precision argument to %s must be an integer from %d to %d, got %s",
					name, sketch.MinPrecision, sketch.MaxPrecision, literalString(args[0]))
			}
			a.Precision = int(p)
		}
	case "approx_percentile", "merge_percentile":
		a.Sketch, a.Stored = sketch.KindDD, name == "merge_percentile"
		if len(args) != 1 {
			return nil, argCountError(name, 2, 2, len(args))
		}
		switch v := args[0].(type) {
		case float64:
			a.Pct = v
		case int64:
			a.Pct = float64(v)
		default:
			return nil, errorf("expected float argument in %s()", name)
		}
		if !(a.Pct >= 0 && a.Pct <= 100) {
			return nil, errorf("percentile argument to %s must be from 0 to 100, got %s", name, literalString(args[0]))
		}
	case "approx_median", "merge_median", "sketch_percentile":
		a.Sketch, a.Stored, a.Emit = sketch.KindDD, name == "merge_median", name == "sketch_percentile"
		if len(args) != 0 {
			return nil, argCountError(name, 1, 1, len(args))
		}
	case "approx_top_k", "merge_top_k":
		a.Sketch, a.Stored = sketch.KindTopK, name == "merge_top_k"
		if len(args) != 1 {
			return nil, argCountError(name, 2, 2, len(args))
		}
		k, err := topKArg(name, args[0])
		if err != nil {
			return nil, err
		}
		a.K = k
	case "sketch_top_k":
		// The stored summary's capacity follows k (TopKCapacity); without
		// k it is the smallest, 256 counters, which serves any k ≤ 8.
		a.Sketch, a.Emit, a.K = sketch.KindTopK, true, DefaultSketchTopK
		if len(args) > 1 {
			return nil, argCountError(name, 1, 2, len(args))
		}
		if len(args) == 1 {
			k, err := topKArg(name, args[0])
			if err != nil {
				return nil, err
			}
			a.K = k
		}
	case "approx_count", "merge_count":
		a.Sketch, a.Stored = sketch.KindCountMin, name == "merge_count"
		if len(args) != 1 {
			return nil, argCountError(name, 2, 2, len(args))
		}
		switch args[0].(type) {
		case string, int64, float64:
			a.Value = args[0]
		default:
			return nil, errorf("second argument to %s must be a string or number literal, got %s", name, literalString(args[0]))
		}
	case "sketch_count":
		a.Sketch, a.Emit = sketch.KindCountMin, true
		if len(args) != 0 {
			return nil, argCountError(name, 1, 1, len(args))
		}
	case "merge_count_distinct":
		a.Sketch, a.Stored = sketch.KindHLL, true
		if len(args) != 0 {
			return nil, argCountError(name, 1, 1, len(args))
		}
	case "merge_sketch":
		a.Stored, a.Emit = true, true
		if len(args) != 0 {
			return nil, argCountError(name, 1, 1, len(args))
		}
	default:
		return nil, errUndefined(name)
	}
	return a, nil
}

// DefaultSketchTopK is sketch_top_k's k without the argument: the k of the
// smallest summary, TopKCapacity's 256 counters.
const DefaultSketchTopK = 8

func topKArg(name string, v any) (int, error) {
	k, ok := v.(int64)
	if !ok || k < 1 || k > sketch.MaxTopK {
		return 0, errorf("k argument to %s must be an integer from 1 to %d, got %s", name, sketch.MaxTopK, literalString(v))
	}
	return int(k), nil
}

// Describe says which sketch a call builds and its error bound, for EXPLAIN.
func (a *Approx) Describe() string {
	var d string
	switch a.Sketch {
	case sketch.KindHLL:
		d = fmt.Sprintf("HyperLogLog, precision %d (relative standard error %.2f%%)", a.Precision, 100*sketch.RSE(a.Precision))
	case sketch.KindDD:
		d = fmt.Sprintf("quantile sketch, relative error ≤ %g%%", 100*sketch.DefaultAlpha)
	case sketch.KindTopK:
		c := sketch.TopKCapacity(a.K)
		d = fmt.Sprintf("Space-Saving, %d counters (overcount ≤ N/%d)", c, c)
		if a.Stored {
			d = "Space-Saving, the stored summaries' counters (overcount ≤ N/counters)"
		}
	case sketch.KindCountMin:
		cm := sketch.NewCountMin()
		d = fmt.Sprintf("Count-Min %d×%d (overcount ≤ %.3f%% of N with probability 98.2%%)", sketch.CountMinDepth, sketch.CountMinWidth, 100*cm.Epsilon())
	default:
		d = "the stored sketches' kind"
	}
	switch {
	case a.Stored && a.Emit:
		return d + "; merges stored sketches, returns the merged sketch"
	case a.Stored:
		return d + "; merges stored sketches"
	case a.Emit:
		return d + "; returns the sketch, to store"
	}
	return d
}

// KeyType is the sketch.Key type tag of a column type.
func KeyType(t Type) uint8 {
	switch t {
	case Float:
		return sketch.KeyFloat
	case Integer:
		return sketch.KeyInt
	case Unsigned:
		return sketch.KeyUint
	}
	return sketch.KeyString
}

// NewSketch returns the empty sketch of a call over values of type in; nil
// for merge_sketch, whose kind comes from its first input.
func (a *Approx) NewSketch(in Type) sketch.Sketch {
	if a.Stored && a.Sketch == 0 {
		return nil
	}
	switch a.Sketch {
	case sketch.KindHLL:
		h, _ := sketch.NewHLL(a.Precision) // checked by NewApprox
		return h
	case sketch.KindDD:
		d, _ := sketch.NewDD(sketch.DefaultAlpha)
		return d
	case sketch.KindTopK:
		return sketch.NewTopK(KeyType(in), sketch.TopKCapacity(a.K))
	}
	return sketch.NewCountMin()
}

// Merge folds a stored sketch into acc (nil for merge_sketch's first) and
// returns the result; the error says why they do not merge.
func (a *Approx) Merge(acc, in sketch.Sketch) (sketch.Sketch, error) {
	if acc == nil {
		// merge_sketch adopts its first input; the others merge into a copy.
		acc = cloneSketch(in)
		return acc, nil
	}
	if acc.Kind() != in.Kind() {
		return acc, fmt.Errorf("%s: a %s does not merge into a %s", a.Name, in.Kind(), acc.Kind())
	}
	switch x := acc.(type) {
	case *sketch.HLL:
		x.Merge(in.(*sketch.HLL))
	case *sketch.DD:
		if err := x.Merge(in.(*sketch.DD)); err != nil {
			return acc, fmt.Errorf("%s: %v", a.Name, err)
		}
	case *sketch.TopK:
		if !x.Merge(in.(*sketch.TopK)) {
			return acc, fmt.Errorf("%s: top-k summaries of different capacities or value types do not merge", a.Name)
		}
	case *sketch.CountMin:
		if !x.Merge(in.(*sketch.CountMin)) {
			return acc, fmt.Errorf("%s: count-min sketches of different shapes do not merge", a.Name)
		}
	}
	return acc, nil
}

func cloneSketch(s sketch.Sketch) sketch.Sketch {
	c, err := sketch.Decode(sketch.Append(nil, s))
	if err != nil {
		panic("funcs: a sketch does not decode its own encoding: " + err.Error())
	}
	return c
}

// AddStored folds one stored sketch value (Text) at time t.
func (a *Approx) AddStored(acc sketch.Sketch, t int64, v string) (sketch.Sketch, error) {
	in, err := sketch.ParseText(v)
	if err != nil {
		return acc, fmt.Errorf("%s: stored sketch at %s: %w", a.Name, timeText(t), err)
	}
	if a.Sketch != 0 && in.Kind() != a.Sketch {
		return acc, fmt.Errorf("%s: stored value at %s is a %s, not a %s", a.Name, timeText(t), in.Kind(), a.Sketch)
	}
	return a.Merge(acc, in)
}

func timeText(t int64) string { return time.Unix(0, t).UTC().Format(time.RFC3339Nano) }

// AddValue folds one raw value (not nil) of a call that is not Stored.
func AddValue(s sketch.Sketch, v any) {
	switch x := s.(type) {
	case *sketch.HLL:
		x.Add(HashValue(v))
	case *sketch.DD:
		if f, ok := AsFloat64(v); ok {
			x.Add(f)
		}
	case *sketch.TopK:
		x.Add(KeyOf(v))
	case *sketch.CountMin:
		x.Add(HashValue(v))
	}
}

// HashValue is a raw value's sketch hash.
func HashValue(v any) uint64 {
	switch x := v.(type) {
	case float64:
		return sketch.HashFloat(x)
	case int64:
		return sketch.HashInt(x)
	case uint64:
		return sketch.HashUint(x)
	case string:
		return sketch.HashString(x)
	case bool:
		return sketch.HashBool(x)
	}
	return 0
}

// KeyOf is a raw value's top-k key.
func KeyOf(v any) string {
	switch x := v.(type) {
	case float64:
		return sketch.KeyFloat64(x)
	case int64:
		return sketch.KeyInt64(x)
	case uint64:
		return sketch.KeyUint64(x)
	case string:
		return x
	}
	return ""
}

// Final returns a call's rows for its sketch (nil: no input) at window ws:
// the estimate, or the sketch as Text for Emit. in is the input type.
func (a *Approx) Final(s sketch.Sketch, ws int64, in Type) []Point {
	if s == nil {
		return nil
	}
	if a.Emit {
		return one(ws, sketch.Text(s))
	}
	switch x := s.(type) {
	case *sketch.HLL:
		return one(ws, x.Estimate())
	case *sketch.DD:
		if v, ok := x.Quantile(a.Pct); ok {
			return one(ws, v)
		}
		return nil
	case *sketch.TopK:
		var out []Point
		for _, h := range x.Top(a.K) {
			out = append(out, Point{Time: ws, Value: sketch.FromKey(x.ValueType(), h.Key),
				Aux: []any{int64(h.Count), int64(h.Err)}})
		}
		return out
	case *sketch.CountMin:
		return one(ws, int64(x.Estimate(a.queryHash(in))))
	}
	return nil
}

// queryHash is approx_count's value hashed as a value of the field's type,
// so approx_count(code, 200) finds the integer 200 and approx_count(code,
// '200') the string.
func (a *Approx) queryHash(in Type) uint64 {
	switch v := a.Value.(type) {
	case string:
		return sketch.HashString(v)
	case int64:
		switch in {
		case Float:
			return sketch.HashFloat(float64(v))
		case Unsigned:
			return sketch.HashUint(uint64(v))
		}
		return sketch.HashInt(v)
	case float64:
		switch in {
		case Integer:
			if v == math.Trunc(v) {
				return sketch.HashInt(int64(v))
			}
		case Unsigned:
			if v == math.Trunc(v) && v >= 0 {
				return sketch.HashUint(uint64(v))
			}
		}
		return sketch.HashFloat(v)
	}
	return 0
}

// TopKColumns are the columns approx_top_k prints after the value: the
// estimated count and the most it may overestimate by (the true count lies
// in [count − max_error, count]).
var TopKColumns = []string{"count", "max_error"}

// newApproxWindow is the window function of every approximate call.
func newApproxWindow(name string) func(args []any) (WindowFunc, error) {
	return func(args []any) (WindowFunc, error) {
		a, err := NewApprox(name, args)
		if err != nil {
			return nil, err
		}
		return func(pts []Point, ws int64) ([]Point, error) {
			t, err := checkType(name, pts)
			if err != nil || t == Unknown {
				return nil, err
			}
			var s sketch.Sketch
			if !a.Stored {
				s = a.NewSketch(t)
			}
			for _, p := range pts {
				if p.Value == nil {
					continue
				}
				if !a.Stored {
					AddValue(s, p.Value)
					continue
				}
				if s, err = a.AddStored(s, p.Time, p.Value.(string)); err != nil {
					return nil, err
				}
			}
			return a.Final(s, ws, t), nil
		}, nil
	}
}
