// Multi-node SHOW statements. Each node indexes only its own series, so a
// SHOW sent to one node of a set is the union of every node's listing: the
// receiver runs the listing without LIMIT and OFFSET here and on every peer
// (the same POST as a SELECT's partial execution, answered as result series),
// takes the union, sorts it as one node sorts, and then applies LIMIT,
// OFFSET, SLIMIT and SOFFSET. A cardinality is counted on the union of the
// listing it counts (a tag value two nodes hold counts once), except the
// bare SHOW SERIES CARDINALITY, an estimate on one node too, which adds the
// nodes' counts.
package query

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/query/nodewire"
)

// showMerge is how one SHOW statement is answered by the set: the listings
// to run on every node and how to make the answer of their unions.
type showMerge struct {
	listings []influxql.Statement
	// finish makes the answer from each listing's results, every node's
	// series appended (the local node's first).
	finish func(results [][]*ResultSeries) *StatementResult
}

// mergedShow tells a statement a peer runs for a SHOW fan-out: a listing
// (which planShow sends) as it is.
func mergedShow(stmt influxql.Statement) (influxql.Statement, bool) {
	switch s := stmt.(type) {
	case *influxql.ShowMeasurementsStatement, *influxql.ShowTagKeysStatement, *influxql.ShowTagValuesStatement,
		*influxql.ShowFieldKeysStatement, *influxql.ShowSeriesStatement, *influxql.ShowSeriesCardinalityStatement:
		return s, true
	}
	return nil, false
}

// showPartial answers a peer's SHOW listing with this node's result series.
func (e *Executor) showPartial(ctx context.Context, stmt influxql.Statement, opts ExecOptions, node string) (*nodewire.Response, error) {
	if err := authorize(stmt, opts); err != nil {
		return nil, err
	}
	mem := &stmtMem{b: opts.Budget}
	defer mem.end()
	res, err := e.executeMeta(withMem(ctx, mem), stmt, opts)
	if err != nil {
		return nil, err
	}
	out := &nodewire.Response{Node: node}
	if res == nil {
		return out, nil
	}
	for _, s := range res.Series {
		r := nodewire.Result{Name: s.Name, Tags: s.Tags, Columns: s.Columns, Rows: make([][]any, len(s.Rows))}
		for i, row := range s.Rows {
			r.Rows[i] = row.Values
		}
		out.Results = append(out.Results, r)
	}
	return out, nil
}

// showFanout answers a SHOW statement from every node of the set; ok is
// false for a statement it does not merge (meta.go answers it alone).
func (e *Executor) showFanout(ctx context.Context, stmt influxql.Statement, opts ExecOptions) (*StatementResult, bool, error) {
	if e.fanout == nil || opts.partialExec {
		return nil, false, nil
	}
	m, err := planShow(stmt)
	if m == nil || err != nil {
		return nil, err != nil, err
	}
	results := make([][]*ResultSeries, len(m.listings))
	var missing []string
	for i, l := range m.listings {
		local, err := e.executeMeta(ctx, l, opts)
		if err != nil {
			return nil, true, err
		}
		if local != nil {
			results[i] = local.Series
		}
		answers, miss, err := e.fanout.Partial(ctx, PartialRequest{Statement: l.String(), Database: opts.Database,
			RetentionPolicy: opts.RetentionPolicy, Now: opts.Now, AllowPartial: opts.AllowPartial, User: userOf(opts.Auth)})
		if err != nil {
			return nil, true, err
		}
		for _, a := range answers {
			for _, r := range a.Resp.Results {
				rs := &ResultSeries{Name: r.Name, Tags: r.Tags, Columns: r.Columns, NoTime: true, Rows: make([]Row, len(r.Rows))}
				for j, v := range r.Rows {
					rs.Rows[j] = Row{Values: v}
				}
				results[i] = append(results[i], rs)
			}
		}
		if i == 0 {
			missing = miss
		}
	}
	res := m.finish(results)
	for _, w := range missingWarnings(missing) {
		res.Messages = append(res.Messages, ResponseMessage{Level: "warning", Text: w})
	}
	res.Incomplete = len(missing) > 0
	return res, true, nil
}

