package influxql

import (
	"strings"
	"unicode/utf8"
)

// Scanner splits a query into tokens. It is context-free except for regular
// expressions: a '/' is scanned as DIV, and the parser calls ScanRegex at that
// position when the grammar expects a regex there. Whitespace and comments
// come back as WS tokens because a few constructs (function calls, dotted
// names, casts) must not allow whitespace inside them.
type Scanner struct {
	src string
	pos Pos
	// eofPast: a word (keyword or identifier) ran into the end of the input.
	// InfluxDB 1.x's scanner consumes the end of input twice after a word and
	// so reports an EOF there one character further on ("CREATE USER jdoe" ->
	// "found EOF, expected WITH at line 1, char 18"); error positions match it.
	eofPast bool
}

// NewScanner returns a scanner over src.
func NewScanner(src string) *Scanner { return &Scanner{src: src} }

// seek moves the scanner back (or forward) to a position previously returned
// by Scan.
func (s *Scanner) seek(p Pos) { s.pos = p }

// peekRune returns the rune at the current offset without consuming it;
// eof is -1.
func (s *Scanner) peekRune() rune {
	if s.pos.Offset >= len(s.src) {
		return -1
	}
	c := s.src[s.pos.Offset]
	if c < utf8.RuneSelf {
		return rune(c)
	}
	r, _ := utf8.DecodeRuneInString(s.src[s.pos.Offset:])
	return r
}

// peekAt returns the byte n bytes ahead, or 0 past the end; used only to look
// for ASCII follow-up characters.
func (s *Scanner) peekAt(n int) byte {
	if s.pos.Offset+n >= len(s.src) {
		return 0
	}
	return s.src[s.pos.Offset+n]
}

// next consumes one rune and keeps line/char bookkeeping.
func (s *Scanner) next() rune {
	if s.pos.Offset >= len(s.src) {
		return -1
	}
	r, size := rune(s.src[s.pos.Offset]), 1
	if r >= utf8.RuneSelf {
		r, size = utf8.DecodeRuneInString(s.src[s.pos.Offset:])
	}
	s.pos.Offset += size
	if r == '\n' {
		s.pos.Line++
		s.pos.Char = 0
	} else {
		s.pos.Char++
	}
	return r
}

// Scan returns the next token, its starting position and its literal text.
// For STRING and quoted IDENT tokens the literal is the unescaped value; for
// BOUNDPARAM it is the parameter name without '$'.
func (s *Scanner) Scan() (tok Token, pos Pos, lit string) {
	pos = s.pos
	ch := s.peekRune()
	switch {
	case ch == -1:
		if s.eofPast {
			pos.Char++
		}
		return EOF, pos, ""
	case isWhitespace(ch):
		return s.scanWhitespace()
	case isLetter(ch) || ch == '_':
		return s.scanIdent()
	case isDigit(ch):
		return s.scanNumber()
	}
	switch ch {
	case '"':
		s.next()
		tok, lit = s.scanQuoted('"')
		if tok == STRING {
			tok = IDENT
		}
		return tok, pos, lit
	case '\'':
		s.next()
		tok, lit = s.scanQuoted('\'')
		return tok, pos, lit
	case '.':
		if isDigit(rune(s.peekAt(1))) {
			return s.scanNumber()
		}
		s.next()
		return DOT, pos, ""
	case '$':
		s.next()
		if s.peekRune() == '"' {
			s.next()
			tok, lit = s.scanQuoted('"')
			if tok != STRING {
				return tok, pos, lit
			}
			return BOUNDPARAM, pos, lit
		}
		start := s.pos.Offset
		for isIdentChar(s.peekRune()) {
			s.next()
		}
		if s.pos.Offset == start {
			return ILLEGAL, pos, "$"
		}
		return BOUNDPARAM, pos, s.src[start:s.pos.Offset]
	case '-':
		if s.peekAt(1) == '-' {
			return s.scanLineComment()
		}
		s.next()
		return SUB, pos, ""
	case '/':
		if s.peekAt(1) == '*' {
			return s.scanBlockComment()
		}
		s.next()
		return DIV, pos, ""
	}
	s.next()
	switch ch {
	case '+':
		return ADD, pos, ""
	case '*':
		return MUL, pos, ""
	case '%':
		return MOD, pos, ""
	case '&':
		return BITWISE_AND, pos, ""
	case '|':
		return BITWISE_OR, pos, ""
	case '^':
		return BITWISE_XOR, pos, ""
	case '=':
		if s.peekRune() == '~' {
			s.next()
			return EQREGEX, pos, ""
		}
		return EQ, pos, ""
	case '!':
		switch s.peekRune() {
		case '=':
			s.next()
			return NEQ, pos, ""
		case '~':
			s.next()
			return NEQREGEX, pos, ""
		}
	case '<':
		switch s.peekRune() {
		case '=':
			s.next()
			return LTE, pos, ""
		case '>':
			s.next()
			return NEQ, pos, ""
		}
		return LT, pos, ""
	case '>':
		if s.peekRune() == '=' {
			s.next()
			return GTE, pos, ""
		}
		return GT, pos, ""
	case '(':
		return LPAREN, pos, ""
	case ')':
		return RPAREN, pos, ""
	case ',':
		return COMMA, pos, ""
	case ';':
		return SEMICOLON, pos, ""
	case ':':
		if s.peekRune() == ':' {
			s.next()
			return DOUBLECOLON, pos, ""
		}
		return COLON, pos, ""
	}
	return ILLEGAL, pos, string(ch)
}

