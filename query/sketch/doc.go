// Package sketch owns Strata's approximate-analytics data structures and
// their byte format: HyperLogLog for distinct counts (hll.go), a
// DDSketch-style log-bucket histogram for relative-error quantiles (dd.go),
// Space-Saving for heavy hitters (topk.go) and Count-Min for point
// frequencies (countmin.go). Each merges with another of its kind into the
// sketch of the union of their inputs, and encodes to a self-describing,
// versioned value (codec.go, docs/format/sketches.md, pinned by
// testdata/sketch/*.bin) that query/partial wraps as a partial state and that
// SELECT INTO stores as a string field (Text, ParseText).
//
// Determinism is a contract: the same input in any order, split and merged
// in any way, gives the same bytes for HLL, DDSketch and Count-Min;
// Space-Saving's merge is order-dependent within its documented error bound.
//
// This is a leaf: it imports no other Strata package. query/funcs builds its
// window functions from it and query/partial its mergeable states, so the
// arithmetic exists once. To add a sketch: a Kind constant (never reuse a
// tag), a type with Merge, AppendBinary and a decoder that checks every
// count against the input before allocating, a case in Decode, a section of
// docs/format/sketches.md, a golden fixture and a seed in FuzzDecode.
package sketch
