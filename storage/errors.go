package storage

import (
	"errors"
	"fmt"
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

// SeriesLimitError: creating the point's series would exceed the per-database limit.
type SeriesLimitError struct{ Limit int }

func (e *SeriesLimitError) Error() string {
	return fmt.Sprintf("max-series-per-database limit exceeded: (%d)", e.Limit)
}
