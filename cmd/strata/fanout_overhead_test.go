package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/strata-db/strata/bench"
	"github.com/strata-db/strata/cluster"
	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/query/nodewire"
)

// vmBytesPerPoint is what a VictoriaMetrics-style cluster moves per raw
// point from a storage node to the query node: vmselect receives
// vmstorage's compressed storage blocks as they are stored
// (app/vmselect/netstorage/tmp_blocks_file.go unmarshals storage.Block), so
// a point costs about its on-disk size. 1.203 bytes/value is VictoriaMetrics'
// own on TSBS cpu data, measured by `strata bench` (docs/performance.md,
// file sizes excluding its cache/). The per-block metric name it also sends
// is left out, which favours it.
const vmBytesPerPoint = 1.203

// overheadRow is one query type's measurement.
type overheadRow struct {
	typ                string
	single, fanout     time.Duration // medians
	partBytes          int64         // the peers' answers to the query, on the wire
	partZstd           int64         // those answers compressed with zstd (what Content-Encoding would save)
	states, rows, pts  int64         // what those answers held
	rawPoints          int64         // the points the peers hold for it
	rawBytes           int64         // those points in the node protocol's raw rows, on the wire
	aggregate, lookbck bool
}

var peerLine = regexp.MustCompile(`PEER \S+ \(node \S+\): \S+, (\d+) bytes, \d+ series, (\d+) partial states, (\d+) rows, (\d+) points`)

