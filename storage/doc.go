// Package storage owns everything Strata keeps about points once a write has been
// accepted: databases, series and their compact IDs, the tag index, field schemas,
// the in-memory head and the immutable column blocks in Pebble.
//
// A write arrives as a Batch (built by ingest from parsed line protocol). Engine.Write
// resolves series and fields, appends one record to the write-ahead log (package wal),
// applies the points to the head, and returns once the record is durable. The head is
// flushed in the background into column blocks (package storage/block), one per series
// × field × time range, keyed so that a time-range scan of one series and field is a
// single Pebble seek (docs/format/keys.md). After a flush is durable in Pebble the WAL
// segments it covered are deleted.
//
// The tag index (index.go) stays in Pebble and is read on demand through caches with
// byte budgets (index_cache.go); open loads one posting list per measurement.
// Reads go through SeriesIDs (tag predicates resolved on roaring bitmaps) and
// NewCursor, which streams one series' field in time order, merging head and blocks
// with last-write-wins on equal timestamps. A cursor's chunks are storage.Column,
// with storage.BlockStats for a chunk that is one stored block (chunk.go): readers
// never import storage/block. A cursor decodes a block from the last of its marks
// before the range when the marks cache (marks.go) has them, and keeps the marks
// its decode took.
//
// Every write, DELETE and DROP SERIES is reported to the engine's
// TouchObservers (touch.go), live and again on WAL replay; a flush checkpoints
// their state before it drops WAL segments. Continuous query definitions are
// kept opaque under their own key kind (continuous.go).
//
// Imports flow one way: storage uses wal and storage/block; it never imports ingest,
// query or cmd.
package storage
