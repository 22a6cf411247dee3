package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/strata-db/strata/ingest/deadletter"
	"github.com/strata-db/strata/ingest/lineprotocol"
)

// deadletterCommand runs `strata deadletter replay`: it reads the letters of
// a time range from a running server and writes their lines again through
// /write, once the cause of their refusal is fixed.
func deadletterCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "replay" {
		fmt.Fprintln(stderr, "usage: strata deadletter replay --since DURATION [--url URL] [--db DB]")
		return 2
	}
	fs := flag.NewFlagSet("strata deadletter replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8086", "base URL of the server")
	since := fs.Duration("since", time.Hour, "replay the letters received in this last span of time")
	db := fs.String("db", "", "replay only the letters meant for this database")
	source := fs.String("source", "", "replay only the letters of this source (http:/write, kafka, ...)")
	prec := fs.String("precision", "ns", "precision of the timestamps in the lines (as they were sent): ns, us, ms or s")
	user := fs.String("username", "", "user to authenticate as (with --auth-enabled)")
	pass := fs.String("password", "", "password of --username")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: strata deadletter replay [flags]

Writes the lines kept in "_deadletter"."autogen"."rejected" again, through the
server's /write, after the cause of their refusal is fixed (a conflicting field
dropped, a limit raised). A line without a timestamp is written at the time it
was first received, so replaying the same letters twice stores each point once.
Lines that still do not parse, truncated letters and remote-write samples are
skipped and counted. Letters stay where they are (retention removes them).

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	precision, ok := map[string]lineprotocol.Precision{"ns": lineprotocol.Nanosecond, "us": lineprotocol.Microsecond, "ms": lineprotocol.Millisecond, "s": lineprotocol.Second}[*prec]
	if !ok {
		fmt.Fprintf(stderr, "strata deadletter replay: bad --precision %q\n", *prec)
		return 2
	}
	r := replayer{base: strings.TrimRight(*base, "/"), user: *user, pass: *pass, prec: *prec, precision: precision, client: &http.Client{Timeout: time.Minute}}
	sum, err := r.run(*since, *db, *source)
	fmt.Fprintln(stdout, sum)
	if err != nil {
		fmt.Fprintf(stderr, "strata deadletter replay: %v\n", err)
		return 1
	}
	return 0
}

type replayer struct {
	base, user, pass, prec string
	precision              lineprotocol.Precision
	client                 *http.Client
}

type letterRow struct {
	time                int64
	raw, db, rp, source string
	size                int64
}

type replaySummary struct {
	letters, replayed, refused, unparsable, truncated, notLines int
}

func (s replaySummary) String() string {
	return fmt.Sprintf("letters %d: replayed %d lines (%d refused again), skipped %d unparsable, %d truncated, %d remote-write samples",
		s.letters, s.replayed, s.refused, s.unparsable, s.truncated, s.notLines)
}

func (r *replayer) run(since time.Duration, db, source string) (replaySummary, error) {
	var sum replaySummary
	rows, err := r.letters(since, db, source)
	if err != nil {
		return sum, err
	}
	sum.letters = len(rows)
	type target struct{ db, rp string }
	bodies := map[target]*bytes.Buffer{}
	lines := map[target]int{}
	p := lineprotocol.NewParser()
	// noTime marks a line without a timestamp: a multiple of every precision
	// (the parser rounds its clock to the precision), in 1823.
	const noTime = -4_611_686_018 * int64(time.Second)
	for _, l := range rows {
		switch {
		case strings.HasPrefix(l.source, "http:/api/v1/prom"):
			sum.notLines++
			continue
		case int64(len(l.raw)) < l.size:
			sum.truncated++
			continue
		}
		p.Reset([]byte(l.raw), r.precision, noTime)
		pt, err := p.Next()
		if err != nil {
			sum.unparsable++
			continue
		}
		k := target{l.db, l.rp}
		b := bodies[k]
		if b == nil {
			b = &bytes.Buffer{}
			bodies[k] = b
		}
		b.WriteString(l.raw)
		if pt.Time == noTime {
			// Stamped with the time it was received: a second replay
			// overwrites the same point instead of adding one.
			fmt.Fprintf(b, " %d", l.time/int64(r.precision))
		}
		b.WriteByte('\n')
		lines[k]++
	}
	keys := make([]target, 0, len(bodies))
	for k := range bodies {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].db < keys[j].db || keys[i].db == keys[j].db && keys[i].rp < keys[j].rp
	})
	for _, k := range keys {
		refused, err := r.write(k.db, k.rp, bodies[k].Bytes())
		if err != nil {
			return sum, fmt.Errorf("write into %s: %w", k.db, err)
		}
		sum.replayed += lines[k]
		sum.refused += refused
	}
	return sum, nil
}

