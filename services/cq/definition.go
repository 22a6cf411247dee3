package cq

import (
	"fmt"
	"slices"
	"time"

	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// definition is one parsed continuous query.
type definition struct {
	id       string // db + "\x00" + name: the key of every map here
	db, name string
	text     string // the normalized statement SHOW lists
	stmt     *influxql.CreateContinuousQueryStatement
	sched    schedule
	groupBy  influxql.GroupByTags
}

func cqID(db, name string) string { return db + "\x00" + name }

// newDefinition checks that stmt is a continuous query this service can run
// (the executor normalized it: sources and target are qualified).
func newDefinition(stmt *influxql.CreateContinuousQueryStatement) (*definition, error) {
	sel := stmt.Source
	if sel == nil || sel.Target == nil || sel.Target.Measurement == nil {
		return nil, fmt.Errorf("query isn't a valid continuous query")
	}
	interval, offset, err := sel.GroupByTime(time.Time{})
	if err != nil {
		return nil, err
	}
	if interval <= 0 {
		return nil, fmt.Errorf("continuous query %s has no GROUP BY time interval", stmt.Name)
	}
	for _, s := range sel.Sources {
		if _, ok := s.(*influxql.Measurement); !ok {
			return nil, fmt.Errorf("continuous query %s: subqueries in FROM are not supported by continuous queries", stmt.Name)
		}
	}
	return &definition{
		id: cqID(stmt.Database, stmt.Name), db: stmt.Database, name: stmt.Name,
		text: stmt.String(), stmt: stmt,
		sched:   schedule{interval: interval, offset: offset, every: stmt.ResampleEvery, forDur: stmt.ResampleFor},
		groupBy: sel.GroupByTags(),
	}, nil
}

// parseRecord parses a stored definition.
func parseRecord(r storage.ContinuousQueryRecord) (*definition, error) {
	st, err := influxql.ParseStatement(r.Query)
	if err != nil {
		return nil, fmt.Errorf("continuous query %s.%s: %w", r.Database, r.Name, err)
	}
	c, ok := st.(*influxql.CreateContinuousQueryStatement)
	if !ok {
		return nil, fmt.Errorf("continuous query %s.%s: stored text is not CREATE CONTINUOUS QUERY", r.Database, r.Name)
	}
	return newDefinition(c)
}

// source returns the FROM entry that reads measurement m of db.rp, if any.
func (d *definition) source(db, rp string, m []byte) *influxql.Measurement {
	for _, s := range d.stmt.Source.Sources {
		src := s.(*influxql.Measurement)
		if src.Database != db || src.RetentionPolicy != rp {
			continue
		}
		if src.Regex != nil && src.Regex.Val.Match(m) || src.Regex == nil && src.Name == string(m) {
			return src
		}
	}
	return nil
}

// reads lists the "db\x00rp" keys of the buckets the query reads.
func (d *definition) reads() []string {
	var out []string
	for _, s := range d.stmt.Source.Sources {
		src := s.(*influxql.Measurement)
		if k := src.Database + "\x00" + src.RetentionPolicy; !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// groupTags returns the tags of a series that form its GROUP BY group.
func (d *definition) groupTags(tags []storage.Tag) []storage.Tag {
	if d.groupBy.All {
		return tags
	}
	var out []storage.Tag
	for _, t := range tags {
		if d.groupsBy(string(t.Key)) {
			out = append(out, t)
		}
	}
	return out
}

// groupsBy tells whether tag key k is a GROUP BY dimension.
func (d *definition) groupsBy(k string) bool {
	if d.groupBy.All || slices.Contains(d.groupBy.Keys, k) {
		return true
	}
	for _, re := range d.groupBy.Regexes {
		if re.MatchString(k) {
			return true
		}
	}
	return false
}

// groupKey is the identity of a series' group: its measurement and group
// tags, in series-key form. "" stands for every group.
func (d *definition) groupKey(seriesKey []byte) (string, bool) {
	m, tags, err := storage.ParseSeriesKey(seriesKey, nil)
	if err != nil {
		return "", false
	}
	return string(storage.AppendSeriesKey(nil, m, d.groupTags(tags))), true
}
