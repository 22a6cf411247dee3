package influxql

import (
	"strings"
	"testing"
	"time"
)

func TestScanner_Scan(t *testing.T) {
	tests := []struct {
		s   string
		tok Token
		lit string
	}{
		{"", EOF, ""},
		{" \t\n", WS, " \t\n"},
		{"-- comment\n", WS, "-- comment"},
		{"/* block */", WS, "/* block */"},
		{"cpu", IDENT, "cpu"},
		{"_cpu_2", IDENT, "_cpu_2"},
		{`"my ident"`, IDENT, "my ident"},
		{`"a\"b\\c\nd"`, IDENT, "a\"b\\c\nd"},
		{`"unterminated`, BADSTRING, "unterminated"},
		{`"bad\q"`, BADESCAPE, `\q`},
		{"'str'", STRING, "str"},
		{`'it\'s'`, STRING, "it's"},
		{`''`, STRING, ""},
		{"'line\nbreak'", BADSTRING, "line\n"},
		{"$host", BOUNDPARAM, "host"},
		{`$"a b"`, BOUNDPARAM, "a b"},
		{"$", ILLEGAL, "$"},
		{"12", INTEGER, "12"},
		{"12.5", NUMBER, "12.5"},
		{".5", NUMBER, ".5"},
		{"1.", NUMBER, "1."},
		{"10m", DURATIONVAL, "10m"},
		{"1h30m", DURATIONVAL, "1h30m"},
		{"5µs", DURATIONVAL, "5µs"},
		{"1704067200000ms", DURATIONVAL, "1704067200000ms"},
		{"true", TRUE, "true"},
		{"FALSE", FALSE, "FALSE"},
		{"select", SELECT, "select"},
		{"SeLeCt", SELECT, "SeLeCt"},
		{"and", AND, "and"},
		{"+", ADD, ""}, {"-", SUB, ""}, {"*", MUL, ""}, {"/", DIV, ""}, {"%", MOD, ""},
		{"&", BITWISE_AND, ""}, {"|", BITWISE_OR, ""}, {"^", BITWISE_XOR, ""},
		{"=", EQ, ""}, {"!=", NEQ, ""}, {"<>", NEQ, ""}, {"=~", EQREGEX, ""}, {"!~", NEQREGEX, ""},
		{"<", LT, ""}, {"<=", LTE, ""}, {">", GT, ""}, {">=", GTE, ""},
		{"(", LPAREN, ""}, {")", RPAREN, ""}, {",", COMMA, ""}, {";", SEMICOLON, ""},
		{".", DOT, ""}, {":", COLON, ""}, {"::", DOUBLECOLON, ""},
		{"!", ILLEGAL, "!"},
		{"#", ILLEGAL, "#"},
		{"é", ILLEGAL, "é"},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			tok, pos, lit := NewScanner(tt.s).Scan()
			if tok != tt.tok || lit != tt.lit {
				t.Fatalf("Scan(%q) = %s %q, want %s %q", tt.s, tok, lit, tt.tok, tt.lit)
			}
			if pos != (Pos{}) {
				t.Fatalf("pos = %+v, want zero", pos)
			}
		})
	}
}

func TestScanner_Positions(t *testing.T) {
	s := NewScanner("SELECT\n  µ, x")
	var got []Pos
	for {
		tok, pos, _ := s.Scan()
		if tok == EOF {
			break
		}
		if tok != WS {
			got = append(got, pos)
		}
	}
	want := []Pos{{0, 0, 0}, {1, 2, 9}, {1, 3, 11}, {1, 5, 13}}
	if len(got) != len(want) {
		t.Fatalf("got %d tokens, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("token %d at %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestScanner_ScanRegex(t *testing.T) {
	tests := []struct {
		s   string
		tok Token
		lit string
	}{
		{`/cpu/`, REGEX, "cpu"},
		{`/a\/b/`, REGEX, "a/b"},
		{`/a\d+/`, REGEX, `a\d+`},
		{`/a\\/`, REGEX, `a\\`},
		{`/(?i)M/`, REGEX, "(?i)M"},
		{`/open`, BADREGEX, "/open"},
		{"/a\nb/", BADREGEX, "/a\n"},
	}
	for _, tt := range tests {
		tok, _, lit := NewScanner(tt.s).ScanRegex()
		if tok != tt.tok || lit != tt.lit {
			t.Errorf("ScanRegex(%q) = %s %q, want %s %q", tt.s, tok, lit, tt.tok, tt.lit)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		s    string
		want time.Duration
		err  bool
	}{
		{"1ns", 1, false},
		{"10u", 10 * time.Microsecond, false},
		{"10µ", 10 * time.Microsecond, false},
		{"5ms", 5 * time.Millisecond, false},
		{"3s", 3 * time.Second, false},
		{"2m", 2 * time.Minute, false},
		{"1h30m", 90 * time.Minute, false},
		{"1d", 24 * time.Hour, false},
		{"2w", 14 * 24 * time.Hour, false},
		{"0s", 0, false},
		{"", 0, true},
		{"h", 0, true},
		{"10", 0, true},
		{"10x", 0, true},
		{"1h30", 0, true},
		{"9223372036854775807ns", 9223372036854775807, false},
		{"9223372036854775808ns", 0, true},
		{"106752d", 0, true},
		{"106751d106751d", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.s)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, err=%v", tt.s, got, err, tt.want, tt.err)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{1, "1ns"},
		{1500 * time.Nanosecond, "1500ns"},
		{time.Microsecond, "1u"},
		{time.Millisecond, "1ms"},
		{90 * time.Minute, "90m"},
		{24 * time.Hour, "1d"},
		{14 * 24 * time.Hour, "2w"},
		{-10 * time.Minute, "-10m"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
		if tt.d >= 0 {
			back, err := ParseDuration(FormatDuration(tt.d))
			if err != nil || back != tt.d {
				t.Errorf("round trip of %v: %v, %v", tt.d, back, err)
			}
		}
	}
}

func TestLookupIdent(t *testing.T) {
	for kw, tok := range keywords {
		if len(kw) > maxKeywordLen {
			t.Fatalf("keyword %q longer than maxKeywordLen", kw)
		}
		for _, s := range []string{kw, strings.ToUpper(kw)} {
			if got := lookupIdent(s); got != tok {
				t.Errorf("lookupIdent(%q) = %s, want %s", s, got, tok)
			}
		}
	}
	for _, s := range []string{"cpu", "time", "fill", "tz", "now", "subscriptionsx", "Selects"} {
		if got := lookupIdent(s); got != IDENT {
			t.Errorf("lookupIdent(%q) = %s, want IDENT", s, got)
		}
	}
}
