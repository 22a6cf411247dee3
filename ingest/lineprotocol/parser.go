package lineprotocol

import (
	"bytes"
	"io"
	"slices"
)

// Timestamps InfluxDB accepts: int64 without its two extreme values at each end,
// which it reserves as sentinels.
const (
	minTime = -1<<63 + 2
	maxTime = 1<<63 - 2
)

const (
	// Room for typical lines (TSBS cpu: 10 tags, 10 fields) so a fresh Parser
	// reaches its steady state without regrowing.
	initialTags    = 16
	initialFields  = 16
	initialScratch = 256
	// Up to this many fields, duplicate keys are merged by comparing each key
	// with the earlier ones; above it, by sorting an index, so a hostile line
	// with thousands of fields stays O(n log n).
	quadraticFieldLimit = 32
	// Bits of the filter that spots repeated field keys: with 10 keys (TSBS)
	// about 4% of lines need a closer look.
	filterBits = 1024
	// Up to this many tags out of order, insertion sort; above it pdqsort.
	insertionSortLimit = 16
)

// Reasons, worded exactly as InfluxDB 1.6.7 words them.
const (
	errMissingMeasurement = "missing measurement"
	errMissingFields      = "missing fields"
	errMissingTagKey      = "missing tag key"
	errMissingTagValue    = "missing tag value"
	errInvalidTagFormat   = "invalid tag format"
	errDuplicateTags      = "duplicate tags"
	errMissingFieldKey    = "missing field key"
	errMissingFieldValue  = "missing field value"
	errInvalidFieldFormat = "invalid field format"
	errUnbalancedQuotes   = "unbalanced quotes"
	errInvalidNumber      = "invalid number"
	errInvalidBoolean     = "invalid boolean"
	errInvalidFloat       = "invalid float"
	errBadTimestamp       = "bad timestamp"
	errPointInvalid       = "point is invalid"
	errTimeOutOfRange     = "time outside range -9223372036854775806 - 9223372036854775806"
)

// Byte classes for the scanning loops: one table lookup per byte decides
// whether the byte needs attention.
const (
	clSpace     = 1 << iota // ' '
	clComma                 // ','
	clEquals                // '='
	clBackslash             // '\\'
	clQuote                 // '"'

	measStop  = clSpace | clComma | clBackslash
	tagStop   = clSpace | clComma | clEquals | clBackslash
	fieldStop = clSpace | clComma | clEquals | clBackslash | clQuote

	measEscapes = clSpace | clComma            // bytes measurements escape
	tagEscapes  = clSpace | clComma | clEquals // bytes tag keys, tag values and field keys escape
)

var newline = []byte{'\n'}

var class = [256]uint8{
	' ':  clSpace,
	',':  clComma,
	'=':  clEquals,
	'\\': clBackslash,
	'"':  clQuote,
}

// Parser parses one body at a time. It is not safe for concurrent use; give
// each goroutine its own and reuse it across requests.
type Parser struct {
	body []byte
	pos  int   // offset in body of the next line
	line int   // 1-based number of the line at pos
	prec int64 // nanoseconds per timestamp unit
	now  int64 // time for lines without a timestamp, already truncated to prec

	pt      Point
	tags    []Tag
	fields  []Field
	scratch []byte              // unescaped tokens of the current line
	order   []int32             // scratch index for merging duplicate fields of long lines
	keys    map[string]knownKey // see knownKey
}

// knownKey is the parsed measurement and tags of a series key as a line
// spells it: a body repeats the keys of its series line after line (TSBS: 100
// hosts, 50 lines each per batch), and parsing, unescaping and sorting ten
// tags was a third of the parser's time. Entries own their bytes.
type knownKey struct {
	measurement []byte
	tags        []Tag
	keyLen      int
}

// maxKnownKeys bounds a Parser's known keys (about 1 KB each with ten tags):
// past it new keys are parsed every time, as without the cache.
const maxKnownKeys = 1024

