package storage

import (
	"errors"

	"github.com/strata-db/strata/wal"
)

// MaxBatchRecordBytes is the most one batch may encode to: a batch is one WAL
// record, which is how a write is all-or-nothing across a crash. At about 22
// bytes per point of a single-field line, it holds some 3 million points,
// which a 25 MB body of the shortest lines can exceed.
const MaxBatchRecordBytes = wal.MaxRecordSize

// IsBatchTooLarge reports whether err refused a write whose batch encodes to
// more than MaxBatchRecordBytes. Nothing of that batch was stored, and sending
// the same points in smaller batches succeeds: the HTTP layer answers 413.
func IsBatchTooLarge(err error) bool { return errors.Is(err, wal.ErrRecordTooLarge) }
