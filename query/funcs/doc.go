// Package funcs is Strata's InfluxQL function library and its one registry:
// every function InfluxQL can call is declared once, as an entry of table.go
// (a *Func): its name; its kind (aggregate, selector, transform, math); its
// argument rules with InfluxDB 1.x's exact error texts; the input types it
// accepts and its output type; its implementation constructor (a window
// function, a transformation, a per-row math function); whether it has a
// mergeable partial state (Mergeable, query/partial) and whether that state
// answers whole storage blocks from their headers (HeaderStats).
//
// Everything else reads that entry. The InfluxQL validator
// (influxql.SelectStatement.Validate) asks Registry about every call, so the
// argument checks live here and nowhere else; the planner in query/ takes
// kind, output type and constructors from Lookup and chooses each call's
// execution path from them; EXPLAIN prints what the planner chose.
//
// To add a function: add its entry to table.go and its arithmetic in a file
// of its own (math.go, holtwinters.go are examples), and a call of it to
// TestRegistryComplete, which fails until the entry is complete.
//
// The functions: the aggregates (count, sum, mean, median, mode, spread,
// stddev, integral, distinct, count(distinct)), the selectors (min, max,
// first, last, percentile, top, bottom, sample), the transformations
// (derivative, non_negative_derivative, difference, non_negative_difference,
// moving_average, cumulative_sum, elapsed, holt_winters,
// holt_winters_with_fit) and the math functions of InfluxDB 1.8 (abs, acos,
// asin, atan, atan2, ceil, cos, exp, floor, ln, log, log2, log10, pow, round,
// sin, sqrt, tan), and Strata's approximate aggregates (approx.go,
// docs/approximate.md: approx_count_distinct, approx_percentile,
// approx_median, approx_top_k, approx_count; sketch_* to store a sketch with
// SELECT INTO and merge_* to finalize stored ones), built on query/sketch.
//
// The executor builds a WindowFunc per call and feeds it one group's points
// per time window, or, for the mergeable functions, folds decoded columns
// and block statistics (Stats) into query/partial's states without
// materializing points; partial's property tests hold those states to the
// window functions here. Transformations run once per group over the already aggregated series.
// Math functions apply per row (Func.Apply). Nothing here touches storage or
// HTTP.
//
// The numbers are InfluxDB 1.x's (checked against answers recorded from a live
// 1.6.7): the tie rules of the selectors, integer wrapping in sum, the
// nearest-rank percentile, the mean of the two middle values for an even
// median, the sample standard deviation, and the exact error texts for
// unsupported types ("unsupported mean iterator type:
// *query.stringInterruptIterator"). Where InfluxDB's float results depend on
// the order of additions (sum and mean are computed per series, then the
// per-series partials are merged), query/partial's sum and mean states
// reproduce that order when the executor marks series boundaries with
// EndSeries; the window functions here compute one pass over the points
// they are given.
package funcs