// knownKey returns the parsed key of the line b from its first byte at i when
// the same bytes, up to the blank before the fields, parsed before, and the
// offset of that blank. The bytes decide the parse alone, so a key found here
// is the one parseKey would make.
func (p *Parser) knownKey(b []byte, i int) (knownKey, int, bool) {
	if len(p.keys) == 0 {
		return knownKey{}, 0, false
	}
	end := keyEnd(b, i)
	if end >= len(b) || b[end] != ' ' {
		return knownKey{}, 0, false
	}
	k, ok := p.keys[string(b[i:end])]
	return k, end, ok
}

// rememberKey keeps the key just parsed from the bytes raw (see knownKey).
func (p *Parser) rememberKey(raw []byte) {
	if len(p.keys) >= maxKnownKeys {
		return
	}
	if p.keys == nil {
		p.keys = make(map[string]knownKey)
	}
	pt := &p.pt
	n := len(pt.Measurement)
	for _, t := range pt.Tags {
		n += len(t.Key) + len(t.Value)
	}
	buf := make([]byte, 0, n)
	buf = append(buf, pt.Measurement...)
	k := knownKey{measurement: buf[:len(pt.Measurement):len(pt.Measurement)], tags: make([]Tag, len(pt.Tags)), keyLen: pt.KeyLen}
	for j, t := range pt.Tags {
		o := len(buf)
		buf = append(buf, t.Key...)
		k.tags[j].Key = buf[o:len(buf):len(buf)]
		o = len(buf)
		buf = append(buf, t.Value...)
		k.tags[j].Value = buf[o:len(buf):len(buf)]
	}
	p.keys[string(raw)] = k
}

// keyEnd returns the offset of the first unescaped blank or line end from i
// on (len(b) if none), skipping escapes as parseKey does. It only has to
// find the blank of most keys: a hit must equal a key parseKey delimited.
func keyEnd(b []byte, i int) int {
	sp := bytes.IndexByte(b[i:], ' ')
	if sp < 0 {
		return len(b)
	}
	if bytes.IndexByte(b[i:i+sp], '\\') < 0 {
		return i + sp // no escapes (a quoted line end in a tag is left to the lookup)
	}
	for i < len(b) {
		switch b[i] {
		case ' ', '\n':
			return i
		case '\\':
			i = skipEscape(b, i)
		default:
			i++
		}
	}
	return i
}

// NewParser returns a Parser ready for Reset.
func NewParser() *Parser {
	return &Parser{
		tags:    make([]Tag, 0, initialTags),
		fields:  make([]Field, 0, initialFields),
		scratch: make([]byte, 0, initialScratch),
	}
}

// Reset starts parsing body. Timestamps in the body are multiplied by prec
// (a precision <= 0 means nanoseconds); a line without a timestamp gets now
// (nanoseconds) truncated down to a multiple of prec, as InfluxDB rounds its
// own clock to the precision.
func (p *Parser) Reset(body []byte, prec Precision, now int64) {
	if prec <= 0 {
		prec = Nanosecond
	}
	p.body, p.pos, p.line, p.prec = body, 0, 1, int64(prec)
	t := now / p.prec * p.prec
	if t > now { // negative now: round toward minus infinity
		t -= p.prec
	}
	p.now = t
	p.pt = Point{}
}

// Next returns the next point, or a *ParseError for a bad line (the following
// call goes on with the next line), or (nil, io.EOF) at the end of the body.
// The returned Point and every slice in it are valid only until the next call
// to Next or Reset. Blank lines, lines of only spaces and tabs, and lines whose
// first non-blank byte is '#' are skipped.
func (p *Parser) Next() (*Point, error) {
	for p.pos < len(p.body) {
		start, lineNo := p.pos, p.line
		end := p.nextLine()
		raw := p.body[start:end]
		if n := len(raw); n > 0 && raw[n-1] == '\r' {
			raw = raw[:n-1]
		}
		first := skipBlanks(raw, 0)
		if first == len(raw) || raw[first] == '#' {
			continue
		}
		if reason, at := p.parseLine(raw, first); reason != "" {
			return nil, &ParseError{Line: lineNo, Text: string(raw), Reason: reason, Column: at + 1}
		}
		p.pt.Line, p.pt.Raw = lineNo, raw
		return &p.pt, nil
	}
	return nil, io.EOF
}

