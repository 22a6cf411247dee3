package lineprotocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// dump spells out a point unambiguously: every name and string quoted, every
// field with its type.
func dump(pt *Point) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%q", pt.Measurement)
	for _, t := range pt.Tags {
		fmt.Fprintf(&sb, " %q=%q", t.Key, t.Value)
	}
	for _, f := range pt.Fields {
		fmt.Fprintf(&sb, " %q:%s=", f.Key, f.Type)
		switch f.Type {
		case Float:
			sb.WriteString(strconv.FormatFloat(f.Float, 'g', -1, 64))
		case Integer:
			sb.WriteString(strconv.FormatInt(f.Int, 10))
		case Unsigned:
			sb.WriteString(strconv.FormatUint(f.Uint, 10))
		case Boolean:
			sb.WriteString(strconv.FormatBool(f.Bool))
		case String:
			fmt.Fprintf(&sb, "%q", f.Str)
		}
	}
	fmt.Fprintf(&sb, " @%d", pt.Time)
	return sb.String()
}

// dumpAll returns dump(pt) per point and "line:col reason" per error.
func dumpAll(t *testing.T, body string, prec Precision, now int64) []string {
	t.Helper()
	p := NewParser()
	p.Reset([]byte(body), prec, now)
	var out []string
	for {
		pt, err := p.Next()
		if err == io.EOF {
			return out
		}
		var pe *ParseError
		if errors.As(err, &pe) {
			out = append(out, fmt.Sprintf("%d:%d %s", pe.Line, pe.Column, pe.Reason))
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, dump(pt))
	}
}

