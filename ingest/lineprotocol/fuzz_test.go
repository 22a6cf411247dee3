package lineprotocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"strings"
	"testing"
)

var fuzzPrecisions = [...]Precision{Nanosecond, Microsecond, Millisecond, Second, Minute, Hour}

// FuzzParse checks that the parser never panics, that every point it returns
// is well formed, and that writing a point back as line protocol and parsing
// that again yields the same point.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"m v=1 1",
		"cpu,host=a,region=b usage=1.5,n=2i,u=3u,ok=true,msg=\"hi\" 1700000000\n",
		`m\,x\ y,t\,k\ 1\=2=v\,a\ b\=c f\,g\ h\=i=1 1`,
		"s v=\"a\\\"b\\\\c\\d\" 1\ns v=\"line1\nline2\" 2\n",
		"# comment\n\n  m,z=1,a=2 v=1,v=2 -5\r\nbad line\n",
		"m,t==x v=1\nm,t=a\\ v=1 1\nm v=\"x\"y 1\nm a,b=\"x\"=1 1",
		"m v=1e400,w=NaN 99999999999999999999\nm v=9223372036854775808i 1",
		"m\\\\ x,t=a\\\\,u=b v=\"q\n\" 1\n# a=\"\nm v=1\\\n",
		"\x00m v=1 \t2\x00",
	} {
		f.Add([]byte(s), uint8(0))
	}
	if data, err := os.ReadFile(compatPath); err == nil {
		for _, line := range bytes.Split(data, []byte("\n")) {
			var c compatCase
			if json.Unmarshal(line, &c) == nil && c.Body != "" {
				f.Add([]byte(c.Body), uint8(len(c.Name)))
			}
		}
	}
	p, q := NewParser(), NewParser()
	f.Fuzz(func(t *testing.T, body []byte, precSel uint8) {
		prec := fuzzPrecisions[int(precSel)%len(fuzzPrecisions)]
		p.Reset(body, prec, 1_700_000_000_123_456_789)
		lastLine := 0
		var line []byte
		for {
			pt, err := p.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("error %T %v", err, err)
				}
				if pe.Line < lastLine || pe.Column < 1 || pe.Column > len(pe.Text)+1 || pe.Reason == "" ||
					!strings.HasPrefix(pe.Error(), "unable to parse '") {
					t.Fatalf("bad error %+v after line %d", *pe, lastLine)
				}
				lastLine = pe.Line
				continue
			}
			checkPoint(t, pt, lastLine)
			lastLine = pt.Line

			line = AppendPoint(line[:0], pt)
			if n := keyPart(pt); pt.KeyLen != n {
				t.Fatalf("%q: KeyLen %d, series key is %d bytes", pt.Raw, pt.KeyLen, n)
			}
			q.Reset(line, Nanosecond, 0)
			again, err := q.Next()
			if err != nil {
				t.Fatalf("%q re-encoded as %q: %v", pt.Raw, line, err)
			}
			if d1, d2 := dump(pt), dump(again); d1 != d2 {
				t.Fatalf("%q re-encoded as %q:\n got %s\nwant %s", pt.Raw, line, d2, d1)
			}
			if _, err := q.Next(); err != io.EOF {
				t.Fatalf("%q re-encoded as %q: more than one line (%v)", pt.Raw, line, err)
			}
		}
	})
}

func checkPoint(t *testing.T, pt *Point, lastLine int) {
	t.Helper()
	if len(pt.Measurement) == 0 || len(pt.Fields) == 0 || pt.Line < 1 || pt.Line < lastLine {
		t.Fatalf("%q: empty measurement, no fields or bad line number %d", pt.Raw, pt.Line)
	}
	for i, tag := range pt.Tags {
		if len(tag.Key) == 0 || len(tag.Value) == 0 {
			t.Fatalf("%q: empty tag key or value", pt.Raw)
		}
		if i > 0 && bytes.Compare(pt.Tags[i-1].Key, tag.Key) >= 0 {
			t.Fatalf("%q: tags not sorted and unique", pt.Raw)
		}
	}
	seen := map[string]bool{}
	for _, fl := range pt.Fields {
		if len(fl.Key) == 0 || seen[string(fl.Key)] {
			t.Fatalf("%q: empty or repeated field key %q", pt.Raw, fl.Key)
		}
		seen[string(fl.Key)] = true
		if fl.Type < Float || fl.Type > Boolean || fl.Type == Float && (math.IsNaN(fl.Float) || math.IsInf(fl.Float, 0)) {
			t.Fatalf("%q: bad field %+v", pt.Raw, fl)
		}
	}
	if pt.Time < minTime || pt.Time > maxTime {
		t.Fatalf("%q: time %d out of range", pt.Raw, pt.Time)
	}
}

// keyPart is the length of the series key InfluxDB would store for pt.
func keyPart(pt *Point) int {
	k := appendIdent(nil, pt.Measurement, measEscapes)
	for _, tag := range pt.Tags {
		k = append(k, ',')
		k = appendIdent(k, tag.Key, tagEscapes)
		k = append(k, '=')
		k = appendIdent(k, tag.Value, tagEscapes)
	}
	return len(k)
}