// nextLine finds the end of the line at p.pos, moves p.pos and p.line past it
// and returns the end (exclusive, the offset of its '\n' or len(body)).
func (p *Parser) nextLine() int {
	b, start := p.body, p.pos
	end := len(b)
	if i := bytes.IndexByte(b[start:], '\n'); i >= 0 {
		end = start + i
	}
	// Only a double quote can carry a line past a '\n'; most lines have none.
	if bytes.IndexByte(b[start:end], '"') >= 0 {
		first := skipBlanks(b, start)
		if first < end && b[first] != '#' {
			end = p.quotedLineEnd(first)
		}
	}
	p.pos = end
	if end < len(b) {
		p.pos++
		p.line++
	}
	return end
}

// quotedLineEnd finds the end of a line that contains a double quote, starting
// at its first non-blank byte i. It follows InfluxDB's scanLine: in the field
// section and after it, a '"' seen while more '=' than ',' have been counted
// opens or closes a string, and a '\n' inside a string belongs to the line.
// Unlike scanLine, the field section starts where the parser's starts (the
// first space not preceded by a backslash) and a backslash outside a string
// never hides a '\n', so the line the parser sees is the line it would write.
func (p *Parser) quotedLineEnd(i int) int {
	b := p.body
	n := len(b)
	i++ // the first byte of a measurement never ends it
	for ; i < n; i++ {
		c := b[i]
		if c == '\n' {
			return i
		}
		if c == ' ' && b[i-1] != '\\' {
			break
		}
	}
	quoted := false
	equals, commas := 0, 0
	nextQuote := -1 // cached offset of the next '"' at or after i, or n if none
	for ; i < n; i++ {
		if quoted {
			// Jump to the next quote or backslash, whichever comes first.
			// Both searches only move forward, so long strings stay linear.
			if nextQuote < i {
				nextQuote = n
				if j := bytes.IndexByte(b[i:], '"'); j >= 0 {
					nextQuote = i + j
				}
			}
			stop := nextQuote
			if j := bytes.IndexByte(b[i:nextQuote], '\\'); j >= 0 {
				stop = i + j
			}
			p.line += bytes.Count(b[i:stop], newline)
			if i = stop; i == n {
				break
			}
		}
		switch b[i] {
		case '\\':
			if i+1 < n && (quoted || b[i+1] != '\n') {
				if b[i+1] == '\n' {
					p.line++
				}
				i++
			}
		case '"':
			if equals > commas {
				quoted = !quoted
			}
		case '=':
			if !quoted {
				equals++
			}
		case ',':
			if !quoted {
				commas++
			}
		case '\n':
			if !quoted {
				return i
			}
			p.line++
		}
	}
	return n
}

