package funcs

import (
	gomath "math"
	"time"
)

// table declares every InfluxQL function, once. The validator
// (influxql.Validate through Registry), the planner's path choice and
// EXPLAIN all read these entries; adding a function is adding an entry
// here (plus its arithmetic in its own file).
var table map[string]*Func

func init() {
	// Built in init rather than in the declaration: the constructors reach
	// helpers that read table, and Go rejects the initialization cycle.
	table = map[string]*Func{}
	add := func(f *Func) {
		if f.label == "" {
			f.label = f.Name
		}
		table[f.Name] = f
	}
	agg := func(name string, types typeSet, out Type, f simpleFunc) *Func {
		return &Func{Name: name, Kind: Aggregate, accepts: types, out: out,
			minArgs: 1, maxArgs: 1, first: fieldArg, window: newSimple(name, f)}
	}
	// headers: a mergeable function whose partial state folds whole blocks
	// from their header statistics.
	headers := func(f *Func) *Func {
		f.Mergeable, f.HeaderStats = true, true
		return f
	}
	mergeable := func(f *Func) *Func {
		f.Mergeable = true
		return f
	}

	// Aggregates.
	add(headers(agg("count", allTypes, Integer, countFunc)))
	table["count"].first = countArg
	add(headers(agg("sum", numericTypes, Unknown, sumFunc)))
	add(headers(agg("mean", numericTypes, Float, meanFunc)))
	add(mergeable(agg("median", numericTypes, Float, medianFunc)))
	mode := agg("mode", allTypes, Unknown, modeFunc)
	mode.label = "median" // InfluxDB's mode error says "median"
	add(mergeable(mode))
	add(headers(agg("spread", numericTypes, Unknown, spreadFunc)))
	add(mergeable(agg("stddev", numericTypes, Float, stddevFunc)))
	add(mergeable(&Func{Name: "integral", Kind: Aggregate, accepts: numericTypes, out: Float,
		minArgs: 1, maxArgs: 2, first: fieldArg, window: newIntegral}))
	distinct := agg("distinct", allTypes, Unknown, distinctFunc)
	distinct.MultiRow, distinct.first, distinct.arity = true, varRefArg, distinctArity
	add(mergeable(distinct))
	cd := agg("count_distinct", allTypes, Integer, countDistinctFunc)
	cd.label, cd.first = "distinct", varRefArg
	add(mergeable(cd))

	// Selectors.
	sel := func(name string, types typeSet, k selKind) *Func {
		f := agg(name, types, Unknown, selectorFunc(k))
		f.Kind = Selector
		return headers(f)
	}
	add(sel("min", numericTypes|1<<Boolean, selMin))
	add(sel("max", numericTypes|1<<Boolean, selMax))
	add(sel("first", allTypes, selFirst))
	add(sel("last", allTypes, selLast))
	add(mergeable(&Func{Name: "percentile", Kind: Selector, accepts: numericTypes,
		minArgs: 2, maxArgs: 2, first: fieldArg, window: newPercentile}))
	for _, name := range []string{"top", "bottom"} {
		// Mergeable without tag arguments (partial.New refuses those).
		add(mergeable(&Func{Name: name, Kind: Selector, MultiRow: true, accepts: numericTypes,
			minArgs: 2, maxArgs: -1, arity: topBottomArity(name), first: fieldArg, namesArgs: true,
			window: newTopBottom(name)}))
	}
	add(&Func{Name: "sample", Kind: Selector, MultiRow: true, accepts: allTypes,
		minArgs: 2, maxArgs: 2, first: fieldArg, window: newSample})

	// Approximate aggregates (approx.go, docs/approximate.md): sketches
	// that merge across blocks, windows and nodes. sketch_ returns the
	// sketch as a string to store with SELECT INTO; merge_ reads stored
	// sketches and finalizes them (merge_sketch re-stores their union).
	approx := func(name string, types typeSet, out Type, minArgs, maxArgs int) *Func {
		return mergeable(&Func{Name: name, Kind: Aggregate, accepts: types, out: out,
			minArgs: minArgs, maxArgs: maxArgs, first: fieldArg, window: newApproxWindow(name)})
	}
	stored := typeSet(1 << String)
	add(approx("approx_count_distinct", allTypes, Integer, 1, 2))
	add(approx("approx_percentile", numericTypes, Float, 2, 2))
	add(approx("approx_median", numericTypes, Float, 1, 1))
	topK := func(name string, types typeSet) *Func {
		f := approx(name, types, Unknown, 2, 2)
		f.MultiRow, f.AuxColumns = true, TopKColumns
		return f
	}
	count := func(name string, types typeSet) *Func {
		f := approx(name, types, Integer, 2, 2)
		f.stringLiterals = true
		return f
	}
	add(topK("approx_top_k", numericTypes|1<<String))
	add(count("approx_count", numericTypes|1<<String))
	add(approx("sketch_count_distinct", allTypes, String, 1, 2))
	add(approx("sketch_percentile", numericTypes, String, 1, 1))
	add(approx("sketch_top_k", numericTypes|1<<String, String, 1, 2))
	add(approx("sketch_count", numericTypes|1<<String, String, 1, 1))
	add(approx("merge_count_distinct", stored, Integer, 1, 1))
	add(approx("merge_percentile", stored, Float, 2, 2))
	add(approx("merge_median", stored, Float, 1, 1))
	add(topK("merge_top_k", stored))
	add(count("merge_count", stored))
	add(approx("merge_sketch", stored, String, 1, 1))

	// Transformations.
	trans := func(name string, types typeSet, out Type, min, max int, t func([]any, time.Duration) (TransformFunc, error)) *Func {
		return &Func{Name: name, Kind: Transform, accepts: types, out: out, minArgs: min, maxArgs: max,
			first: seriesArg, literalsFirst: true, transform: t}
	}
	add(trans("derivative", numericTypes, Float, 1, 2, newDerivative("derivative")))
	add(trans("non_negative_derivative", numericTypes, Float, 1, 2, newDerivative("non_negative_derivative")))
	table["non_negative_derivative"].label = "derivative"
	add(trans("difference", numericTypes, Unknown, 1, 1, newDifference("difference")))
	add(trans("non_negative_difference", numericTypes, Unknown, 1, 1, newDifference("non_negative_difference")))
	table["non_negative_difference"].label = "difference"
	add(trans("moving_average", numericTypes, Float, 2, 2, newMovingAverage))
	table["moving_average"].label = "moving average"
	add(trans("cumulative_sum", numericTypes, Unknown, 1, 1, newCumulativeSum))
	table["cumulative_sum"].label = "cumulative sum"
	add(trans("elapsed", allTypes, Integer, 1, 2, newElapsed))
	for _, name := range []string{"holt_winters", "holt_winters_with_fit"} {
		add(&Func{Name: name, Kind: Transform, accepts: numericTypes, out: Float, minArgs: 3, maxArgs: 3,
			first: aggregateOnly, literals: holtWintersArgs(name), transform: newHoltWinters(name)})
	}

	// Math functions, applied per value: abs, ceil, floor and round keep
	// integer types, the others return floats.
	math := func(name string, args int, apply func([]any) any, typeOf func(string) func([]Type) (Type, error)) {
		add(&Func{Name: name, Kind: Math, accepts: numericTypes, minArgs: args, maxArgs: args,
			first: valueArgs, math: apply, mathType: typeOf(name)})
	}
	math("abs", 1, unaryKeep(gomath.Abs, absInt), sameType)
	math("ceil", 1, unaryKeep(gomath.Ceil, nil), sameType)
	math("floor", 1, unaryKeep(gomath.Floor, nil), sameType)
	math("round", 1, unaryKeep(gomath.Round, nil), sameType)
	math("sin", 1, unaryFloat(gomath.Sin), floatType)
	math("cos", 1, unaryFloat(gomath.Cos), floatType)
	math("tan", 1, unaryFloat(gomath.Tan), floatType)
	math("asin", 1, unaryFloat(gomath.Asin), floatType)
	math("acos", 1, unaryFloat(gomath.Acos), floatType)
	math("atan", 1, unaryFloat(gomath.Atan), floatType)
	math("exp", 1, unaryFloat(gomath.Exp), floatType)
	math("ln", 1, unaryFloat(gomath.Log), floatType)
	math("log2", 1, unaryFloat(gomath.Log2), floatType)
	math("log10", 1, unaryFloat(gomath.Log10), floatType)
	math("sqrt", 1, unaryFloat(gomath.Sqrt), floatType)
	math("atan2", 2, binaryFloat(gomath.Atan2), floatType)
	math("pow", 2, binaryFloat(gomath.Pow), floatType)
	math("log", 2, binaryFloat(logBase), floatType)
}