// TestFanoutOverhead measures, per TSBS query type, the latency of the
// three-node set against the reference node holding all the data, and the
// bytes of the partial answers the peers send against the raw points a
// VictoriaMetrics-style design would move (docs/scale-out.md,
// "Measurements"). STRATA_FANOUT_BENCH=1 runs TSBS's scale (100 hosts,
// 12 hours; STRATA_FANOUT_WIDTH=2,6,14,30 adds fanoutWidth's table), five queries drawn per type, each timed STRATA_FANOUT_RUNS
// (default 5) times; without it a small set, three queries per type timed
// once, and the byte assertions: for every aggregate query type the
// partials are smaller than the same points as raw rows, and for the hour
// windows of double-groupby under half their compressed size.
func TestFanoutOverhead(t *testing.T) {
	hosts, dur, draws, reps := 12, 2*time.Hour, 3, 1
	if os.Getenv("STRATA_FANOUT_BENCH") != "" {
		hosts, dur, draws, reps = 100, 12*time.Hour, 5, 5
		if n, err := strconv.Atoi(os.Getenv("STRATA_FANOUT_RUNS")); err == nil && n > 0 {
			reps = n
		}
	}
	fs := startFanoutSetWith(t, hosts, dur, fanoutSetup{noCache: true})
	g := bench.NewQueryGen(7, len(fs.data.Hosts), fs.data.Time(0), fs.data.EndTime())
	peers := cluster.StaticPeers{fs.nodes[1].Addr(), fs.nodes[2].Addr()}
	client := cluster.New(cluster.Options{Peers: peers, Timeout: time.Minute})
	var rows []overheadRow
	for _, typ := range bench.QueryTypes {
		// Several draws per type, as TSBS runs a type: a one-host query
		// whose host is on the receiving node moves nothing, another does.
		row := overheadRow{typ: typ}
		var single, fanout []time.Duration
		for range draws {
			q, err := g.Next(typ)
			if err != nil {
				t.Fatal(err)
			}
			want := queryOn(t, fs.ref, q.Text, nil)
			if got := queryOn(t, fs.bases[0], q.Text, nil); got.body != want.body {
				t.Fatalf("%s: the set and the reference differ", typ)
			}
			a, b := timeQueries(t, fs.ref, fs.bases[0], q.Text, reps)
			single, fanout = append(single, a...), append(fanout, b...)
			before := peerBytesMetric(t, fs.bases[0])
			ex := queryOn(t, fs.bases[0], "EXPLAIN ANALYZE "+q.Text, nil)
			ms := peerLine.FindAllStringSubmatch(ex.body, -1)
			if len(ms) != len(peers) {
				t.Fatalf("%s: EXPLAIN ANALYZE has %d PEER lines, want %d:\n%s", typ, len(ms), len(peers), ex.body)
			}
			var explained int64
			for _, m := range ms {
				explained += atoi(m[1])
			}
			// strata_fanout_peer_bytes_total counts what EXPLAIN reports.
			if got := peerBytesMetric(t, fs.bases[0]) - before; got != explained {
				t.Fatalf("%s: strata_fanout_peer_bytes_total grew by %d, EXPLAIN ANALYZE's PEER lines say %d", typ, got, explained)
			}
			for _, m := range ms {
				row.partBytes += atoi(m[1])
				row.states += atoi(m[2])
				row.rows += atoi(m[3])
				row.pts += atoi(m[4])
			}
			stmt := mustSelect(t, q.Text)
			row.aggregate = hasCall(stmt)
			count, raw, lookback := rawEquivalents(q, stmt, fs.data.EndTime())
			row.lookbck = lookback
			p, rb := peerRaw(t, client, count, raw)
			row.rawPoints, row.rawBytes = row.rawPoints+p, row.rawBytes+rb
			row.partZstd += compressedAnswers(t, client, q.Text)
		}
		row.single, row.fanout = median(single), median(fanout)
		rows = append(rows, row)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d hosts × %s; per type %d queries drawn, each timed %d times after a warm-up: medians of the %d; ratio = 3 nodes / 1 node; bytes and points summed over the %d queries\n",
		hosts, dur, draws, reps, draws*reps, draws)
	b.WriteString("| query type | 1 node ms | 3 nodes ms | ratio | partial bytes | zstd | states | rows+points | raw points (peers) | VM-style bytes | raw rows bytes (node protocol) | partial/VM | zstd/VM |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		vm := int64(math.Round(float64(r.rawPoints) * vmBytesPerPoint))
		note := ""
		if r.lookbck {
			note = " (5m lookback)"
		}
		fmt.Fprintf(&b, "| %s | %.2f | %.2f | %.2f | %d | %d | %d | %d | %d%s | %d | %d | %.3f | %.3f |\n", r.typ,
			ms(r.single), ms(r.fanout), ms(r.fanout)/ms(r.single), r.partBytes, r.partZstd, r.states, r.rows+r.pts,
			r.rawPoints, note, vm, r.rawBytes, float64(r.partBytes)/float64(max(vm, 1)), float64(r.partZstd)/float64(max(vm, 1)))
	}
	t.Log(b.String())
	if width := os.Getenv("STRATA_FANOUT_WIDTH"); width != "" {
		fanoutWidth(t, fs, g, width, draws*reps)
	}
	measured := 0
	for _, r := range rows {
		if r.rawPoints == 0 {
			continue // its hosts are all on the receiving node (cpu-max-all-1 on the small set)
		}
		measured++
		if !r.aggregate {
			continue
		}
		if r.states == 0 {
			t.Errorf("%s: an aggregate whose peers sent no partial states", r.typ)
		}
		// Partials against the same points shipped raw by the node protocol.
		if r.partBytes >= r.rawBytes {
			t.Errorf("%s: partial answers %d bytes, not fewer than the raw rows' %d", r.typ, r.partBytes, r.rawBytes)
		}
		// Against compressed raw points (VictoriaMetrics' blocks), partials
		// win where a window holds many points: the hour windows of
		// double-groupby (360 points per series and field), not the minute
		// windows (6 points) of single-groupby, which cost about 4x more
		// (docs/scale-out.md).
		if vm := float64(r.rawPoints) * vmBytesPerPoint; strings.HasPrefix(r.typ, "double-groupby") && float64(r.partBytes) >= vm/2 {
			t.Errorf("%s: partial answers %d bytes, not under half the %d raw points at %.3f bytes (%.0f)", r.typ, r.partBytes, r.rawPoints, vmBytesPerPoint, vm)
		}
	}
	if measured < len(rows)-2 {
		t.Errorf("only %d of %d query types touched the peers' data", measured, len(rows))
	}
}