// letters reads the letters of the last span with epoch-nanosecond times.
func (r *replayer) letters(since time.Duration, db, source string) ([]letterRow, error) {
	q := fmt.Sprintf(`SELECT "raw", "db", "rp", "source", "size" FROM %q.%q.%q WHERE time > now() - %dns`,
		deadletter.Database, deadletter.RetentionPolicy, deadletter.Measurement, since.Nanoseconds())
	if db != "" {
		q += " AND \"db\" = '" + strings.ReplaceAll(db, "'", `\'`) + "'"
	}
	if source != "" {
		q += " AND \"source\" = '" + strings.ReplaceAll(source, "'", `\'`) + "'"
	}
	body, status, err := r.do("/query", url.Values{"q": {q}, "epoch": {"ns"}}, nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("query letters: %d %s", status, body)
	}
	var res struct {
		Results []struct {
			Error  string `json:"error"`
			Series []struct {
				Values [][]any `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&res); err != nil {
		return nil, fmt.Errorf("query letters: %w", err)
	}
	var out []letterRow
	for _, rs := range res.Results {
		if rs.Error != "" {
			if strings.Contains(rs.Error, "database not found") {
				return nil, nil // nothing was ever refused
			}
			return nil, fmt.Errorf("query letters: %s", rs.Error)
		}
		for _, s := range rs.Series {
			for _, v := range s.Values {
				if len(v) != 6 {
					continue
				}
				var l letterRow
				if n, ok := v[0].(json.Number); ok {
					l.time, _ = n.Int64()
				}
				l.raw, _ = v[1].(string)
				l.db, _ = v[2].(string)
				l.rp, _ = v[3].(string)
				l.source, _ = v[4].(string)
				if n, ok := v[5].(json.Number); ok {
					l.size, _ = n.Int64()
				}
				out = append(out, l)
			}
		}
	}
	return out, nil
}

// write posts body to /write and returns how many lines the server refused.
func (r *replayer) write(db, rp string, body []byte) (int, error) {
	v := url.Values{"db": {db}, "precision": {r.prec}}
	if rp != "" {
		v.Set("rp", rp)
	}
	if r.prec == "us" {
		v.Set("precision", "u") // 1.x's spelling
	}
	resp, status, err := r.do("/write", v, body)
	if err != nil {
		return 0, err
	}
	switch {
	case status == http.StatusNoContent:
		return 0, nil
	case status == http.StatusBadRequest:
		// A partial write: the refused lines are letters again, counted here.
		if i := bytes.LastIndex(resp, []byte("dropped=")); i >= 0 {
			n, _ := strconv.Atoi(strings.TrimRight(string(resp[i+len("dropped="):]), "\"}\n"))
			return n, nil
		}
		return bytes.Count(body, []byte("\n")), nil
	}
	return 0, fmt.Errorf("%d %s", status, resp)
}

func (r *replayer) do(path string, q url.Values, body []byte) ([]byte, int, error) {
	method := http.MethodGet
	if body != nil {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, r.base+path+"?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	if r.user != "" {
		req.SetBasicAuth(r.user, r.pass)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	return b, resp.StatusCode, err
}