// parseLine parses the line b whose first non-blank byte is at i into p.pt.
// On failure it returns the reason and the offset in b of the problem.
func (p *Parser) parseLine(b []byte, i int) (string, int) {
	n := len(b)
	p.scratch = p.scratch[:0]
	p.tags = p.tags[:0]
	p.fields = p.fields[:0]
	pt := &p.pt

	if k, end, ok := p.knownKey(b, i); ok {
		pt.Measurement = k.measurement
		p.tags = append(p.tags, k.tags...)
		pt.Tags, pt.KeyLen = p.tags, k.keyLen
		i = end
	} else {
		start := i
		var reason string
		var at int
		if i, reason, at = p.parseKey(b, i); reason != "" {
			return reason, at
		}
		p.rememberKey(b[start:i])
	}

	// Fields. The scan mirrors InfluxDB's scanFields: it counts unquoted '='
	// and ',' and checks at the end that they alternate, while each value is
	// checked (and here also converted) as soon as its '=' is seen, so errors
	// come out in the same order as InfluxDB's.
	i = skipBlanks(b, i)
	equals, commas := 0, 0
	keyStart, kesc := i, false
	bad := -1 // first offset where '=' and ',' stop alternating
	for i < n {
		c := b[i]
		if class[c]&fieldStop == 0 {
			i++
			continue
		}
		switch c {
		case '\\':
			kesc = true
			i += 2
			if i > n {
				i = n
			}
		case '"':
			if equals > commas {
				// A quote not at the start of a value: InfluxDB still
				// quotes on it.
				end, _, ok := scanString(b, i+1)
				if !ok {
					return errUnbalancedQuotes, i
				}
				if bad < 0 {
					bad = i
				}
				i = end + 1
				continue
			}
			i++
		case ',':
			commas++
			if commas != equals && bad < 0 {
				bad = i
			}
			i++
			keyStart, kesc = i, false
		case ' ':
			goto fieldsDone
		case '=':
			equals++
			if i == keyStart {
				return errMissingFieldKey, i
			}
			if i+1 >= n || b[i+1] == ',' || b[i+1] == ' ' {
				return errMissingFieldValue, i
			}
			if equals != commas+1 && bad < 0 {
				bad = i
			}
			key := b[keyStart:i]
			if kesc {
				key = p.unescapeFieldKey(key)
			}
			i++
			var (
				f      = Field{Key: key}
				reason string
			)
			switch v := b[i]; {
			case v == '"':
				if equals <= commas {
					continue // not a value start for InfluxDB either
				}
				end, sesc, ok := scanString(b, i+1)
				if !ok {
					return errUnbalancedQuotes, i
				}
				f.Type, f.Str = String, b[i+1:end]
				if sesc {
					f.Str = p.unescapeString(f.Str)
				}
				i = end + 1
				if i < n && b[i] != ',' && b[i] != ' ' && bad < 0 {
					bad = i
				}
			case v >= '0' && v <= '9' || v == '.' || v == '-' || v == 'N' || v == 'n':
				if i, reason = parseNumber(b, i, &f); reason != "" {
					return reason, i
				}
			default:
				if i, reason = parseBool(b, i, &f); reason != "" {
					return reason, i
				}
			}
			p.fields = append(p.fields, f)
		}
	}
fieldsDone:
	if equals == 0 || commas != equals-1 {
		return errInvalidFieldFormat, i
	}
	if bad >= 0 {
		return errInvalidFieldFormat, bad
	}
	if len(p.fields) > 1 {
		p.fields = p.mergeDuplicateFields(p.fields)
	}
	pt.Fields = p.fields

	// Timestamp.
	i = skipBlanks(b, i)
	start := i
	if i < n && b[i] == '-' {
		i++
	}
	for i < n && b[i] != ' ' && b[i] != '\n' {
		if b[i] < '0' || b[i] > '9' {
			return errBadTimestamp, i
		}
		i++
	}
	if i == start {
		if i < n {
			return errPointInvalid, i
		}
		pt.Time = p.now
		return "", 0
	}
	t, reason := parseTime(b[start:i], p.prec)
	if reason != "" {
		return reason, start
	}
	for ; i < n; i++ {
		if b[i] != ' ' {
			return errPointInvalid, i
		}
	}
	pt.Time = t
	return "", 0
}

