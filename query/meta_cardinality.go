package query

import (
	"context"

	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// SHOW TAG KEY, TAG VALUES and FIELD KEY [EXACT] CARDINALITY: one "count" series
// per measurement, measurements with nothing to count left out. InfluxDB 1.x
// answers these from the index with or without EXACT, and so does Strata; the
// counts are those of the matching SHOW listing, so they cannot disagree with it.

func countSeries(m string, n int) *ResultSeries {
	return &ResultSeries{Name: m, Columns: []string{"count"}, NoTime: true, Rows: []Row{{Values: []any{int64(n)}}}}
}

func (e *Executor) showTagKeyCardinality(ctx context.Context, s *influxql.ShowTagKeyCardinalityStatement, opts ExecOptions) (*StatementResult, error) {
	if hasTimeRef(s.Condition) {
		return nil, errorf("SHOW TAG KEY EXACT CARDINALITY doesn't support time in WHERE clause")
	}
	keys, err := e.showTagKeys(ctx, &influxql.ShowTagKeysStatement{Database: s.Database, Sources: s.Sources, Condition: s.Condition}, opts)
	if err != nil {
		return nil, err
	}
	res := &StatementResult{}
	for _, ser := range keys.Series {
		res.Series = append(res.Series, countSeries(ser.Name, len(ser.Rows)))
	}
	return res, nil
}

// showTagValuesCardinality counts the distinct values of the selected keys, as
// 1.x's count(distinct(_tagValue)): a value two keys share counts once.
func (e *Executor) showTagValuesCardinality(ctx context.Context, s *influxql.ShowTagValuesCardinalityStatement, opts ExecOptions) (*StatementResult, error) {
	if hasTimeRef(s.Condition) {
		return nil, errorf("SHOW TAG VALUES EXACT CARDINALITY doesn't support time in WHERE clause")
	}
	vals, err := e.showTagValues(ctx, &influxql.ShowTagValuesStatement{Database: s.Database, Sources: s.Sources,
		Op: s.Op, TagKeyExpr: s.TagKeyExpr, Condition: s.Condition}, opts)
	if err != nil {
		return nil, err
	}
	res := &StatementResult{}
	for _, ser := range vals.Series {
		distinct := map[any]struct{}{}
		for _, r := range ser.Rows {
			distinct[r.Values[1]] = struct{}{}
		}
		res.Series = append(res.Series, countSeries(ser.Name, len(distinct)))
	}
	return res, nil
}

// showFieldKeyCardinality counts the fields of each measurement; a WHERE on tags
// keeps the measurements with a matching series.
func (e *Executor) showFieldKeyCardinality(ctx context.Context, s *influxql.ShowFieldKeyCardinalityStatement, opts ExecOptions) (*StatementResult, error) {
	if hasTimeRef(s.Condition) {
		return nil, errorf("SHOW FIELD KEY EXACT CARDINALITY doesn't support time in WHERE clause")
	}
	expr, err := tagExpr(s.Condition)
	if err != nil {
		return nil, err
	}
	db, err := e.existingDB(s.Database, opts)
	if err != nil {
		return nil, err
	}
	targets, err := e.sourceTargets(db, s.Sources, opts)
	if err != nil {
		return nil, err
	}
	res := &StatementResult{}
	err = e.eachMeasurement(ctx, targets, expr, func(b storage.BucketID, m string) error {
		fields, err := e.store.Fields(b, m)
		if err == nil && len(fields) > 0 {
			res.Series = append(res.Series, countSeries(m, len(fields)))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
