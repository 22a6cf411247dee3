// Package funcs is Strata's InfluxQL function library: the aggregates
// (count, sum, mean, median, mode, spread, stddev, integral, distinct,
// count(distinct)), the selectors (min, max, first, last, percentile, top,
// bottom, sample) and the transformations (derivative, non_negative_derivative,
// difference, non_negative_difference, moving_average, cumulative_sum, elapsed).
//
// It owns the arithmetic only. The planner classifies calls with IsAggregate,
// IsSelector, IsTransform and OutputType; the executor builds a WindowFunc per
// call with NewWindowFunc and feeds it one group's points per time window, or,
// for the hot simple aggregates, folds decoded columns and block statistics
// into an Accumulator without materializing points. Transformations run once
// per group over the already aggregated series (NewTransform). Nothing here
// touches storage or HTTP.
//
// The numbers are InfluxDB 1.x's (checked against answers recorded from a live
// 1.6.7): the tie rules of the selectors, integer wrapping in sum, the
// nearest-rank percentile, the mean of the two middle values for an even
// median, the sample standard deviation, and the exact error texts for
// unsupported types ("unsupported mean iterator type:
// *query.stringInterruptIterator"). Where InfluxDB's float results depend on
// the order of additions (sum and mean are computed per series, then the
// per-series partials are merged), the Accumulator reproduces that order
// when the executor marks series boundaries with EndSeries.
package funcs