// parseKey parses the measurement and tags of the line b from its first byte
// at i into p.pt, up to the blank before the fields, whose offset it returns;
// on failure it returns the reason and the offset of the problem.
func (p *Parser) parseKey(b []byte, i int) (int, string, int) {
	n := len(b)
	pt := &p.pt
	// Measurement. Its first byte is never a delimiter (but may escape the
	// next one); a leading comma means there is no measurement at all.
	if b[i] == ',' {
		return i, errMissingMeasurement, i
	}
	start, escaped := i, false
	if b[i] == '\\' {
		escaped, i = true, skipEscape(b, i)
	} else {
		i++
	}
	for i < n {
		c := b[i]
		if class[c]&measStop == 0 {
			i++
			continue
		}
		if c == '\\' {
			escaped, i = true, skipEscape(b, i)
			continue
		}
		break
	}
	if i >= n {
		return i, errMissingFields, n
	}
	pt.Measurement = b[start:i]
	keyLen := i - start
	if escaped {
		pt.Measurement = p.unescapeIdent(pt.Measurement, measEscapes)
	}

	// Tags.
	if b[i] == ',' {
		i++
		for {
			start := i
			if i >= n || class[b[i]]&(clSpace|clComma|clEquals) != 0 {
				return i, errMissingTagKey, i
			}
			kesc := false
			if b[i] == '\\' {
				kesc, i = true, skipEscape(b, i)
			} else {
				i++
			}
			for i < n {
				c := b[i]
				if class[c]&tagStop == 0 {
					i++
					continue
				}
				if c == '\\' {
					kesc, i = true, skipEscape(b, i)
					continue
				}
				break
			}
			if i >= n || b[i] != '=' {
				return i, errMissingTagValue, i
			}
			key := b[start:i]
			i++
			start = i
			if i >= n || b[i] == ',' || b[i] == ' ' {
				return i, errMissingTagValue, i
			}
			vesc := false
			switch b[i] {
			case '\\':
				vesc, i = true, skipEscape(b, i)
			case '=':
				// 1.6.7 never checks the first byte of a value for '='; the
				// series key spells it escaped.
				keyLen++
				i++
			default:
				i++
			}
			for i < n {
				c := b[i]
				if class[c]&tagStop == 0 {
					i++
					continue
				}
				if c == '\\' {
					vesc, i = true, skipEscape(b, i)
					continue
				}
				break
			}
			if i >= n {
				return i, errMissingFields, n
			}
			if b[i] == '=' {
				return i, errInvalidTagFormat, i
			}
			value := b[start:i]
			keyLen += 2 + len(key) + len(value)
			if kesc {
				key = p.unescapeIdent(key, tagEscapes)
			}
			if vesc {
				value = p.unescapeIdent(value, tagEscapes)
			}
			p.tags = append(p.tags, Tag{Key: key, Value: value})
			if b[i] == ' ' {
				break
			}
			i++
		}
		if len(p.tags) > 1 && !sortTags(p.tags) {
			return i, errDuplicateTags, i
		}
	}
	pt.Tags = p.tags
	pt.KeyLen = keyLen
	return i, "", 0
}

// skipEscape skips the backslash at b[i], any backslashes right after it, and
// the byte they escape. In identifiers InfluxDB treats any byte after a
// backslash as escaped, including another backslash, so a run of backslashes
// always escapes the byte after it.
func skipEscape(b []byte, i int) int {
	i++
	for i < len(b) && b[i] == '\\' {
		i++
	}
	if i < len(b) {
		i++
	}
	return i
}

// scanString scans a string value whose first byte is b[i] (after the opening
// quote). It returns the offset of the closing quote, whether the value holds
// a backslash, and false if the quote is never closed.
func scanString(b []byte, i int) (int, bool, bool) {
	if j := bytes.IndexByte(b[i:], '"'); j >= 0 && bytes.IndexByte(b[i:i+j], '\\') < 0 {
		return i + j, false, true
	}
	escaped := false
	for i < len(b) {
		switch b[i] {
		case '"':
			return i, escaped, true
		case '\\':
			escaped = true
			i++
		}
		i++
	}
	return len(b), escaped, false
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == 0 }

// skipBlanks skips what InfluxDB skips between sections: spaces, tabs and NULs.
func skipBlanks[S ~[]byte | ~string](b S, i int) int {
	for i < len(b) && isBlank(b[i]) {
		i++
	}
	return i
}

// parseTime parses a timestamp token (an optional '-' and digits) and scales
// it to nanoseconds.
func parseTime(tok []byte, prec int64) (int64, string) {
	t, err := parseInt(tok)
	if err != "" {
		return 0, err
	}
	if prec != 1 {
		r := t * prec
		if r/prec != t {
			return 0, errTimeOutOfRange
		}
		t = r
	}
	if t < minTime || t > maxTime {
		return 0, errTimeOutOfRange
	}
	return t, ""
}

