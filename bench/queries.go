package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// family is the shape of a TSBS query type; the numbers of a type (metrics, hosts,
// hours) are in its querySpec.
type family uint8

const (
	singleGroupby       family = iota + 1 // max of M metrics of H hosts per minute over T hours
	maxAll                                // max of all metrics of H hosts per minute over 8 hours
	doubleGroupby                         // mean of M metrics per hour and host over 12 hours
	highCPU                               // rows with usage_user > 90 of H hosts (0: all) over 12 hours
	lastpoint                             // the last row of every host
	groupbyOrderbyLimit                   // max usage_user per minute before a random time, first 5 minutes
)

// The windows of TSBS's devops query generator (uses/devops/common.go).
const (
	doubleGroupbyWindow = 12 * time.Hour
	highCPUWindow       = 12 * time.Hour
	maxAllWindow        = 8 * time.Hour
	orderbyLimitWindow  = time.Hour // only its end is used: "time < end"
)

// highCPUThreshold is TSBS's "usage_user > 90.0", in hundredths.
const highCPUThreshold = 90_00

// orderbyLimit is the LIMIT of groupby-orderby-limit.
const orderbyLimit = 5

type querySpec struct {
	fam     family
	metrics int
	hosts   int // 0: all hosts
	window  time.Duration
}

var querySpecs = map[string]querySpec{
	"single-groupby-1-1-1":  {singleGroupby, 1, 1, time.Hour},
	"single-groupby-1-1-12": {singleGroupby, 1, 1, 12 * time.Hour},
	"single-groupby-1-8-1":  {singleGroupby, 1, 8, time.Hour},
	"single-groupby-5-1-1":  {singleGroupby, 5, 1, time.Hour},
	"single-groupby-5-1-12": {singleGroupby, 5, 1, 12 * time.Hour},
	"single-groupby-5-8-1":  {singleGroupby, 5, 8, time.Hour},
	"cpu-max-all-1":         {maxAll, NumFields, 1, maxAllWindow},
	"cpu-max-all-8":         {maxAll, NumFields, 8, maxAllWindow},
	"double-groupby-1":      {doubleGroupby, 1, 0, doubleGroupbyWindow},
	"double-groupby-5":      {doubleGroupby, 5, 0, doubleGroupbyWindow},
	"double-groupby-all":    {doubleGroupby, NumFields, 0, doubleGroupbyWindow},
	"high-cpu-1":            {highCPU, NumFields, 1, highCPUWindow},
	"high-cpu-all":          {highCPU, NumFields, 0, highCPUWindow},
	"lastpoint":             {lastpoint, NumFields, 0, 0},
	"groupby-orderby-limit": {groupbyOrderbyLimit, 1, 0, orderbyLimitWindow},
}

// QueryTypes are the TSBS devops query types, in TSBS's documentation order.
var QueryTypes = []string{
	"single-groupby-1-1-1", "single-groupby-1-1-12", "single-groupby-1-8-1",
	"single-groupby-5-1-1", "single-groupby-5-1-12", "single-groupby-5-8-1",
	"cpu-max-all-1", "cpu-max-all-8",
	"double-groupby-1", "double-groupby-5", "double-groupby-all",
	"high-cpu-1", "high-cpu-all",
	"lastpoint", "groupby-orderby-limit",
}

// Query is one generated query: the InfluxQL text as TSBS writes it for InfluxDB and
// the parameters Expected needs to compute its answer.
type Query struct {
	Type  string
	Text  string
	Hosts []int // host numbers in the hostname filter, in the order written; nil: all hosts
	// The time range is [Start, End). Start is math.MinInt64 when the query has no
	// lower bound; End is math.MaxInt64 when it has no upper bound.
	Start, End int64
}

// QueryGen draws queries for a data set. It is deterministic: the same seed, data
// range and sequence of calls give the same queries.
type QueryGen struct {
	rng        *rand.Rand
	hosts      int
	start, end int64
}

