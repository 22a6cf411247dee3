package bench

import (
	"bytes"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/strata-db/strata/ingest/lineprotocol"
)

func smallConfig() GenConfig {
	c := DefaultGenConfig()
	c.Hosts, c.Duration, c.BatchLines = 7, 30*time.Minute, 50
	return c
}

func mustGenerate(t testing.TB, c GenConfig) *Dataset {
	t.Helper()
	d, err := Generate(c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestGenerate_Deterministic(t *testing.T) {
	c := smallConfig()
	a, b := mustGenerate(t, c), mustGenerate(t, c)
	if !slices.EqualFunc(a.Bodies, b.Bodies, bytes.Equal) {
		t.Fatal("same seed gave different bodies")
	}
	c.Seed = 2
	other := mustGenerate(t, c)
	if bytes.Equal(a.Bodies[0], other.Bodies[0]) {
		t.Fatal("seeds 1 and 2 gave the same first body")
	}
}

func TestGenerate_HostsStable(t *testing.T) {
	small, big := smallConfig(), smallConfig()
	big.Hosts = 40
	s, b := mustGenerate(t, small), mustGenerate(t, big)
	for h := range s.Hosts {
		if s.Hosts[h] != b.Hosts[h] {
			t.Errorf("host %d: tags %+v with %d hosts, %+v with %d", h, s.Hosts[h], small.Hosts, b.Hosts[h], big.Hosts)
		}
		for p := range s.NumPoints {
			for f := range NumFields {
				if s.Centi(h, p, f) != b.Centi(h, p, f) {
					t.Fatalf("host %d point %d field %d differs with the host count", h, p, f)
				}
			}
		}
	}
	// The draws must reach every choice of a small tag: otherwise the host model
	// is not TSBS's.
	seen := map[string]bool{}
	for _, h := range b.Hosts {
		seen[h.Team] = true
	}
	if len(seen) != len(teamChoices) {
		t.Errorf("40 hosts used teams %v, want all of %v", seen, teamChoices)
	}
}

func TestGenerate_Walk(t *testing.T) {
	d := mustGenerate(t, smallConfig())
	for h := range d.Hosts {
		for f := range NumFields {
			for p := range d.NumPoints {
				c := d.Centi(h, p, f)
				if c < 0 || c > maxCenti {
					t.Fatalf("host %d field %d point %d: %d hundredths out of [0, 100]", h, f, p, c)
				}
				if p > 0 {
					if step := c - d.Centi(h, p-1, f); step < -stepCenti || step > stepCenti {
						t.Fatalf("host %d field %d point %d: step %d hundredths", h, f, p, step)
					}
				}
			}
		}
	}
}

func TestGenerate_Counts(t *testing.T) {
	tests := []struct {
		name               string
		hosts              int
		duration, interval time.Duration
		batch              int
		lines, bodies      int
	}{
		{"exact batches", 2, 10 * time.Minute, 10 * time.Second, 40, 120, 3},
		{"short last batch", 3, 10 * time.Minute, 10 * time.Second, 50, 180, 4},
		{"one body", 1, time.Minute, 10 * time.Second, 5000, 6, 1},
		{"duration not a multiple", 2, 25 * time.Second, 10 * time.Second, 1, 6, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultGenConfig()
			c.Hosts, c.Duration, c.Interval, c.BatchLines = tt.hosts, tt.duration, tt.interval, tt.batch
			d := mustGenerate(t, c)
			if d.Lines != int64(tt.lines) || len(d.Bodies) != tt.bodies {
				t.Errorf("%d lines in %d bodies, want %d in %d", d.Lines, len(d.Bodies), tt.lines, tt.bodies)
			}
			if d.Values() != int64(tt.lines)*NumFields {
				t.Errorf("Values() = %d", d.Values())
			}
		})
	}
}

func TestGenerate_BadConfig(t *testing.T) {
	for name, mod := range map[string]func(*GenConfig){
		"no hosts":       func(c *GenConfig) { c.Hosts = 0 },
		"no interval":    func(c *GenConfig) { c.Interval = 0 },
		"short duration": func(c *GenConfig) { c.Duration = time.Second },
		"no batch":       func(c *GenConfig) { c.BatchLines = 0 },
	} {
		c := smallConfig()
		mod(&c)
		if _, err := Generate(c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestGenerate_BodiesParse reads every body back with the project's parser and
// checks that it says exactly what the data set holds, in TSBS's line order.
func TestGenerate_BodiesParse(t *testing.T) {
	for _, gz := range []bool{false, true} {
		c := smallConfig()
		c.Gzip = gz
		d := mustGenerate(t, c)
		i := 0
		var raw int64
		for bi, body := range d.Bodies {
			if gz {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			raw += int64(len(body))
			n := parseBody(t, d, body, i)
			if n > c.BatchLines {
				t.Fatalf("body %d has %d lines, batch is %d", bi, n, c.BatchLines)
			}
			i += n
		}
		if int64(i) != d.Lines || raw != d.RawBytes {
			t.Fatalf("gzip=%v: parsed %d lines, %d bytes; data set says %d, %d", gz, i, raw, d.Lines, d.RawBytes)
		}
	}
}

// parseBody parses body with the project's parser, checks that line k is line
// first+k of the data set (time-major order, so times never decrease) and returns
// the number of lines.
func parseBody(t *testing.T, d *Dataset, body []byte, first int) int {
	t.Helper()
	p := lineprotocol.NewParser()
	p.Reset(body, lineprotocol.Nanosecond, 0)
	n := 0
	prev := int64(math.MinInt64)
	for {
		pt, err := p.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("line %d: %v", first+n, err)
		}
		i := first + n
		checkPoint(t, d, pt, i%len(d.Hosts), i/len(d.Hosts))
		if pt.Time < prev {
			t.Fatalf("line %d: time %d before %d", i, pt.Time, prev)
		}
		prev = pt.Time
		n++
	}
}

func checkPoint(t *testing.T, d *Dataset, pt *lineprotocol.Point, h, p int) {
	t.Helper()
	if string(pt.Measurement) != Measurement || pt.Time != d.Time(p) {
		t.Fatalf("line of host %d point %d: %s at %d", h, p, pt.Measurement, pt.Time)
	}
	if len(pt.Tags) != len(TagKeys) {
		t.Fatalf("%d tags", len(pt.Tags))
	}
	for _, tag := range pt.Tags {
		if got, want := string(tag.Value), d.Hosts[h].Tag(string(tag.Key)); got != want {
			t.Fatalf("host %d tag %s = %q, want %q", h, tag.Key, got, want)
		}
	}
	if len(pt.Fields) != NumFields {
		t.Fatalf("%d fields", len(pt.Fields))
	}
	for f, fl := range pt.Fields {
		if string(fl.Key) != FieldNames[f] || fl.Type != lineprotocol.Float {
			t.Fatalf("field %d: %s of type %v", f, fl.Key, fl.Type)
		}
		if fl.Float != d.Value(h, p, f) {
			t.Fatalf("host %d point %d %s = %v, want %v", h, p, fl.Key, fl.Float, d.Value(h, p, f))
		}
		// At most two decimals, in the shortest form that round-trips.
		s := strconv.FormatFloat(fl.Float, 'f', -1, 64)
		if _, frac, ok := strings.Cut(s, "."); ok && len(frac) > 2 {
			t.Fatalf("%s = %s has more than two decimals", fl.Key, s)
		}
	}
}

func TestAppendCenti(t *testing.T) {
	tests := []struct {
		c    int
		want string
	}{
		{0, "0"}, {5, "0.05"}, {10, "0.1"}, {99, "0.99"}, {100, "1"}, {1234, "12.34"},
		{1230, "12.3"}, {1200, "12"}, {10000, "100"}, {9001, "90.01"},
	}
	for _, tt := range tests {
		if got := string(appendCenti(nil, tt.c)); got != tt.want {
			t.Errorf("appendCenti(%d) = %q, want %q", tt.c, got, tt.want)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	c := DefaultGenConfig()
	c.Hosts, c.Duration = 100, time.Hour
	d := mustGenerate(b, c)
	b.SetBytes(d.RawBytes)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(c); err != nil {
			b.Fatal(err)
		}
	}
}