// fieldKeyHash hashes a non-empty key to [0, filterBits) from a few of its
// bytes; field keys of one measurement tend to share prefixes, not shapes.
func fieldKeyHash(k []byte) uint32 {
	x := uint32(len(k)) | uint32(k[0])<<8 | uint32(k[len(k)/2])<<16 | uint32(k[len(k)-1])<<24
	return (x * 0x9E3779B1) >> (32 - 10)
}

// compareKeys orders tag keys like bytes.Compare; keys are never empty, and
// most differ in their first byte, which saves the call.
func compareKeys(a, b []byte) int {
	if a[0] != b[0] {
		if a[0] < b[0] {
			return -1
		}
		return 1
	}
	return bytes.Compare(a, b)
}

// sortTags sorts tags by key and reports false if two keys are equal. Clients
// mostly send tags sorted, so the common case is one comparison per tag.
func sortTags(tags []Tag) bool {
	i := 1
	for ; i < len(tags); i++ {
		c := compareKeys(tags[i-1].Key, tags[i].Key)
		if c == 0 {
			return false
		}
		if c > 0 {
			break
		}
	}
	if i == len(tags) {
		return true
	}
	if len(tags) > insertionSortLimit {
		slices.SortFunc(tags, func(a, b Tag) int { return compareKeys(a.Key, b.Key) })
	} else {
		for ; i < len(tags); i++ {
			t := tags[i]
			j := i
			for j > 0 && compareKeys(tags[j-1].Key, t.Key) > 0 {
				tags[j] = tags[j-1]
				j--
			}
			tags[j] = t
		}
	}
	for i := 1; i < len(tags); i++ {
		if bytes.Equal(tags[i-1].Key, tags[i].Key) {
			return false
		}
	}
	return true
}

// mergeDuplicateFields keeps, for a key repeated in one line, its last value
// at the position of its first occurrence (InfluxDB: last one wins).
func (p *Parser) mergeDuplicateFields(f []Field) []Field {
	// A 1024-bit filter over (length, first, middle and last byte) rules out
	// duplicates for nearly every real line: a key is compared with the
	// earlier ones only when its bit is already set.
	var seen [filterBits / 64]uint64
	dup := false
	for i := range f {
		h := fieldKeyHash(f[i].Key)
		if seen[h/64]&(1<<(h%64)) != 0 {
			if i > quadraticFieldLimit {
				// Past a few hundred keys the filter is saturated: scanning
				// the earlier keys on every hit would make a wide line
				// quadratic. The sort below finds the duplicates, if any.
				dup = true
				break
			}
			for j := range i {
				if bytes.Equal(f[j].Key, f[i].Key) {
					dup = true
					break
				}
			}
			if dup {
				break
			}
		}
		seen[h/64] |= 1 << (h % 64)
	}
	if !dup {
		return f
	}
	if len(f) <= quadraticFieldLimit {
		out := 0
		for i := range f {
			j := 0
			for j < out && !bytes.Equal(f[j].Key, f[i].Key) {
				j++
			}
			if j < out {
				key := f[j].Key
				f[j] = f[i]
				f[j].Key = key
				continue
			}
			f[out] = f[i]
			out++
		}
		return f[:out]
	}
	// Sort positions by (key, position); in each run of equal keys the first
	// position takes the last value and the others are dropped.
	order := p.order[:0]
	for i := range f {
		order = append(order, int32(i))
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := bytes.Compare(f[a].Key, f[b].Key); c != 0 {
			return c
		}
		return int(a - b)
	})
	for r := 0; r < len(order); {
		e := r + 1
		for e < len(order) && bytes.Equal(f[order[r]].Key, f[order[e]].Key) {
			e++
		}
		if e-r > 1 {
			first, last := order[r], order[e-1]
			key := f[first].Key
			f[first] = f[last]
			f[first].Key = key
			for _, d := range order[r+1 : e] {
				f[d].Key = nil // marks a dropped duplicate; real keys are never empty
			}
		}
		r = e
	}
	p.order = order
	out := 0
	for i := range f {
		if f[i].Key != nil {
			f[out] = f[i]
			out++
		}
	}
	return f[:out]
}
