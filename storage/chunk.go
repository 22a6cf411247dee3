package storage

import "github.com/strata-db/strata/storage/block"

// What a Cursor hands its reader. Storage owns the column format; storage/block
// is its codec, and readers above storage (query) name these types only through
// storage, so the codec stays an implementation detail of this package.
//
// They are aliases, not types of their own, on purpose: a cursor hands out the
// decoder's own buffers (Column) and the stored block's header (BlockStats)
// without a copy or a conversion on the scan's hot path, and the codec's
// column methods (Len, AppendRow, AppendRows, OwnStrings) come with them. A
// defined type would need each of those re-declared here for no gain. FieldType
// and its constants (catalog.go) are aliases for the same reason.

// Column is one chunk of one field's values as a Cursor returns it: Times plus
// exactly one value slice, the one matching Type (a FieldType), of the same
// length.
type Column = block.Column

// BlockStats is the header of one stored block: its count, time range and, for
// numeric types, min, max, sum, first and last (the semantics are those of
// docs/format/block.md). Cursor.Stats returns it for a chunk that is exactly
// one stored block inside the cursor's range.
type BlockStats = block.Header
