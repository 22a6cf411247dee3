// Package partial owns mergeable partial aggregate states: every InfluxQL
// aggregate and selector that can be computed over part of a window's points
// (a block, a time slice, a core's share, a node's series), encoded, and
// merged later into the result one pass over all the points gives. It is the
// foundation for continuous rollups that store encoded states per window and
// merge late data into them, for a result cache of states, and for
// multi-node queries that ship encoded states to the coordinator. Its first
// user is the query executor (query/aggregate.go), which folds every
// mergeable call into one State per window, from decoded columns and block
// headers, and merges the States of a group's series split across cores.
//
// What the next users must know about merging:
//   - Rollups with late data: a stored window state merges a late partial
//     like any other, for every kind but integral, whose partials must be
//     time-disjoint (a late point inside the window means recomputing it).
//   - Series: sum and mean follow InfluxDB's per-series arithmetic; call
//     EndSeries on a partial that covers whole series before merging it
//     with partials of other series (a node's share of a group), not on
//     time slices of one series.
//   - Sketches are further Kinds in the same encoding (tags from 32, one per
//     approximate function, sketch.go), with the same Merge and AppendBinary
//     contract; the sketches themselves are query/sketch's.
//   - Encoded states are self-describing (version, kind, input type,
//     arguments), so a coordinator can Decode what nodes ship and Merge it
//     without knowing the query; Merge checks that kind, type and
//     arguments agree.
//
// The results are query/funcs' (InfluxDB 1.x's): Final returns what
// funcs.NewWindowFunc returns for the same points, with the same tie rules,
// integer wrapping and null for the stddev of one value. Where a merge
// legitimately changes float rounding (sum, mean, stddev, integral) the
// type's doc says so. funcs stays the engine's arithmetic; this package
// imports it for its types and its argument and type checks, and nothing
// else: not storage, not the query executor.
//
// Files: state.go (the State interface, kinds, New), adders.go (typed-column
// routing), codec.go (the header and value encodings, Decode), and one file
// per family: count.go, sum.go (sum, mean, spread), selector.go (min, max,
// first, last), stddev.go, integral.go, collection.go (median, percentile,
// mode, distinct, count_distinct), topk.go (top, bottom), sketch.go (the
// approximate functions over query/sketch). The byte format is specified in
// docs/format/partial-aggregates.md, pinned by testdata/partial/*.bin.
//
// To add a state (a sketch such as HLL, DDSketch or count-min, on the tags
// reserved from 32):
//   - give it a new Kind constant (never reuse or renumber a tag) and a name
//     in kindNames;
//   - implement the unexported state interface: embed adders and bind the
//     typed fold for the input type, write Merge, Final, appendFields and
//     decodeFields (check every count against the remaining input before
//     allocating);
//   - construct it in newState (and New if it has a function name);
//   - document its fields in the format spec, add a golden fixture, and add
//     it to the property test and the fuzz corpus.
package partial