// peerBytesMetric sums strata_fanout_peer_bytes_total over the peers.
func peerBytesMetric(t *testing.T, base string) int64 {
	t.Helper()
	var n float64
	for _, l := range strings.Split(do(t, "GET", base+"/metrics", nil, nil).body, "\n") {
		if !strings.HasPrefix(l, "strata_fanout_peer_bytes_total{") {
			continue
		}
		v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", l, err)
		}
		n += v
	}
	return int64(n)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// timeQueries runs q on the single node and on the set alternately, once
// each to warm, then runs times each, and returns the times.
func timeQueries(t *testing.T, single, fanout, q string, runs int) (a, b []time.Duration) {
	t.Helper()
	queryOn(t, single, q, nil)
	queryOn(t, fanout, q, nil)
	for range runs {
		start := time.Now()
		queryOn(t, single, q, nil)
		a = append(a, time.Since(start))
		start = time.Now()
		queryOn(t, fanout, q, nil)
		b = append(b, time.Since(start))
	}
	return a, b
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

func mustSelect(t *testing.T, text string) *influxql.SelectStatement {
	t.Helper()
	q, err := influxql.ParseQuery(text)
	if err != nil {
		t.Fatal(err)
	}
	return q.Statements[0].(*influxql.SelectStatement)
}

func hasCall(stmt *influxql.SelectStatement) bool {
	for _, f := range stmt.Fields {
		if _, ok := f.Expr.(*influxql.Call); ok {
			return true
		}
	}
	return false
}

// rawEquivalents are, for a TSBS query, a count of the points a design
// shipping raw points moves (every point of the fields it reads, in its
// series and time range: a field condition is evaluated where the points
// arrive), and the raw SELECT of those points. A query without a time range
// (lastpoint) is counted over the last 5 minutes of the data: a PromQL
// instant query's lookback.
func rawEquivalents(q bench.Query, stmt *influxql.SelectStatement, dataEnd int64) (count, raw string, lookback bool) {
	var fields []string
	for _, f := range stmt.Fields {
		influxql.Walk(f.Expr, func(n influxql.Node) {
			switch n := n.(type) {
			case *influxql.Wildcard:
				fields = append(fields, bench.FieldNames[:]...)
			case *influxql.VarRef:
				fields = append(fields, n.Val)
			}
		})
	}
	slices.Sort(fields)
	fields = slices.Compact(fields)
	var where []string
	if q.Hosts != nil {
		var hs []string
		for _, h := range q.Hosts {
			hs = append(hs, fmt.Sprintf("hostname = 'host_%d'", h))
		}
		where = append(where, "("+strings.Join(hs, " OR ")+")")
	}
	start, end := q.Start, q.End
	if start == math.MinInt64 && end == math.MaxInt64 {
		start, end, lookback = dataEnd-int64(5*time.Minute), dataEnd, true
	}
	if start != math.MinInt64 {
		where = append(where, fmt.Sprintf("time >= %d", start))
	}
	if end != math.MaxInt64 {
		where = append(where, fmt.Sprintf("time < %d", end))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	counts := make([]string, len(fields))
	for i, f := range fields {
		counts[i] = "count(" + f + ")"
	}
	return "SELECT " + strings.Join(counts, ", ") + " FROM cpu" + cond,
		"SELECT " + strings.Join(fields, ", ") + " FROM cpu" + cond, lookback
}

// compressedAnswers is the size of the peers' answers to q, re-encoded as
// sent and compressed with zstd's default level.
func compressedAnswers(t *testing.T, c *cluster.Client, q string) int64 {
	t.Helper()
	answers, _, err := c.Partial(context.Background(), query.PartialRequest{Statement: q, Database: "benchmark", Now: time.Now()})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var n int64
	for _, a := range answers {
		body, err := nodewire.Append(nil, a.Resp)
		if err != nil {
			t.Fatal(err)
		}
		if len(body) != a.Bytes {
			t.Fatalf("%s: re-encoded answer of %s is %d bytes, sent %d", q, a.Peer, len(body), a.Bytes)
		}
		n += int64(len(enc.EncodeAll(body, nil)))
	}
	return n
}

// peerRaw asks the peers themselves, through the node protocol, how many
// points they hold for count's statement, and what raw would weigh on the
// wire as raw rows.
func peerRaw(t *testing.T, c *cluster.Client, count, raw string) (points, bytes int64) {
	t.Helper()
	ctx := context.Background()
	req := query.PartialRequest{Statement: count, Database: "benchmark", Now: time.Now()}
	answers, _, err := c.Partial(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", count, err)
	}
	for _, a := range answers {
		for _, s := range a.Resp.Series {
			for _, ws := range s.States {
				for _, w := range ws {
					for _, p := range w.State.Final(w.Start) {
						points += p.Value.(int64)
					}
				}
			}
		}
	}
	req.Statement = raw
	answers, _, err = c.Partial(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	for _, a := range answers {
		bytes += int64(a.Bytes)
	}
	return points, bytes
}

// fanoutWidth times queries sent to a receiver with no data of its own
// whose --peers name the set's three nodes again and again, P entries for
// each P of widths ("2,6,14,30"): the cost of P answers at the receiver.
// An empty query (a host no node has) measures the fixed cost per peer; a
// double-groupby-1 brings P copies of a node's states, as a set of P nodes
// each holding what one of the three holds would. All P requests run on
// this machine's cores, so the times are upper bounds of P machines'.
func fanoutWidth(t *testing.T, fs *fanoutSet, g *bench.QueryGen, widths string, runs int) {
	t.Helper()
	q, err := g.Next("double-groupby-1")
	if err != nil {
		t.Fatal(err)
	}
	start, end := time.Unix(0, fs.data.Time(0)).UTC().Format(time.RFC3339), time.Unix(0, fs.data.EndTime()).UTC().Format(time.RFC3339)
	empty := fmt.Sprintf("SELECT max(usage_user) FROM cpu WHERE hostname = 'host_none' AND time >= '%s' AND time < '%s' GROUP BY time(1m)", start, end)
	var b strings.Builder
	fmt.Fprintf(&b, "\nfan-out width (receiver without data; medians of %d runs)\n| peers | empty query ms | double-groupby-1 ms | double-groupby-1 bytes received |\n|---|---|---|---|\n", runs)
	for _, w := range strings.Split(widths, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || p < 1 {
			t.Fatalf("STRATA_FANOUT_WIDTH %q", widths)
		}
		var peers []string
		for i := range p {
			peers = append(peers, fs.nodes[i%len(fs.nodes)].Addr())
		}
		cfg := testConfig(t.TempDir())
		cfg.peers, cfg.queryCache, cfg.peerTimeout = strings.Join(peers, ","), 0, time.Minute
		s, base := startTestServer(t, cfg)
		if r := runQuery(t, base, "CREATE DATABASE benchmark"); r.status != 200 || strings.Contains(r.body, `"error"`) {
			t.Fatalf("CREATE DATABASE: %s", r.body)
		}
		timeOf := func(text string) time.Duration {
			queryOn(t, base, text, nil)
			var d []time.Duration
			for range runs {
				start := time.Now()
				r := queryOn(t, base, text, nil)
				d = append(d, time.Since(start))
				if strings.Contains(r.body, `"error"`) {
					t.Fatalf("%d peers: %s: %s", p, text, r.body)
				}
			}
			return median(d)
		}
		e, full := timeOf(empty), timeOf(q.Text)

		ex := queryOn(t, base, "EXPLAIN ANALYZE "+q.Text, nil)
		var bytes int64
		for _, m := range peerLine.FindAllStringSubmatch(ex.body, -1) {
			bytes += atoi(m[1])
		}
		fmt.Fprintf(&b, "| %d | %.2f | %.2f | %d |\n", p, ms(e), ms(full), bytes)
		s.shutdown(10 * time.Second)
	}
	t.Log(b.String())
}