// NewQueryGen returns a generator for a data set of hosts hosts covering
// [start, end) in nanoseconds.
func NewQueryGen(seed uint64, hosts int, start, end int64) *QueryGen {
	// The second word keeps query draws unrelated to host 0's data stream.
	return &QueryGen{rng: rand.New(rand.NewPCG(splitmix(seed), splitmix(^seed))), hosts: hosts, start: start, end: end}
}

// Next draws a query of type typ.
//
// Two deliberate differences from TSBS keep tiny data sets usable: a query asking for
// more hosts than exist uses all of them (TSBS refuses), and a window longer than the
// data starts at the first point (TSBS refuses).
func (g *QueryGen) Next(typ string) (Query, error) {
	spec, ok := querySpecs[typ]
	if !ok {
		return Query{}, fmt.Errorf("unknown query type %q", typ)
	}
	q := Query{Type: typ, Start: math.MinInt64, End: math.MaxInt64}
	metrics := FieldNames[:spec.metrics]
	switch spec.fam {
	case singleGroupby, maxAll:
		q.Start, q.End = g.window(spec.window)
		q.Hosts = g.randomHosts(spec.hosts)
		sep := ", "
		if spec.fam == maxAll {
			sep = "," // TSBS joins cpu-max-all's selectors without a space
		}
		q.Text = fmt.Sprintf("SELECT %s from cpu where %s and time >= '%s' and time < '%s' group by time(1m)",
			aggList("max", metrics, sep), hostWhere(q.Hosts), rfc3339(q.Start), rfc3339(q.End))
	case doubleGroupby:
		q.Start, q.End = g.window(spec.window)
		q.Text = fmt.Sprintf("SELECT %s from cpu where time >= '%s' and time < '%s' group by time(1h),hostname",
			aggList("mean", metrics, ", "), rfc3339(q.Start), rfc3339(q.End))
	case highCPU:
		q.Start, q.End = g.window(spec.window)
		hostClause := ""
		if spec.hosts > 0 {
			q.Hosts = g.randomHosts(spec.hosts)
			hostClause = "and " + hostWhere(q.Hosts)
		}
		q.Text = fmt.Sprintf("SELECT * from cpu where usage_user > 90.0 %s and time >= '%s' and time < '%s'",
			hostClause, rfc3339(q.Start), rfc3339(q.End))
	case lastpoint:
		q.Text = `SELECT * from cpu group by "hostname" order by time desc limit 1`
	case groupbyOrderbyLimit:
		_, q.End = g.window(spec.window)
		q.Text = fmt.Sprintf("SELECT max(usage_user) from cpu WHERE time < '%s' group by time(1m) limit %d",
			rfc3339(q.End), orderbyLimit)
	}
	return q, nil
}

// window draws a window of length w with a uniformly random start, like TSBS's
// RandWindow. TSBS prints the bounds in RFC 3339 without fractions, which truncates
// them to the second; the window is truncated here so that it is what the text says.
func (g *QueryGen) window(w time.Duration) (int64, int64) {
	lo, hi := g.start, g.end-int64(w)
	s := lo
	if hi > lo {
		s = lo + g.rng.Int64N(hi-lo)
	}
	s -= s % int64(time.Second)
	return s, s + int64(w)
}

// randomHosts draws n distinct host numbers in draw order, like TSBS's
// getRandomSubsetPerm.
func (g *QueryGen) randomHosts(n int) []int {
	n = min(n, g.hosts)
	seen := make(map[int]bool, n)
	out := make([]int, 0, n)
	for len(out) < n {
		h := g.rng.IntN(g.hosts)
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

func aggList(agg string, metrics []string, sep string) string {
	parts := make([]string, len(metrics))
	for i, m := range metrics {
		parts[i] = agg + "(" + m + ")"
	}
	return strings.Join(parts, sep)
}

func hostWhere(hosts []int) string {
	parts := make([]string, len(hosts))
	for i, h := range hosts {
		parts[i] = "hostname = 'host_" + strconv.Itoa(h) + "'"
	}
	return "(" + strings.Join(parts, " or ") + ")"
}

func rfc3339(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339)
}
