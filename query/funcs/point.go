package funcs

import (
	"errors"
	"fmt"
	"time"
)

// Point is one value at one time. Value is one of float64, int64, uint64,
// string or bool; nil is a null (a fill(null) window seen by a transform, or
// a result InfluxDB prints as null, like stddev of a single value).
type Point struct {
	Time  int64 // ns
	Value any
	// Aux carries extra columns some selectors bring along (the tag values of
	// top/bottom with tag arguments, or the other fields of `SELECT max(x), y`),
	// else nil. Selectors return the chosen point's Aux unchanged.
	Aux []any
}

// Type is a column's data type. The numeric values match Stats.Type.
type Type uint8

// The data types of InfluxQL columns.
const (
	Unknown  Type = 0
	Float    Type = 1
	Integer  Type = 2
	Unsigned Type = 3
	String   Type = 4
	Boolean  Type = 5
)

func (t Type) String() string {
	switch t {
	case Float:
		return "float"
	case Integer:
		return "integer"
	case Unsigned:
		return "unsigned"
	case String:
		return "string"
	case Boolean:
		return "boolean"
	}
	return "unknown"
}

// iteratorName is how InfluxDB 1.x names the iterator of a type in its
// "unsupported ... iterator type" errors; users see and search for this text.
func (t Type) iteratorName() string {
	switch t {
	case Float:
		return "*query.floatInterruptIterator"
	case Integer:
		return "*query.integerInterruptIterator"
	case Unsigned:
		return "*query.unsignedInterruptIterator"
	case String:
		return "*query.stringInterruptIterator"
	case Boolean:
		return "*query.booleanInterruptIterator"
	}
	return "*query.nilFloatIterator"
}

// TypeOf returns the Type of a Point value (Unknown for nil or a foreign type).
func TypeOf(v any) Type {
	switch v.(type) {
	case float64:
		return Float
	case int64:
		return Integer
	case uint64:
		return Unsigned
	case string:
		return String
	case bool:
		return Boolean
	}
	return Unknown
}

// TypeError is a function applied to a type it does not support. Its text is
// InfluxDB's, e.g. "unsupported mean iterator type: *query.stringInterruptIterator".
type TypeError struct {
	Func string // the function's name as InfluxDB spells it in the message
	Type Type
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("unsupported %s iterator type: %s", e.Func, e.Type.iteratorName())
}

// ErrMixedTypes is returned when one call sees values of different types, which
// the storage layer's type-conflict rules should have made impossible.
var ErrMixedTypes = errors.New("funcs: values of different types in one series")

// seriesType returns the type shared by all non-nil values of pts.
func seriesType(pts []Point) (Type, error) {
	t := Unknown
	for i := range pts {
		if pts[i].Value == nil {
			continue
		}
		vt := TypeOf(pts[i].Value)
		if vt == Unknown {
			return Unknown, fmt.Errorf("funcs: unsupported value %T at time %d: %w", pts[i].Value, pts[i].Time, ErrMixedTypes)
		}
		if t == Unknown {
			t = vt
		} else if vt != t {
			return Unknown, fmt.Errorf("funcs: %s and %s at time %d: %w", t, vt, pts[i].Time, ErrMixedTypes)
		}
	}
	return t, nil
}

// literalType names an argument's Go type the way InfluxDB's parser names the
// literal in its argument errors.
func literalType(v any) string {
	switch x := v.(type) {
	case float64:
		return "*influxql.NumberLiteral"
	case int64, int:
		return "*influxql.IntegerLiteral"
	case string:
		return "*influxql.StringLiteral"
	case bool:
		return "*influxql.BooleanLiteral"
	case time.Duration:
		return "*influxql.DurationLiteral"
	case exprArg:
		return x.typeName()
	case nil:
		return "<nil>"
	}
	return fmt.Sprintf("%T", v)
}

// literalString prints an argument as InfluxQL would print the literal.
func literalString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case time.Duration:
		return x.String()
	}
	return fmt.Sprint(v)
}

func argCountError(name string, min, max, gotArgs int) error {
	got := gotArgs + 1 // InfluxDB counts the field argument too
	if min == max {
		return fmt.Errorf("invalid number of arguments for %s, expected %d, got %d", name, min, got)
	}
	return fmt.Errorf("invalid number of arguments for %s, expected at least %d but no more than %d, got %d", name, min, max, got)
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func errUndefined(name string) error { return fmt.Errorf("undefined function %s()", name) }
