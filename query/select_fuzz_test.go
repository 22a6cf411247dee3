package query

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

type storageTag struct{ k, v string }

// addFuzzPoint adds one point; tags come sorted by key.
func addFuzzPoint(b *storage.Batch, m string, tags []storageTag, names []string, vals []any, ts int64) error {
	st := make([]storage.Tag, len(tags))
	for i, tg := range tags {
		st[i] = storage.Tag{Key: []byte(tg.k), Value: []byte(tg.v)}
	}
	fs := make([]storage.FieldValue, len(names))
	for i, n := range names {
		fs[i] = metaField(n, vals[i])
	}
	return b.Add([]byte(m), st, fs, ts)
}

// fuzzPicker draws choices from the fuzz input; an exhausted input yields zeros,
// so every input is a valid program.
type fuzzPicker struct {
	b []byte
}

func (p *fuzzPicker) next() int {
	if len(p.b) == 0 {
		return 0
	}
	v := int(p.b[0])
	p.b = p.b[1:]
	return v
}

func (p *fuzzPicker) pick(opts ...string) string { return opts[p.next()%len(opts)] }

// fuzzSelect assembles a SELECT from a small grammar: fields, aggregates,
// selectors, transformations and arithmetic; WHERE on tags, fields and time;
// GROUP BY time and tags; fill; ORDER BY; LIMIT and OFFSET; SLIMIT; tz().
func fuzzSelect(p *fuzzPicker) string {
	field := func() string { return p.pick("x", "i", "s", "b", "host", "*", "/x|i/", "nope") }
	num := func() string { return p.pick("x", "i") }
	var expr func(depth int) string
	expr = func(depth int) string {
		switch p.next() % 9 {
		case 0, 1:
			return field()
		case 2:
			return p.pick("count", "sum", "mean", "min", "max", "first", "last", "spread", "median", "stddev", "distinct") + "(" + field() + ")"
		case 3:
			return p.pick("percentile", "top", "bottom", "sample") + "(" + num() + ", " + p.pick("0", "1", "3", "50", "100", "host, 2") + ")"
		case 4:
			return "count(distinct(" + field() + "))"
		case 5:
			inner := p.pick("mean", "max", "sum", "count", "last") + "(" + num() + ")"
			if p.next()%2 == 0 {
				inner = num()
			}
			return p.pick("derivative", "non_negative_derivative", "difference", "moving_average", "cumulative_sum", "elapsed", "holt_winters", "holt_winters_with_fit") +
				"(" + inner + p.pick("", ", 1s", ", 2", ", 1m", ", 3, 2", ", 2, 0") + ")"
		case 6:
			if depth > 2 {
				return num()
			}
			if p.next()%3 == 0 {
				return p.pick("abs", "sqrt", "round", "ln", "floor", "pow", "atan2", "log") + "(" + expr(depth+1) + p.pick("", ", 2") + ")"
			}
			return expr(depth+1) + " " + p.pick("+", "-", "*", "/", "%") + " " + expr(depth+1)
		case 7:
			return p.pick("1", "2.5", "0", "'str'", "true")
		default:
			return num() + " AS " + p.pick("a", "time", "x")
		}
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	n := 1 + p.next()%3
	for k := 0; k < n; k++ {
		if k > 0 {
			b.WriteString(", ")
		}
		b.WriteString(expr(0))
	}
	b.WriteString(" FROM ")
	switch p.next() % 4 {
	case 0:
		b.WriteString("cpu")
	case 1:
		b.WriteString("/./")
	case 2:
		b.WriteString("cpu, mem")
	default:
		b.WriteString("(SELECT mean(x) AS x, max(i) AS i FROM cpu GROUP BY time(" + p.pick("1m", "7m") + "), host)")
	}
	var conds []string
	for k := p.next() % 4; k > 0; k-- {
		conds = append(conds, p.pick("host = 'a'", "host != 'b'", "host =~ /a|c/", "region !~ /x/", "x > 2", "i <= 3",
			"s = 'v1'", "b = true", "time >= 0", fmt.Sprintf("time < %d", t0+int64(time.Hour)), fmt.Sprintf("time > %d", t0+int64(5*time.Minute)),
			"time > now() - 1h", "(host = 'a' OR x < 1)"))
	}
	if len(conds) > 0 {
		b.WriteString(" WHERE " + strings.Join(conds, p.pick(" AND ", " OR ")))
	}
	var groups []string
	if p.next()%2 == 0 {
		groups = append(groups, "time("+p.pick("1m", "10m", "1h", "7m, 3m", "10m, -2m", "1d")+")")
	}
	if g := p.pick("", "host", "*", "/reg/", "host, region"); g != "" {
		groups = append(groups, g)
	}
	if len(groups) > 0 {
		b.WriteString(" GROUP BY " + strings.Join(groups, ", "))
	}
	b.WriteString(p.pick("", "", " fill(null)", " fill(none)", " fill(previous)", " fill(linear)", " fill(0)", " fill(-1.5)"))
	b.WriteString(p.pick("", "", " ORDER BY time DESC", " ORDER BY time ASC"))
	b.WriteString(p.pick("", "", " LIMIT 2", " LIMIT 1 OFFSET 3", " OFFSET 1"))
	b.WriteString(p.pick("", "", " SLIMIT 1", " SLIMIT 2 SOFFSET 1"))
	b.WriteString(p.pick("", "", " tz('Europe/Berlin')", " tz('UTC')"))
	return b.String()
}

// FuzzSelect runs random small data sets through random SELECT statements: any
// error is fine, a panic, a hang or a malformed result is not.
func FuzzSelect(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, []byte{})
	f.Add([]byte{10, 20, 30}, []byte{2, 0, 3, 5, 1, 0, 2, 1, 0, 1, 2, 3, 4})
	f.Add([]byte{255, 128, 7, 9, 11}, []byte{5, 5, 1, 1, 0, 3, 0, 1, 1, 0, 6, 4, 2})
	f.Add([]byte{1, 1, 1, 1, 1, 1, 1, 1}, []byte{1, 3, 1, 0, 3, 3, 1, 0, 2, 0, 1, 3, 3, 1, 1})
	f.Add([]byte("some data bytes here"), []byte("a grammar walk"))
	f.Add([]byte{9, 8, 7}, []byte{2, 6, 2, 4, 0, 7, 6, 1, 1, 1, 1, 2, 7, 0, 0, 5, 2, 2})

	env := newSelEnv(f, Limits{MaxBuckets: 5000, MaxSeries: 100, Timeout: 5 * time.Second})
	n := 0
	f.Fuzz(func(t *testing.T, data, grammar []byte) {
		// Each input writes into its own database, so inputs stay independent.
		n++
		db := fmt.Sprintf("f%d", n)
		if err := env.eng.CreateDatabase(db, nil); err != nil {
			t.Fatal(err)
		}
		defer env.eng.DropDatabase(db)
		b, err := env.eng.Bucket(db, "")
		if err != nil {
			t.Fatal(err)
		}
		batch, err := env.eng.NewBatch(b)
		if err != nil {
			t.Fatal(err)
		}
		dp := &fuzzPicker{b: data}
		for k := 0; k < 64 && len(dp.b) > 0; k++ {
			m := dp.pick("cpu", "cpu", "mem")
			host := dp.pick("a", "b", "c")
			ts := t0 + int64(dp.next()*dp.next())*int64(time.Second)
			var fields []string
			// Field types stay fixed per name, as the engine would reject a change.
			switch dp.next() % 5 {
			case 0:
				fields = []string{"x"}
			case 1:
				fields = []string{"i"}
			case 2:
				fields = []string{"x", "i", "s"}
			case 3:
				fields = []string{"b"}
			default:
				fields = []string{"x", "i"}
			}
			var fv = make([]any, len(fields))
			for fi, name := range fields {
				v := dp.next()
				switch name {
				case "x":
					fv[fi] = float64(v)/7 - 10
				case "i":
					fv[fi] = int64(v) - 100
				case "s":
					fv[fi] = fmt.Sprintf("v%d", v%3)
				case "b":
					fv[fi] = v%2 == 0
				}
			}
			tags := []storageTag{{"host", host}}
			if dp.next()%2 == 0 {
				tags = append(tags, storageTag{"region", dp.pick("eu", "us")})
			}
			if err := addFuzzPoint(batch, m, tags, fields, fv, ts); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := env.eng.Write(batch); err != nil {
			t.Fatal(err)
		}
		if data := dp.next(); data%4 == 0 {
			if err := env.eng.Flush(); err != nil {
				t.Fatal(err)
			}
		}

		q := fuzzSelect(&fuzzPicker{b: grammar})
		parsed, err := influxql.ParseQuery(q)
		if err != nil {
			return // the grammar can build statements the parser rejects
		}
		var c Collector
		if err := env.ex.Execute(context.Background(), parsed, ExecOptions{Database: db, Now: env.now}, &c); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		// Render as /query would, to catch rows of the wrong width and values the
		// encoder rejects.
		if _, err := renderResults(c.Results); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	})
}
