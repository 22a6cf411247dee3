package query

import (
	"context"
	"slices"
	"sort"

	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// intoBatchPoints is how many points SELECT ... INTO gathers before writing them:
// the statement's rows stream through a batch of this size instead of being
// held whole.
const intoBatchPoints = 10_000

// intoWriter runs the writing side of SELECT ... INTO: the result rows become
// points of the target measurement (GROUP BY tags become tags) as they stream,
// and the answer is the count written.
type intoWriter struct {
	e       *Executor
	ctx     context.Context
	stmt    *influxql.SelectStatement
	opts    ExecOptions
	tagCols []string // result columns that are tags in the target (top/bottom's tag arguments)
	bucket  storage.BucketID
	ready   bool
	batch   *storage.Batch
	written int64
	seen    func(t int64, complete bool) // if set, told of every point added, complete if no column was null (continuous.go)
	// sink, if set, takes the points instead of this node's engine
	// (RunContinuousQueryTo); pending holds them until a flush.
	sink    PointSink
	pending []Point
}

// open resolves the target and starts a batch; done on the first rows (so that
// an error of the SELECT itself comes first, as before) or at the end.
func (w *intoWriter) open() error {
	if w.ready {
		return nil
	}
	t := w.stmt.Target.Measurement
	b, _, err := w.e.resolveBucket(t.Database, t.RetentionPolicy, w.opts)
	if err != nil {
		return err
	}
	w.bucket, w.ready = b, true
	return w.newBatch()
}

func (w *intoWriter) newBatch() error {
	if w.sink != nil {
		w.pending = nil // the sink may keep the last slice
		return nil
	}
	batch, err := w.e.store.NewBatch(w.bucket)
	if err != nil {
		return err
	}
	w.batch = batch
	return nil
}

// add turns one piece of the result into points, writing a batch when it fills.
func (w *intoWriter) add(rs *ResultSeries) error {
	if err := w.open(); err != nil {
		return err
	}
	t := w.stmt.Target.Measurement
	name := t.Name
	if name == "" || name == ":MEASUREMENT" {
		name = rs.Name
	}
	tags := make([]storage.Tag, 0, len(rs.Tags))
	for _, k := range sortedKeys(rs.Tags) {
		if rs.Tags[k] != "" {
			tags = append(tags, storage.Tag{Key: []byte(k), Value: []byte(rs.Tags[k])})
		}
	}
	cc := w.e.canceller(w.ctx)
	for _, row := range rs.Rows {
		if err := cc.tick(); err != nil {
			return err
		}
		var fields []storage.FieldValue
		rowTags := tags
		valueCols := 0
		for i, v := range row.Values {
			col := rs.Columns[i+1]
			if slices.Contains(w.tagCols, col) {
				if s, ok := v.(string); ok && s != "" && rs.Tags[col] == "" {
					rowTags = append(rowTags[:len(rowTags):len(rowTags)], storage.Tag{Key: []byte(col), Value: []byte(s)})
				}
				continue
			}
			valueCols++
			if f, ok := fieldValueOf(col, v); ok {
				fields = append(fields, f)
			}
		}
		if len(fields) == 0 {
			continue
		}
		if len(rowTags) > len(tags) {
			sort.Slice(rowTags, func(i, j int) bool { return string(rowTags[i].Key) < string(rowTags[j].Key) })
		}
		n := len(w.pending)
		if w.sink != nil {
			w.pending = append(w.pending, Point{Measurement: name, Tags: rowTags, Fields: fields, Time: row.Time})
			n++
		} else {
			_ = w.batch.Add([]byte(name), rowTags, fields, row.Time) // a rejected point is not counted
			n = w.batch.Len()
		}
		if w.seen != nil {
			w.seen(row.Time, len(fields) == valueCols)
		}
		if n >= intoBatchPoints {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush writes the batch and starts the next.
func (w *intoWriter) flush() error {
	if w.sink != nil {
		t := w.stmt.Target.Measurement
		if len(w.pending) > 0 {
			if err := w.sink.WritePoints(w.ctx, t.Database, t.RetentionPolicy, w.pending); err != nil {
				return err
			}
		}
		w.written += int64(len(w.pending))
		return w.newBatch()
	}
	res, err := w.e.store.Write(w.batch)
	if err != nil {
		return err
	}
	w.written += int64(res.Written)
	return w.newBatch()
}

// result writes what is left and answers the count of points written.
func (w *intoWriter) result() (*StatementResult, error) {
	if err := w.open(); err != nil {
		return nil, err
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	return &StatementResult{Series: []*ResultSeries{{
		Name:    "result",
		Columns: []string{"time", "written"},
		Rows:    []Row{{Time: 0, Values: []any{w.written}}},
	}}}, nil
}