func TestParse_Grammar(t *testing.T) {
	const now = 555
	for _, tc := range []struct {
		name string
		line string
		want string // dump of the point, or "line:col reason"
	}{
		// Measurement and tags.
		{"minimal", "m v=1 1", `"m" "v":float=1 @1`},
		{"tags sorted", "m,b=2,a=1 v=1 1", `"m" "a"="1" "b"="2" "v":float=1 @1`},
		{"tags reversed", "m,d=4,c=3,b=2,a=1 v=1 1", `"m" "a"="1" "b"="2" "c"="3" "d"="4" "v":float=1 @1`},
		{"measurement escapes", `m\,x\ y v=1 1`, `"m,x y" "v":float=1 @1`},
		{"measurement keeps other backslashes", `m\=x\ty\\z v=1 1`, `"m\\=x\\ty\\\\z" "v":float=1 @1`},
		{"equals in measurement", "eq=sign v=1 1", `"eq=sign" "v":float=1 @1`},
		{"quotes in identifiers", `"q",t="v" "f"=1 1`, `"\"q\"" "t"="\"v\"" "\"f\"":float=1 @1`},
		{"tag escapes", `m,t\,k\ 1\=2=v\,a\ b\=c v=1 1`, `"m" "t,k 1=2"="v,a b=c" "v":float=1 @1`},
		{"tag keeps other backslashes", `m,t=a\b v=1 1`, `"m" "t"="a\\b" "v":float=1 @1`},
		{"backslash run escapes the delimiter", `m,t=a\\,u=b v=1 1`, `1:10 invalid tag format`},
		{"tag value starting with equals", "m,t==x v=1 1", `"m" "t"="=x" "v":float=1 @1`},
		{"utf8", "ü,tà=è v=\"ü\" 1", `"ü" "tà"="è" "v":string="ü" @1`},
		{"missing measurement", ",m v=1 1", `1:1 missing measurement`},
		{"measurement only", "m", `1:2 missing fields`},
		{"measurement then space", "m ", `1:3 invalid field format`},
		{"tags only", "m,t=a", `1:6 missing fields`},
		{"timestamp only", "m 1", `1:4 invalid field format`},
		{"empty tag key", "m,=a v=1 1", `1:3 missing tag key`},
		{"trailing tag comma", "m,t=a, v=1 1", `1:7 missing tag key`},
		{"tag comma at end", "m,t=a,", `1:7 missing tag key`},
		{"tag without value", "m,t v=1 1", `1:4 missing tag value`},
		{"tag without equals at end", "m,t", `1:4 missing tag value`},
		{"empty tag value", "m,t= v=1 1", `1:5 missing tag value`},
		{"empty tag value before comma", "m,t=,u=1 v=1 1", `1:5 missing tag value`},
		{"unescaped equals in tag value", "m,t=a=b v=1 1", `1:6 invalid tag format`},
		{"tag value ends in backslash", `m,t=a\ v=1 1`, `1:9 invalid tag format`},
		{"tag value ends in backslash at end", `m,t=a\`, `1:7 missing fields`},
		{"duplicate tags adjacent", "m,t=a,t=b v=1 1", `1:10 duplicate tags`},
		{"duplicate tags apart", "m,t=a,s=1,t=b v=1 1", `1:14 duplicate tags`},
		{"duplicate tags by escape", `m,a\ b=1,a\ b=2 v=1 1`, `1:16 duplicate tags`},
		{"quoted tag value with space", `m,t="a b" v=1 1`, `1:10 invalid field format`},
		{"tag key time is not ours to reject", "m,time=x v=1 1", `"m" "time"="x" "v":float=1 @1`},

		// Field keys and structure.
		{"field key escapes", `m f\,g\ h\=i=1 1`, `"m" "f,g h=i":float=1 @1`},
		{"field key keeps other backslashes", `m f\x\\=1 1`, `"m" "f\\x\\\\":float=1 @1`},
		{"empty field key", "m =1 1", `1:3 missing field key`},
		{"empty field key after comma", "m v=1,=2 1", `1:7 missing field key`},
		{"empty field key after tab", "m \t=1 1", `1:4 missing field key`},
		{"missing field value at end", "m v=", `1:4 missing field value`},
		{"missing field value before comma", "m v=,w=1 1", `1:4 missing field value`},
		{"missing field value before space", "m v= 1", `1:4 missing field value`},
		{"field without value", "m v=1,w 1", `1:8 invalid field format`},
		{"trailing field comma", "m v=1, 1", `1:7 invalid field format`},
		{"key with comma run", "m a,b=1 1", `1:8 invalid field format`},
		{"junk after string", `m v="x"y 1`, `1:8 invalid field format`},
		{"equals after string", `m a="x"=1 1`, `1:10 invalid field format`},
		{"comma in key balanced by equals after string", `m a,b="x"=1 1`, `1:4 invalid field format`},
		{"duplicate field keeps last at first position", "m v=1,w=2,v=\"s\" 1", `"m" "v":string="s" "w":float=2 @1`},
		{"duplicate field three times", "m a=1,b=2,a=3,c=4,a=5i 1", `"m" "a":integer=5 "b":float=2 "c":float=4 @1`},
		{"field key time is not ours to reject", "m time=1 1", `"m" "time":float=1 @1`},
		{"tab before fields", "m \tv=1 1", `"m" "v":float=1 @1`},

		// Strings.
		{"string escapes", `s v="a\"b\\c\d" 1`, `"s" "v":string="a\"b\\c\\d" @1`},
		{"string keeps backslash t", `s v="tab\tnot" 1`, `"s" "v":string="tab\\tnot" @1`},
		{"empty string", `s v="" 1`, `"s" "v":string="" @1`},
		{"string with delimiters", `s v="a, b = c",w=1 1`, `"s" "v":string="a, b = c" "w":float=1 @1`},
		{"string with newline", "s v=\"l1\nl2\" 1", `"s" "v":string="l1\nl2" @1`},
		{"string ending in escaped backslash", `s v="a\\" 1`, `"s" "v":string="a\\" @1`},
		{"unbalanced quotes", `s v="abc 1`, `1:5 unbalanced quotes`},
		{"unbalanced escaped quote", `s v="abc\" 1`, `1:5 unbalanced quotes`},
		{"single quotes", `s v='x' 1`, `1:5 invalid boolean`},

		// Integers and unsigned.
		{"integers", "i a=1i,b=-1i,c=9223372036854775807i,d=-9223372036854775808i,e=01i 1",
			`"i" "a":integer=1 "b":integer=-1 "c":integer=9223372036854775807 "d":integer=-9223372036854775808 "e":integer=1 @1`},
		{"integer overflow", "i a=9223372036854775808i 1",
			`1:25 unable to parse integer 9223372036854775808: strconv.ParseInt: parsing "9223372036854775808": value out of range`},
		{"integer underflow", "i a=-9223372036854775809i 1",
			`1:26 unable to parse integer -9223372036854775809: strconv.ParseInt: parsing "-9223372036854775809": value out of range`},
		{"integer plus", "i a=+1i 1", `1:5 invalid boolean`},
		{"integer with dot", "i a=1.0i 1", `1:9 invalid number`},
		{"integer with exponent", "i a=1e3i 1", `1:9 invalid number`},
		{"integer minus only", "i a=-i 1", `1:7 invalid number`},
		{"integer suffix inside", "i a=1i2 1", `1:8 invalid number`},
		{"integer double suffix", "i a=1ii 1", `1:7 invalid number`},
		{"unsigned", "u a=1u,b=0u,c=18446744073709551615u 1", `"u" "a":unsigned=1 "b":unsigned=0 "c":unsigned=18446744073709551615 @1`},
		{"unsigned overflow", "u a=18446744073709551616u 1",
			`1:26 unable to parse unsigned 18446744073709551616: strconv.ParseUint: parsing "18446744073709551616": value out of range`},
		{"unsigned negative", "u a=-1u 1", `1:8 invalid number`},
		{"unsigned with dot", "u a=1.5u 1", `1:9 invalid number`},
		{"unsigned then integer suffix", "u a=1ui 1", `1:7 invalid number`},

		// Booleans.
		{"booleans", "b a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE 1",
			`"b" "a":boolean=true "b":boolean=true "c":boolean=true "d":boolean=true "e":boolean=true "f":boolean=false "g":boolean=false "h":boolean=false "i":boolean=false "j":boolean=false @1`},
		{"boolean mixed case", "b v=tRUE 1", `1:5 invalid boolean`},
		{"boolean yes", "b v=yes 1", `1:5 invalid boolean`},
		{"boolean too long", "b v=truee 1", `1:5 invalid boolean`},

		// Floats.
		{"floats", "f a=1e3,b=-0.5,c=.5,d=1.,e=1E-2,f=-1e+2,g=-.5,h=01,i=-0,j=123456789012345678901234567890 1",
			`"f" "a":float=1000 "b":float=-0.5 "c":float=0.5 "d":float=1 "e":float=0.01 "f":float=-100 "g":float=-0.5 "h":float=1 "i":float=-0 "j":float=1.2345678901234568e+29 @1`},
		{"float tiny", "f a=0.1,c=0.000000000000000000001 1", `"f" "a":float=0.1 "c":float=1e-21 @1`},
		{"float plus", "f a=+1 1", `1:5 invalid boolean`},
		{"NaN", "f a=NaN 1", `1:5 invalid number`},
		{"nan", "f a=nan 1", `1:5 invalid number`},
		{"Inf", "f a=Inf 1", `1:5 invalid boolean`},
		{"minus Inf", "f a=-Inf 1", `1:6 invalid number`},
		{"exponent without digits", "f a=1e 1", `1:7 invalid float`},
		{"exponent out of range", "f a=1.5e400 1", `1:12 invalid float`},
		{"mantissa out of range", "f a=1" + strings.Repeat("0", 400) + " 1", `1:406 invalid float`},
		{"hex", "f a=0x10 1", `1:6 invalid number`},
		{"underscore", "f a=1_000 1", `1:6 invalid number`},
		{"two dots", "f a=1.2.3 1", `1:8 invalid number`},
		{"dot only", "f a=. 1", `1:6 invalid number`},
		{"minus only", "f a=- 1", `1:6 invalid number`},
		{"minus at end", "f a=-", `1:6 invalid number`},
		{"minus inside", "f a=1-2 1", `1:6 invalid number`},
		{"quote after number", `f a=1" 1`, `1:6 invalid number`},
		{"float with tab separator", "f a=1\t1", `1:6 invalid number`},

		// Timestamps and whitespace.
		{"no timestamp", "m v=1", `"m" "v":float=1 @555`},
		{"negative timestamp", "m v=1 -1000000000", `"m" "v":float=1 @-1000000000`},
		{"max timestamp", "m v=1 9223372036854775806", `"m" "v":float=1 @9223372036854775806`},
		{"min timestamp", "m v=1 -9223372036854775806", `"m" "v":float=1 @-9223372036854775806`},
		{"max int64 timestamp", "m v=1 9223372036854775807", `1:7 time outside range -9223372036854775806 - 9223372036854775806`},
		{"min int64 timestamp", "m v=1 -9223372036854775808", `1:7 time outside range -9223372036854775806 - 9223372036854775806`},
		{"20 digit timestamp", "m v=1 99999999999999999999", `1:7 strconv.ParseInt: parsing "99999999999999999999": value out of range`},
		{"minus timestamp", "m v=1 -", `1:7 strconv.ParseInt: parsing "-": invalid syntax`},
		{"double minus timestamp", "m v=1 --1", `1:8 bad timestamp`},
		{"float timestamp", "m v=1 1.5", `1:8 bad timestamp`},
		{"plus timestamp", "m v=1 +5", `1:7 bad timestamp`},
		{"rfc3339 timestamp", "m v=1 2024-01-01T00:00:00Z", `1:11 bad timestamp`},
		{"extra token", "m v=1 22 extra", `1:10 point is invalid`},
		{"tab after timestamp", "m v=1 22\t", `1:9 bad timestamp`},
		{"tab before timestamp", "m v=1 \t22", `"m" "v":float=1 @22`},
		{"leading blanks", " \t m v=1 1", `"m" "v":float=1 @1`},
		{"double spaces", "m,t=a  v=1  1  ", `"m" "t"="a" "v":float=1 @1`},
		{"trailing spaces without timestamp", "m v=1   ", `"m" "v":float=1 @555`},
		{"carriage return inside", "m v=1\r 1", `1:6 invalid number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := dumpAll(t, tc.line, Nanosecond, now)
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("%q:\n got %q\nwant %q", tc.line, got, tc.want)
			}
		})
	}
}

func TestParse_Bodies(t *testing.T) {
	const now = 7
	for _, tc := range []struct {
		name string
		body string
		want []string
	}{
		{"empty", "", nil},
		{"newlines only", "\n\n\n", nil},
		{"blank and comment lines", "# c\n\n \t \n  # m v=1 1\n", nil},
		{"line numbers skip blanks and comments", "# c\n\nm v=1 1\n\nbad\n#x\nm v=2 2",
			[]string{`"m" "v":float=1 @1`, "5:4 missing fields", `"m" "v":float=2 @2`}},
		{"multi-line string advances line numbers", "a v=\"1\n2\n3\" 1\nbad\nb v=1 1",
			[]string{`"a" "v":string="1\n2\n3" @1`, "4:4 missing fields", `"b" "v":float=1 @1`}},
		{"error after multi-line string", "a v=\"1\n2\",w= 1\nb v=1 1",
			[]string{"1:12 missing field value", `"b" "v":float=1 @1`}},
		{"unbalanced quote swallows the rest", "a v=\"x 1\nb v=1 1\nc v=1 1",
			[]string{"1:5 unbalanced quotes"}},
		{"crlf", "a v=1 1\r\nb v=2\r\n\r\nc v=3 3\r",
			[]string{`"a" "v":float=1 @1`, `"b" "v":float=2 @7`, `"c" "v":float=3 @3`}},
		{"crlf inside string is content", "a v=\"x\r\ny\" 1\r\n",
			[]string{`"a" "v":string="x\r\ny" @1`}},
		{"backslash does not hide a line end", "a v=1 1\\\nb v=2 2",
			[]string{"1:8 bad timestamp", `"b" "v":float=2 @2`}},
		{"backslash before newline in measurement", "a\\\nb v=2 2",
			[]string{"1:3 missing fields", `"b" "v":float=2 @2`}},
		{"comment with quote ends at newline", "# a=\"x\nb v=2 2",
			[]string{`"b" "v":float=2 @2`}},
		{"quoted newline after fields", "a v=1 \"x\ny\" 1\nb v=1 1",
			[]string{"1:7 bad timestamp", `"b" "v":float=1 @1`}},
		{"escaped quote and newlines in string", "a v=\"x\\\"\ny\\\n\\\\\nz\" 1\nbad",
			[]string{`"a" "v":string="x\"\ny\\\n\\\nz" @1`, "5:4 missing fields"}},
		{"no final newline", "a v=1 1\nb v=2 2", []string{`"a" "v":float=1 @1`, `"b" "v":float=2 @2`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := dumpAll(t, tc.body, Nanosecond, now)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%q:\n got %q\nwant %q", tc.body, got, tc.want)
			}
		})
	}
}

// TestParse_LongStringsLinear parses strings of a few MB full of backslashes
// and newlines; a quadratic scan would take minutes.
func TestParse_LongStringsLinear(t *testing.T) {
	for _, body := range []string{
		"m v=\"" + strings.Repeat("\\\\x\n", 1<<19) + "\" 1\nm v=1 1",
		"m v=\"" + strings.Repeat("\\\"x\n", 1<<19) + " 1\nm v=1 1",
		"m v=1 \"" + strings.Repeat("\\\\x\n", 1<<19) + "\nm v=1 1",
	} {
		got := dumpAll(t, body, Nanosecond, 0)
		if len(got) == 0 || len(got) > 2 {
			t.Fatalf("got %d results", len(got))
		}
	}
}

func TestParseError_Text(t *testing.T) {
	for _, tc := range []struct {
		name, body, text, msg string
		line, col             int
	}{
		{"leading blanks are kept in Text, not in the message", "m v=1 1\n  \tbad", "  \tbad",
			"unable to parse 'bad': missing fields", 2, 7},
		{"carriage return is not part of the line", "bad\r\n", "bad",
			"unable to parse 'bad': missing fields", 1, 4},
		{"multi-line text", "x v=\"a\nb\" 1 2", "x v=\"a\nb\" 1 2",
			"unable to parse 'x v=\"a\nb\" 1 2': point is invalid", 1, 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewParser()
			p.Reset([]byte(tc.body), Nanosecond, 0)
			for {
				_, err := p.Next()
				if err == io.EOF {
					t.Fatal("no error")
				}
				var pe *ParseError
				if !errors.As(err, &pe) {
					continue
				}
				if pe.Text != tc.text || pe.Error() != tc.msg || pe.Line != tc.line || pe.Column != tc.col {
					t.Errorf("got %+v %q, want text %q msg %q line %d col %d", *pe, pe.Error(), tc.text, tc.msg, tc.line, tc.col)
				}
				return
			}
		})
	}
}

func TestParse_Precision(t *testing.T) {
	const now = 1_700_000_123_456_789_123
	for _, tc := range []struct {
		name    string
		prec    Precision
		ts      string
		want    string
		wantNow int64 // time of a line without timestamp
	}{
		{"ns", Nanosecond, "2", "2", now},
		{"us", Microsecond, "2", "2000", 1_700_000_123_456_789_000},
		{"ms", Millisecond, "2", "2000000", 1_700_000_123_456_000_000},
		{"s", Second, "2", "2000000000", 1_700_000_123_000_000_000},
		{"m", Minute, "2", "120000000000", 1_700_000_100_000_000_000},
		{"h", Hour, "2", "7200000000000", 1_699_999_200_000_000_000},
		{"negative s", Second, "-2", "-2000000000", 1_700_000_123_000_000_000},
		{"h overflow", Hour, "1704067200", "time outside range -9223372036854775806 - 9223372036854775806", 0},
		{"s overflow", Second, "9223372037", "time outside range -9223372036854775806 - 9223372036854775806", 0},
		{"s largest", Second, "9223372036", "9223372036000000000", 0},
		{"ms negative overflow", Millisecond, "-9223372036855", "time outside range -9223372036854775806 - 9223372036854775806", 0},
		{"zero precision is ns", 0, "2", "2", now},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewParser()
			p.Reset([]byte("m v=1 "+tc.ts+"\nm v=1\n"), tc.prec, now)
			pt, err := p.Next()
			var got string
			if err != nil {
				got = err.(*ParseError).Reason
			} else {
				got = strconv.FormatInt(pt.Time, 10)
			}
			if got != tc.want {
				t.Errorf("time %s at %d: got %s, want %s", tc.ts, tc.prec, got, tc.want)
			}
			if tc.wantNow == 0 {
				return
			}
			pt, err = p.Next()
			if err != nil || pt.Time != tc.wantNow {
				t.Errorf("line without timestamp: got %v %v, want %d", pt, err, tc.wantNow)
			}
		})
	}
}

func TestReset_TruncatesNegativeNow(t *testing.T) {
	p := NewParser()
	p.Reset([]byte("m v=1"), Second, -1)
	pt, err := p.Next()
	if err != nil || pt.Time != -1e9 {
		t.Fatalf("got %v %v, want time -1e9", pt, err)
	}
}

func TestPoint_KeyLenAndRaw(t *testing.T) {
	for _, tc := range []struct {
		line   string
		keyLen int
	}{
		{"m v=1", len("m")},
		{"cpu,host=a,region=b v=1", len("cpu,host=a,region=b")},
		{"cpu,region=b,host=a v=1", len("cpu,host=a,region=b")},
		{`m\,x\ y,t\,k=v\=1 v=1`, len(`m\,x\ y,t\,k=v\=1`)},
		{`m,t=a\b v=1`, len(`m,t=a\b`)},
		{"m,t==x v=1", len(`m,t=\=x`)},
		{"  m,t=a  v=1 1 ", len("m,t=a")},
	} {
		p := NewParser()
		p.Reset([]byte(tc.line+"\r\n"), Nanosecond, 0)
		pt, err := p.Next()
		if err != nil {
			t.Fatalf("%q: %v", tc.line, err)
		}
		if pt.KeyLen != tc.keyLen {
			t.Errorf("%q: KeyLen %d, want %d", tc.line, pt.KeyLen, tc.keyLen)
		}
		if string(pt.Raw) != tc.line || pt.Line != 1 {
			t.Errorf("%q: Raw %q line %d", tc.line, pt.Raw, pt.Line)
		}
	}
}

func TestParse_ManyTagsAndFields(t *testing.T) {
	// Past the insertion sort and quadratic merge limits.
	var sb strings.Builder
	sb.WriteString("m")
	for i := 99; i >= 0; i-- {
		fmt.Fprintf(&sb, ",t%03d=%d", i, i)
	}
	sb.WriteString(" ")
	for i := range 100 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "f%03d=%di", i%40, i)
	}
	p := NewParser()
	p.Reset([]byte(sb.String()), Nanosecond, 0)
	pt, err := p.Next()
	if err != nil {
		t.Fatal(err)
	}
	if len(pt.Tags) != 100 || !slices.IsSortedFunc(pt.Tags, func(a, b Tag) int { return strings.Compare(string(a.Key), string(b.Key)) }) {
		t.Fatalf("tags not sorted: %d", len(pt.Tags))
	}
	if len(pt.Fields) != 40 {
		t.Fatalf("%d fields, want 40", len(pt.Fields))
	}
	for i, f := range pt.Fields {
		last := i + 80 // keys f000..f019 occur at i, i+40 and i+80; the last wins
		if i >= 20 {
			last = i + 40
		}
		if want := fmt.Sprintf("f%03d", i); string(f.Key) != want || f.Int != int64(last) {
			t.Errorf("field %d: %s=%d, want %s=%d", i, f.Key, f.Int, want, last)
		}
	}
	p.Reset([]byte(strings.Replace(sb.String(), "t050=50", "t049=50", 1)), Nanosecond, 0)
	if _, err := p.Next(); err == nil || err.(*ParseError).Reason != errDuplicateTags {
		t.Fatalf("got %v, want duplicate tags", err)
	}
}

// TestAppendPoint_RoundTrip checks that escaping and unescaping are inverse
// for names full of the characters that need escaping.
func TestAppendPoint_RoundTrip(t *testing.T) {
	names := []string{"a", "a b", "a,b", "a=b", `a\b`, `a\`, `\`, `\,`, `\ `, `\=`, `a\\,b`, `"q"`, "é", "a\tb", `,`, ` `, `=`}
	p := NewParser()
	for _, name := range names {
		for _, val := range []string{"x", `a"b`, `a\b`, `\`, `\"`, "l1\nl2", ""} {
			// In a field key the parser pairs a backslash with the next
			// byte, so it never yields a backslash before ',', ' ' or '='.
			fkey := name
			if strings.Contains(name, `\,`) || strings.Contains(name, `\ `) || strings.Contains(name, `\=`) {
				fkey = "k" + strings.ReplaceAll(name, `\`, "")
			}
			pt := &Point{
				Measurement: []byte(name),
				Tags:        []Tag{{Key: []byte(name), Value: []byte(name)}},
				Fields: []Field{{Key: []byte(fkey), Type: String, Str: []byte(val)},
					{Key: []byte("f" + fkey), Type: Float, Float: -1.5e-300}},
				Time: -42,
			}
			if strings.HasSuffix(name, `\`) {
				// The parser never produces an identifier ending in a lone
				// backslash, so AppendPoint need not encode one.
				continue
			}
			line := AppendPoint(nil, pt)
			p.Reset(line, Nanosecond, 0)
			got, err := p.Next()
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			if dump(got) != dump(pt) {
				t.Errorf("%q:\n got %s\nwant %s", line, dump(got), dump(pt))
			}
		}
	}
}

func TestFieldType_String(t *testing.T) {
	for typ, want := range map[FieldType]string{Float: "float", Integer: "integer", Unsigned: "unsigned",
		String: "string", Boolean: "boolean", 0: "FieldType(0)"} {
		if got := typ.String(); got != want {
			t.Errorf("%d: %q, want %q", typ, got, want)
		}
	}
}

func TestParse_FloatFastPathMatchesStrconv(t *testing.T) {
	for _, s := range []string{"0", "-0", "1", "0.1", "0.3", "123.456", "-999999999999999", "99999999999999.9",
		"0.000000000000001", "1.7976931348623157", "4.35", "2.675", "1.15", "0.000001", "1234567.891011"} {
		var f Field
		end, reason := parseNumber([]byte(s), 0, &f)
		want, _ := strconv.ParseFloat(s, 64)
		if reason != "" || end != len(s) || math.Float64bits(f.Float) != math.Float64bits(want) {
			t.Errorf("%s: got %v (%s), want %v", s, f.Float, reason, want)
		}
	}
}

// TestParse_ZeroAllocs holds the parser to its promise: after warm-up a
// line costs no allocation, escapes and all.
func TestParse_ZeroAllocs(t *testing.T) {
	body := []byte(benchEscapedBody(200))
	p := NewParser()
	run := func() {
		p.Reset(body, Nanosecond, 0)
		for {
			_, err := p.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	run()
	if a := testing.AllocsPerRun(10, run); a != 0 {
		t.Fatalf("%v allocations per body, want 0", a)
	}
}

// TestWideLineLinear: with thousands of field keys the duplicate filter is
// saturated; merging must still be exact and must not compare every key with
// every earlier one (100,000 keys would take minutes).
func TestWideLineLinear(t *testing.T) {
	var b strings.Builder
	b.WriteString("m ")
	const n = 100_000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "f%d=%d,", i, i)
	}
	b.WriteString("f7=-1,f99999=-2 1")
	p := NewParser()
	p.Reset([]byte(b.String()), Nanosecond, 0)
	start := time.Now()
	pt, err := p.Next()
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("%d fields parsed in %v", n, took)
	}
	if len(pt.Fields) != n || string(pt.Fields[7].Key) != "f7" || pt.Fields[7].Float != -1 ||
		string(pt.Fields[n-1].Key) != "f99999" || pt.Fields[n-1].Float != -2 || pt.Fields[8].Float != 8 {
		t.Fatalf("merged fields wrong: %d fields, f7=%v", len(pt.Fields), pt.Fields[7])
	}
}

// TestKnownKeys_SameParse: a parser that has seen a line's key before (its
// known keys, parser.go) yields exactly what a parser seeing it first does,
// for every recorded 1.6.7 case and keys with escapes, and the cache is used.
func TestKnownKeys_SameParse(t *testing.T) {
	bodies := []string{
		"cpu,hostname=host_0,region=eu-west-1,arch=x64 usage_user=1i,usage_idle=2i 10\n",
		`m\,x\ y,t\,k\ 1\=2=v\,a\ b\=c f\,g\ h\=i=1 1`,
		"m,t==x v=1\nm,t=a\\ v=1 1\nm,t=a\\\\ v=1 1\n",
		"m\\\\ x,t=a\\\\,u=b v=1 1\nm\\\\ x,t=a\\\\,u=b v=2 2\n",
		"m,b=2,a=1 v=1 1\nm,a=1,b=2 v=1 1\nm,a=1,a=2 v=1 1\n",
		"m,t=a v=1 1\nm,t=a v=\"s\" 2\nm,t=a  v=3 3\nm,t=a\tv=4 4\nm,t=a v\n",
		"m v=1 1\nm  v=2 2\nm,t=a,u=b\\ c v=1 1\n",
	}
	if data, err := os.ReadFile(compatPath); err == nil {
		for _, line := range bytes.Split(data, []byte("\n")) {
			var c compatCase
			if json.Unmarshal(line, &c) == nil && c.Body != "" {
				bodies = append(bodies, c.Body)
			}
		}
	} else {
		t.Fatal(err)
	}
	warm := NewParser()
	for _, body := range bodies {
		want := parseCached(NewParser(), body, true)
		for pass := 0; pass < 2; pass++ { // the second pass finds every key known
			if got := parseCached(warm, body, false); !slices.Equal(got, want) {
				t.Fatalf("body %q, pass %d:\n got %q\nwant %q", body, pass, got, want)
			}
		}
	}
	if len(warm.keys) == 0 {
		t.Fatal("no key was remembered")
	}
}

// parseCached parses body with p: dump(pt), KeyLen and line per point,
// "line:col reason" per error. cold forgets the known keys before each line.
func parseCached(p *Parser, body string, cold bool) []string {
	p.Reset([]byte(body), Nanosecond, 1)
	var out []string
	for {
		if cold {
			p.keys = nil
		}
		pt, err := p.Next()
		if err == io.EOF {
			return out
		}
		var pe *ParseError
		if errors.As(err, &pe) {
			out = append(out, fmt.Sprintf("%d:%d %s", pe.Line, pe.Column, pe.Reason))
			continue
		}
		out = append(out, fmt.Sprintf("%s len=%d line=%d", dump(pt), pt.KeyLen, pt.Line))
	}
}