func (s *Scanner) scanWhitespace() (Token, Pos, string) {
	pos := s.pos
	for isWhitespace(s.peekRune()) {
		s.next()
	}
	return WS, pos, s.src[pos.Offset:s.pos.Offset]
}

// scanLineComment consumes "-- ..." up to the end of the line; comments are
// whitespace to the parser.
func (s *Scanner) scanLineComment() (Token, Pos, string) {
	pos := s.pos
	for ch := s.peekRune(); ch != -1 && ch != '\n'; ch = s.peekRune() {
		s.next()
	}
	return WS, pos, s.src[pos.Offset:s.pos.Offset]
}

// scanBlockComment consumes "/* ... */"; an unterminated comment runs to EOF.
func (s *Scanner) scanBlockComment() (Token, Pos, string) {
	pos := s.pos
	s.next()
	s.next()
	for {
		ch := s.next()
		if ch == -1 {
			break
		}
		if ch == '*' && s.peekRune() == '/' {
			s.next()
			break
		}
	}
	return WS, pos, s.src[pos.Offset:s.pos.Offset]
}

func (s *Scanner) scanIdent() (Token, Pos, string) {
	pos := s.pos
	for isIdentChar(s.peekRune()) {
		s.next()
	}
	lit := s.src[pos.Offset:s.pos.Offset]
	s.eofPast = s.pos.Offset >= len(s.src)
	if tok := lookupIdent(lit); tok != IDENT {
		return tok, pos, lit
	}
	return IDENT, pos, lit
}

// scanNumber scans an integer, a decimal number or a duration. A run of digits
// directly followed by a letter (or µ) is a duration; everything alphanumeric
// after that belongs to it too, so "1h30m" is one token and "10x" is an
// invalid duration instead of a number followed by an identifier.
func (s *Scanner) scanNumber() (Token, Pos, string) {
	pos := s.pos
	for isDigit(s.peekRune()) {
		s.next()
	}
	if s.peekRune() == '.' {
		s.next()
		for isDigit(s.peekRune()) {
			s.next()
		}
		return NUMBER, pos, s.src[pos.Offset:s.pos.Offset]
	}
	if ch := s.peekRune(); isLetter(ch) || ch == 'µ' {
		for ch := s.peekRune(); isLetter(ch) || ch == 'µ' || isDigit(ch); ch = s.peekRune() {
			s.next()
		}
		return DURATIONVAL, pos, s.src[pos.Offset:s.pos.Offset]
	}
	return INTEGER, pos, s.src[pos.Offset:s.pos.Offset]
}

// scanQuoted scans the rest of a quoted string or identifier whose opening
// quote has been consumed. Escapes: \n, \\, \' and \". A newline or EOF before
// the closing quote makes a BADSTRING; any other escape a BADESCAPE.
func (s *Scanner) scanQuoted(quote rune) (Token, string) {
	var b strings.Builder
	start := s.pos.Offset
	plain := true // no escapes seen yet: the literal can be sliced from src
	for {
		ch := s.next()
		switch ch {
		case quote:
			if plain {
				return STRING, s.src[start : s.pos.Offset-1]
			}
			return STRING, b.String()
		case -1, '\n':
			return BADSTRING, s.src[start:s.pos.Offset]
		case '\\':
			if plain {
				b.WriteString(s.src[start : s.pos.Offset-1])
				plain = false
			}
			switch esc := s.next(); esc {
			case 'n':
				b.WriteByte('\n')
			case '\\':
				b.WriteByte('\\')
			case '\'', '"':
				b.WriteRune(esc)
			case -1:
				return BADSTRING, s.src[start:s.pos.Offset]
			default:
				return BADESCAPE, `\` + string(esc)
			}
		default:
			if !plain {
				b.WriteRune(ch)
			}
		}
	}
}

// ScanRegex scans a /regex/ starting at the current position, which must be
// the opening '/'. Inside, `\/` stands for '/', every other backslash pair is
// kept verbatim for the regexp engine. A newline or EOF before the closing
// slash makes a BADREGEX.
func (s *Scanner) ScanRegex() (tok Token, pos Pos, lit string) {
	pos = s.pos
	if s.next() != '/' {
		return ILLEGAL, pos, ""
	}
	var b strings.Builder
	for {
		ch := s.next()
		switch ch {
		case '/':
			return REGEX, pos, b.String()
		case -1, '\n':
			return BADREGEX, pos, s.src[pos.Offset:s.pos.Offset]
		case '\\':
			esc := s.next()
			switch esc {
			case '/':
				b.WriteByte('/')
			case -1, '\n':
				return BADREGEX, pos, s.src[pos.Offset:s.pos.Offset]
			default:
				b.WriteByte('\\')
				b.WriteRune(esc)
			}
		default:
			b.WriteRune(ch)
		}
	}
}

func isWhitespace(ch rune) bool { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' }

func isLetter(ch rune) bool { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') }

func isDigit(ch rune) bool { return ch >= '0' && ch <= '9' }

func isIdentChar(ch rune) bool { return isLetter(ch) || isDigit(ch) || ch == '_' }