// planShow is the merge of stmt, nil for a statement that is not merged.
func planShow(stmt influxql.Statement) (*showMerge, error) {
	one := func(l influxql.Statement, f func([]*ResultSeries) *StatementResult) *showMerge {
		return &showMerge{listings: []influxql.Statement{l}, finish: func(r [][]*ResultSeries) *StatementResult { return f(r[0]) }}
	}
	noTime := func(what string, cond influxql.Expr) error {
		if hasTimeRef(cond) {
			return errorf("SHOW %s EXACT CARDINALITY doesn't support time in WHERE clause", what)
		}
		return nil
	}
	switch s := stmt.(type) {
	case *influxql.ShowMeasurementsStatement:
		l := *s
		l.Limit, l.Offset = 0, 0
		return one(&l, func(rs []*ResultSeries) *StatementResult {
			names := unionColumn(rs, 0)["measurements"]
			lo, hi := paginate(len(names), s.Limit, s.Offset)
			if lo == hi {
				return &StatementResult{}
			}
			return result(&ResultSeries{Name: "measurements", Columns: []string{"name"}, NoTime: true, Rows: stringRows(names[lo:hi])})
		}), nil
	case *influxql.ShowTagKeysStatement:
		l := *s
		l.Limit, l.Offset, l.SLimit, l.SOffset = 0, 0, 0, 0
		return one(&l, func(rs []*ResultSeries) *StatementResult {
			res := &StatementResult{}
			per := unionColumn(rs, 0)
			skip := s.SOffset
			for _, m := range sortedNames(per) {
				if !addTagKeys(res, s, &skip, m, per[m]) {
					break
				}
			}
			return res
		}), nil
	case *influxql.ShowTagValuesStatement:
		l := *s
		l.Limit, l.Offset = 0, 0
		return one(&l, func(rs []*ResultSeries) *StatementResult {
			return unionRows(rs, []string{"key", "value"}, s.Limit, s.Offset)
		}), nil
	case *influxql.ShowFieldKeysStatement:
		l := *s
		l.Limit, l.Offset = 0, 0
		return one(&l, func(rs []*ResultSeries) *StatementResult {
			return unionRows(rs, []string{"fieldKey", "fieldType"}, s.Limit, s.Offset)
		}), nil
	case *influxql.ShowSeriesStatement:
		l := *s
		l.Limit, l.Offset = 0, 0
		return one(&l, func(rs []*ResultSeries) *StatementResult {
			keys := seriesKeys(rs)
			lo, hi := paginate(len(keys), s.Limit, s.Offset)
			if lo == hi {
				return &StatementResult{}
			}
			return result(&ResultSeries{Columns: []string{"key"}, NoTime: true, Rows: stringRows(keys[lo:hi])})
		}), nil
	case *influxql.ShowTagKeyCardinalityStatement:
		if err := noTime("TAG KEY", s.Condition); err != nil {
			return nil, err
		}
		return one(&influxql.ShowTagKeysStatement{Database: s.Database, Sources: s.Sources, Condition: s.Condition},
			func(rs []*ResultSeries) *StatementResult { return countPer(unionColumn(rs, 0)) }), nil
	case *influxql.ShowTagValuesCardinalityStatement:
		if err := noTime("TAG VALUES", s.Condition); err != nil {
			return nil, err
		}
		return one(&influxql.ShowTagValuesStatement{Database: s.Database, Sources: s.Sources, Op: s.Op, TagKeyExpr: s.TagKeyExpr, Condition: s.Condition},
			func(rs []*ResultSeries) *StatementResult { return countPer(unionColumn(rs, 1)) }), nil
	case *influxql.ShowFieldKeyCardinalityStatement:
		if err := noTime("FIELD KEY", s.Condition); err != nil {
			return nil, err
		}
		fields := &influxql.ShowFieldKeysStatement{Database: s.Database, Sources: s.Sources}
		if s.Condition == nil {
			return one(fields, func(rs []*ResultSeries) *StatementResult { return countPer(unionColumn(rs, 0)) }), nil
		}
		// The measurements with a series matching WHERE on some node, and
		// the fields every node has of them.
		matching := &influxql.ShowSeriesCardinalityStatement{Exact: true, Database: s.Database, Sources: s.Sources, Condition: s.Condition}
		return &showMerge{listings: []influxql.Statement{fields, matching}, finish: func(r [][]*ResultSeries) *StatementResult {
			per := unionColumn(r[0], 0)
			keep := unionColumn(r[1], 0)
			for m := range per {
				if _, ok := keep[m]; !ok {
					delete(per, m)
				}
			}
			return countPer(per)
		}}, nil
	case *influxql.ShowSeriesCardinalityStatement:
		if estimated(s.Exact, s.Sources, s.Condition) {
			return one(s, func(rs []*ResultSeries) *StatementResult {
				var n int64
				for _, r := range rs {
					for _, row := range r.Rows {
						n += asInt64(row.Values[0])
					}
				}
				return result(&ResultSeries{Columns: []string{"cardinality estimation"}, NoTime: true, Rows: []Row{{Values: []any{n}}}})
			}), nil
		}
		if err := noTime("SERIES", s.Condition); err != nil {
			return nil, err
		}
		return one(&influxql.ShowSeriesStatement{Database: s.Database, Sources: s.Sources, Condition: s.Condition},
			func(rs []*ResultSeries) *StatementResult {
				per := map[string][]string{}
				for _, k := range seriesKeys(rs) {
					m := keyMeasurement(k)
					per[m] = append(per[m], k)
				}
				return countPer(per)
			}), nil
	case *influxql.ShowMeasurementCardinalityStatement:
		if estimated(s.Exact, s.Sources, s.Condition) {
			return one(&influxql.ShowMeasurementsStatement{Database: s.Database}, func(rs []*ResultSeries) *StatementResult {
				n := int64(len(unionColumn(rs, 0)["measurements"]))
				return result(&ResultSeries{Columns: []string{"cardinality estimation"}, NoTime: true, Rows: []Row{{Values: []any{n}}}})
			}), nil
		}
		if err := noTime("MEASUREMENT", s.Condition); err != nil {
			return nil, err
		}
		return one(&influxql.ShowSeriesCardinalityStatement{Exact: true, Database: s.Database, Sources: s.Sources, Condition: s.Condition},
			func(rs []*ResultSeries) *StatementResult {
				n := int64(len(unionColumn(rs, 0)))
				if n == 0 {
					return &StatementResult{}
				}
				return result(&ResultSeries{Columns: []string{"count"}, NoTime: true, Rows: []Row{{Values: []any{n}}}})
			}), nil
	}
	return nil, nil
}

