// Package lineprotocol owns the InfluxDB line protocol: it turns the body of a
// /write request into points, and it writes points back as line protocol.
//
// It is a leaf package: no HTTP, no storage, no global state. The write handler
// in package ingest feeds it the (already decompressed) request body and decides
// what to do with each point or *ParseError; storage never sees line protocol.
//
// # Zero-copy parsing
//
// A Parser walks the body in place. Names and values in a returned Point are
// sub-slices of the body; only a token that contains an escape sequence is
// unescaped, into a scratch buffer owned by the Parser and reused for every
// line. After warm-up, parsing a line allocates nothing. The price is that a
// Point is valid only until the next call to Next or Reset.
//
// # Compatibility
//
// The grammar and every error text follow InfluxDB 1.6.7 (models/points.go as
// observed on a live server, see testdata/lineprotocol/compat.jsonl), including
// its quirks:
//
//   - Identifiers use "previous byte" escaping: a delimiter preceded by a
//     backslash is escaped, so "a\\,b" is one token. Measurements unescape
//     `\,` and `\ `; tag keys, tag values and field keys also unescape `\=`.
//     Any other backslash is kept literally.
//   - The first byte of a tag value is never a delimiter, so "t==x" is the
//     tag value "=x" (1.6.7 accepts it; any later unescaped '=' is
//     "invalid tag format").
//   - A newline inside a double-quoted string field value belongs to the
//     value; the line continues.
//   - Error texts are 1.6.7's: "missing fields", "invalid field format",
//     "unable to parse integer ...: strconv.ParseInt: ...", and so on.
//
// Deliberate differences from 1.6.7 (product decisions, each tested):
//
//   - Unsigned integers ("1u") are accepted, as InfluxDB 2.x does.
//   - CRLF line endings are tolerated: a '\r' right before '\n' or at the end
//     of the body is not part of the line.
//   - A backslash never hides a line end outside a quoted string, and comment
//     lines always end at the next '\n' (1.6.7 could glue following lines to
//     them and drop them silently).
//   - Bytes after the closing quote of a string value ("v=\"x\"y") are
//     "invalid field format"; 1.6.7 stores a mangled value. Likewise a field
//     section whose '=' and ',' do not alternate is rejected even when 1.6.7's
//     counting happens to balance.
//   - An empty field key is always "missing field key", also after a tab.
//
// The parser does not reject the field or tag key "time" and does not limit
// series key length: the write handler does that, since its messages name the
// measurement. Point.KeyLen gives it the length of the series key.
//
// A Parser remembers up to 1,024 keys (measurement and tags) as lines spell
// them and their parse, across Resets: a line whose key bytes it has seen is
// parsed from its fields on. Bodies repeat their series' keys line after line,
// and the bytes alone decide a key's parse (TestKnownKeys_SameParse).
package lineprotocol
