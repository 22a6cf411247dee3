package storage

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/strata-db/strata/wal"
)

// Errors a write or a read can answer with. Their texts are InfluxDB 1.x's, because
// clients (Telegraf above all) act on them.

// ErrClosed is returned by operations on a closed engine.
var ErrClosed = errors.New("storage: engine closed")

// ErrBeyondRetention rejects a point older than its retention policy keeps data.
var ErrBeyondRetention = errors.New("points beyond retention policy")

// DatabaseNotFoundError: the write or read names a database that does not exist.
type DatabaseNotFoundError struct{ Name string }

func (e *DatabaseNotFoundError) Error() string { return fmt.Sprintf("database not found: %q", e.Name) }

// RetentionPolicyNotFoundError: the write names a retention policy the database lacks.
type RetentionPolicyNotFoundError struct{ Name string }

func (e *RetentionPolicyNotFoundError) Error() string {
	return "retention policy not found: " + e.Name
}

// FieldTypeConflictError: a point's field has another type than the one stored for
// that field of the measurement (or than an earlier point of the same batch gave it).
type FieldTypeConflictError struct {
	Measurement, Field string
	Type, Existing     FieldType
}

func (e *FieldTypeConflictError) Error() string {
	return fmt.Sprintf("field type conflict: input field %q on measurement %q is type %s, already exists as type %s",
		e.Field, e.Measurement, e.Type, e.Existing)
}

// InvalidFieldNameError: the point's only field is named "time".
type InvalidFieldNameError struct{ Measurement, Field string }

func (e *InvalidFieldNameError) Error() string {
	return fmt.Sprintf("invalid field name: input field %q on measurement %q is invalid", e.Field, e.Measurement)
}

// InvalidTagKeyError: the point has a tag named "time".
type InvalidTagKeyError struct{ Measurement, Tag string }

func (e *InvalidTagKeyError) Error() string {
	return fmt.Sprintf("invalid tag key: input tag %q on measurement %q is invalid", e.Tag, e.Measurement)
}

// SeriesLimitError: creating the point's series would exceed the per-database
// limit, or (Total) the limit over all databases.
type SeriesLimitError struct {
	Limit int
	Total bool
}

func (e *SeriesLimitError) Error() string {
	if e.Total {
		return fmt.Sprintf("max-series limit exceeded: (%d series in all databases)", e.Limit)
	}
	return fmt.Sprintf("max-series-per-database limit exceeded: (%d)", e.Limit)
}

// ErrUnavailable matches every error of a write the engine could not make durable
// right now (a full disk, an I/O error, a disk that does not answer): nothing of it
// was acknowledged, and the same write may succeed when retried later. The HTTP
// layer answers it with 503 and Retry-After.
var ErrUnavailable = errors.New("storage unavailable")

// UnavailableError wraps the cause of an ErrUnavailable failure.
type UnavailableError struct{ Err error }

// maxErrorText bounds the cause quoted to a client: a path and an errno, not a log.
const maxErrorText = 300

func (e *UnavailableError) Error() string {
	msg := e.Err.Error()
	if len(msg) > maxErrorText {
		msg = msg[:maxErrorText] + "..."
	}
	if isDiskFull(e.Err) {
		return "disk full: " + msg
	}
	return "storage unavailable: " + msg
}

func (e *UnavailableError) Unwrap() error { return e.Err }

func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// isDiskError tells failures of the disk (which a retry after the operator frees
// space or replaces the disk can cure) from bugs and bad input.
func isDiskError(err error) bool {
	return isDiskFull(err) || errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EROFS) ||
		errors.Is(err, wal.ErrUnavailable) || errors.Is(err, ErrUnavailable)
}
