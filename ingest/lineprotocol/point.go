package lineprotocol

import "strconv"

// Precision is the unit of the timestamps in a body, as nanoseconds per unit.
type Precision int64

// The precisions of the /write "precision" parameter (n, u, ms, s, m, h).
const (
	Nanosecond  Precision = 1
	Microsecond Precision = 1e3
	Millisecond Precision = 1e6
	Second      Precision = 1e9
	Minute      Precision = 60e9
	Hour        Precision = 3600e9
)

// FieldType is the type of a field value, decided by its spelling.
type FieldType uint8

// Field types. The numbering is part of the API: others persist it.
const (
	Float    FieldType = 1
	Integer  FieldType = 2
	Unsigned FieldType = 3
	String   FieldType = 4
	Boolean  FieldType = 5
)

// String returns InfluxDB's name of the type, as SHOW FIELD KEYS and type
// conflict messages print it.
func (t FieldType) String() string {
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
	return "FieldType(" + strconv.Itoa(int(t)) + ")"
}

// Tag is one tag of a point, unescaped.
type Tag struct{ Key, Value []byte }

// Field is one field of a point. Exactly one of the value members is
// meaningful, chosen by Type.
type Field struct {
	Key   []byte // unescaped
	Type  FieldType
	Float float64 // Type == Float
	Int   int64   // Type == Integer
	Uint  uint64  // Type == Unsigned
	Bool  bool    // Type == Boolean
	Str   []byte  // Type == String, unescaped
}

// Point is one parsed line. It and every slice in it are valid only until the
// next call to Parser.Next or Parser.Reset.
type Point struct {
	Measurement []byte  // unescaped
	Tags        []Tag   // sorted by Key (bytes.Compare), keys unique
	Fields      []Field // input order; a repeated key keeps its last value at the position of its first
	Time        int64   // nanoseconds since the Unix epoch
	Line        int     // 1-based line number within the body
	Raw         []byte  // the line as in the body, without its '\n' and without a trailing '\r'
	// KeyLen is the length of the point's series key as InfluxDB spells it:
	// the escaped measurement and, for each sorted tag, ",key=value" escaped
	// (',', ' ' and '=' in tags; ',' and ' ' in the measurement).
	KeyLen int
}

// ParseError reports one line that is not valid line protocol. Parsing goes on
// with the next line.
type ParseError struct {
	Line   int    // 1-based line number within the body
	Text   string // the line as in the body (without '\n' and a trailing '\r')
	Reason string // InfluxDB's words: "missing fields", "invalid field format", ...
	Column int    // 1-based byte offset in Text where the problem was found
}

// Error returns exactly InfluxDB's message, "unable to parse '<line>': <reason>",
// where <line> is Text without its leading blanks (InfluxDB quotes the line
// after skipping them).
func (e *ParseError) Error() string {
	t := e.Text
	i := 0
	for i < len(t) && isBlank(t[i]) {
		i++
	}
	return "unable to parse '" + t[i:] + "': " + e.Reason
}
