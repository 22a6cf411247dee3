// Package wal is Strata's write-ahead log: a segmented, checksummed,
// append-only log of opaque byte records with group commit.
//
// The package owns durability of writes between the moment the storage engine
// accepts a batch of points and the moment that batch is persisted in a block.
// It knows nothing about points, series or databases: the storage engine
// encodes a batch into one record, calls Append, and acknowledges the client
// only once WaitDurable returns. On startup the engine calls Replay to rebuild
// its in-memory head, and after flushing the head into a block it calls
// Rotate and later RemoveBefore to drop segments whose data is safe elsewhere.
//
// # Durability model
//
// A single background goroutine owns the active segment file. Appends are
// framed and copied into an in-memory batch; the goroutine takes everything
// queued since its last fsync, writes it with a few large write calls (one per
// 4 MiB chunk) and syncs it with one fsync, then wakes every waiter that batch
// covered. There is no timer:
// while an fsync is in flight new records pile up, so batches grow with load
// and an idle log syncs a lone record immediately.
//
// A failed write or fsync fails every queued record with an error matching
// ErrUnavailable: the kernel may already have dropped the dirty pages, so
// retrying the fsync could report success for data that is gone. The segment
// is cut back to its last synced offset and abandoned, and the writer retries
// (with back-off up to a second) to start a fresh segment; until it can, every
// Append is refused at once, so a full disk answers fast instead of hanging.
// Once a fresh segment exists, records are taken again without a restart. No
// record is ever acknowledged on the strength of a segment whose fsync failed.
// Waits are bounded (Options.MaxWait, WaitDurableTimeout). The segment file
// is reached through one seam, segmentFile, which tests replace to inject
// write and fsync failures.
//
// # Recovery
//
// A torn tail (damage with no valid record after it: the signature of a crash
// mid-write) is truncated off the last segment at Open, and skipped in any
// other segment. Damage followed by valid records is bit rot, not a crash:
// Replay skips to the next valid record (a length that fits and a matching
// CRC), delivers every record after it, copies the skipped bytes to the
// quarantine directory, logs at error level and counts them in
// strata_wal_corruptions_total; Damage lists them. A missing segment is
// reported the same way. Open always starts a fresh segment, so no file that
// was being written at crash time is ever appended to.
//
// The byte layout is specified in docs/format/wal.md; the golden segment in
// testdata/wal keeps that document and the code in step.
package wal
