package lineprotocol

import "strconv"

// unescapeIdent unescapes a measurement, tag key or tag value into the scratch
// buffer: a backslash before one of the bytes in escapes is dropped, any other
// backslash is kept. The result stays valid when scratch grows later (growing
// copies, it does not overwrite).
func (p *Parser) unescapeIdent(s []byte, escapes uint8) []byte {
	start := len(p.scratch)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && class[s[i+1]]&escapes != 0 {
			i++
			c = s[i]
		}
		p.scratch = append(p.scratch, c)
	}
	return p.scratch[start:len(p.scratch):len(p.scratch)]
}

// unescapeFieldKey unescapes a field key. The field section pairs a backslash
// with the byte after it (that is how it finds its delimiters), so a pair is
// either an escaped ',', ' ' or '=' or two literal bytes.
func (p *Parser) unescapeFieldKey(s []byte) []byte {
	start := len(p.scratch)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i++
			if class[s[i]]&tagEscapes == 0 {
				p.scratch = append(p.scratch, c)
			}
			c = s[i]
		}
		p.scratch = append(p.scratch, c)
	}
	return p.scratch[start:len(p.scratch):len(p.scratch)]
}

// unescapeString unescapes a string field value: `\"` and `\\` lose their
// backslash, any other backslash pair is kept as it is (`\t` stays two bytes).
func (p *Parser) unescapeString(s []byte) []byte {
	start := len(p.scratch)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i++
			if s[i] != '"' && s[i] != '\\' {
				p.scratch = append(p.scratch, c)
			}
			c = s[i]
		}
		p.scratch = append(p.scratch, c)
	}
	return p.scratch[start:len(p.scratch):len(p.scratch)]
}

// AppendPoint appends pt to dst as one line of line protocol, without a
// newline, with its timestamp in nanoseconds, and returns the extended slice.
// Parsing the result yields pt again (measurement, tags, fields, time). pt
// must be valid: a non-empty measurement, at least one field with a non-empty
// key, no NaN or infinite float, and names as the parser produces them (a
// measurement or tag cannot end in a lone backslash).
func AppendPoint(dst []byte, pt *Point) []byte {
	dst = appendIdent(dst, pt.Measurement, measEscapes)
	for _, t := range pt.Tags {
		dst = append(dst, ',')
		dst = appendIdent(dst, t.Key, tagEscapes)
		dst = append(dst, '=')
		dst = appendIdent(dst, t.Value, tagEscapes)
	}
	for i, f := range pt.Fields {
		if i == 0 {
			dst = append(dst, ' ')
		} else {
			dst = append(dst, ',')
		}
		dst = appendFieldKey(dst, f.Key)
		dst = append(dst, '=')
		switch f.Type {
		case Float:
			dst = strconv.AppendFloat(dst, f.Float, 'g', -1, 64)
		case Integer:
			dst = strconv.AppendInt(dst, f.Int, 10)
			dst = append(dst, 'i')
		case Unsigned:
			dst = strconv.AppendUint(dst, f.Uint, 10)
			dst = append(dst, 'u')
		case Boolean:
			dst = strconv.AppendBool(dst, f.Bool)
		case String:
			dst = append(dst, '"')
			for _, c := range f.Str {
				if c == '"' || c == '\\' {
					dst = append(dst, '\\')
				}
				dst = append(dst, c)
			}
			dst = append(dst, '"')
		}
	}
	dst = append(dst, ' ')
	return strconv.AppendInt(dst, pt.Time, 10)
}

// appendIdent escapes a measurement or tag: every byte in escapes gets a
// backslash; a literal backslash needs none, because the byte after it is
// then either ordinary or escaped itself.
func appendIdent(dst, s []byte, escapes uint8) []byte {
	for _, c := range s {
		if class[c]&escapes != 0 {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return dst
}

// appendFieldKey escapes a field key. A literal backslash in a parsed key is
// always followed by the byte it was paired with, so the pair is copied as is.
func appendFieldKey(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			dst = append(dst, c, s[i+1])
			i++
			continue
		}
		if class[c]&tagEscapes != 0 {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return dst
}