// unionColumn is, per series name, the sorted distinct values of column col
// (a name with no rows is present, empty).
func unionColumn(rs []*ResultSeries, col int) map[string][]string {
	sets := map[string]map[string]bool{}
	for _, r := range rs {
		if sets[r.Name] == nil {
			sets[r.Name] = map[string]bool{}
		}
		for _, row := range r.Rows {
			if col < len(row.Values) {
				sets[r.Name][fmt.Sprint(row.Values[col])] = true
			}
		}
	}
	out := make(map[string][]string, len(sets))
	for name, set := range sets {
		vals := make([]string, 0, len(set))
		for v := range set {
			vals = append(vals, v)
		}
		sort.Strings(vals)
		out[name] = vals
	}
	return out
}

// unionRows merges two-column listings (TAG VALUES, FIELD KEYS) per series
// name: rows sorted by the first column then the second, a first column
// that repeats with another second kept once (the first node's: a field
// typed differently on two nodes shows the receiver's type), then
// LIMIT/OFFSET per series.
func unionRows(rs []*ResultSeries, cols []string, limit, offset int) *StatementResult {
	byName := map[string]map[[2]string]bool{}
	firstOf := map[string]map[string]string{} // FIELD KEYS: a key's first type
	for _, r := range rs {
		if byName[r.Name] == nil {
			byName[r.Name], firstOf[r.Name] = map[[2]string]bool{}, map[string]string{}
		}
		for _, row := range r.Rows {
			k, v := fmt.Sprint(row.Values[0]), fmt.Sprint(row.Values[1])
			if cols[0] == "fieldKey" {
				if t, ok := firstOf[r.Name][k]; ok {
					v = t
				}
				firstOf[r.Name][k] = v
			}
			byName[r.Name][[2]string{k, v}] = true
		}
	}
	res := &StatementResult{}
	for _, name := range sortedNames(byName) {
		pairs := make([][2]string, 0, len(byName[name]))
		for p := range byName[name] {
			pairs = append(pairs, p)
		}
		slices.SortFunc(pairs, func(a, b [2]string) int {
			if c := strings.Compare(a[0], b[0]); c != 0 {
				return c
			}
			return strings.Compare(a[1], b[1])
		})
		lo, hi := paginate(len(pairs), limit, offset)
		if lo == hi {
			continue
		}
		ser := &ResultSeries{Name: name, Columns: cols, NoTime: true}
		for _, p := range pairs[lo:hi] {
			ser.Rows = append(ser.Rows, Row{Values: []any{p[0], p[1]}})
		}
		res.Series = append(res.Series, ser)
	}
	return res
}

// countPer is the "count" series of each name with something to count.
func countPer(per map[string][]string) *StatementResult {
	res := &StatementResult{}
	for _, m := range sortedNames(per) {
		if len(per[m]) > 0 {
			res.Series = append(res.Series, countSeries(m, len(per[m])))
		}
	}
	return res
}

// seriesKeys are the distinct keys of SHOW SERIES answers in one node's
// order: by measurement, then by key.
func seriesKeys(rs []*ResultSeries) []string {
	var keys []string
	for _, k := range unionColumn(rs, 0) {
		keys = append(keys, k...)
	}
	sort.Strings(keys)
	keys = slices.Compact(keys)
	sort.SliceStable(keys, func(i, j int) bool { return keyMeasurement(keys[i]) < keyMeasurement(keys[j]) })
	return keys
}

// keyMeasurement is the measurement of a series key as SHOW SERIES prints
// it (appendSeriesKey): up to the first unescaped comma, unescaped.
func keyMeasurement(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c == '\\' && i+1 < len(key) && (key[i+1] == ',' || key[i+1] == ' ') {
			b.WriteByte(key[i+1])
			i++
			continue
		}
		if c == ',' {
			break
		}
		b.WriteByte(c)
	}
	return b.String()
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func asInt64(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case uint64:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}
