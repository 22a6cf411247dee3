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
// A failed write or fsync poisons the log: the kernel may already have dropped
// the dirty pages, so retrying the fsync could report success for data that is
// gone. Every waiter and every later Append gets the error; the process is
// expected to restart and recover from disk.
//
// # Recovery
//
// Open scans the last segment and truncates a torn or corrupt tail (the
// signature of a crash mid-write) at the end of the last valid record. It then
// starts a fresh segment, so no file that was being written at crash time is
// ever appended to. Damage anywhere else is not repairable without losing
// acknowledged data, so Replay reports it as a *CorruptionError instead.
//
// The byte layout is specified in docs/format/wal.md; the golden segment in
// testdata/wal keeps that document and the code in step.
package wal
