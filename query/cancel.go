package query

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/strata-db/strata/query/influxql"
)

// The texts InfluxDB 1.x answers a stopped query with, in results[i].error.
var (
	// errKilled ends a query stopped by KILL QUERY.
	errKilled = errors.New("query interrupted")
	// errAborted ends a query whose client went away (nobody reads the text; it
	// shows in logs).
	errAborted = errors.New("query aborted")
	// errTimeout ends a statement that ran longer than Limits.Timeout.
	errTimeout = errors.New("query-timeout limit exceeded")
)

// checkEvery is how many rows a loop handles between two looks at its context:
// often enough that a stopped query lets go of its core within milliseconds even
// when a row costs microseconds (a 1,000-way OR), rarely enough to cost nothing.
const checkEvery = 1024

// canceller is a per-loop counter that looks at the statement's context once the
// loop has done checkEvery units of work (a row is one unit, or more when it is
// costly to evaluate) and adds the rows it saw to the executor's examined-rows
// counter (which makes the engine's progress, and its stopping, observable).
// One canceller belongs to one goroutine; make one per loop with
// Executor.canceller.
type canceller struct {
	ctx  context.Context
	rows int
	work int
	sum  *atomic.Int64
}

func (e *Executor) canceller(ctx context.Context) canceller {
	return canceller{ctx: ctx, sum: &e.rowsExamined}
}

// tick counts one row of unit cost; every checkEvery rows it returns the
// context's error.
func (c *canceller) tick() error { return c.tickCost(1) }

// tickCost counts one row that cost about w units (a field condition of many
// terms): the check comes after fewer rows.
func (c *canceller) tickCost(w int) error {
	c.rows++
	c.work += w
	if c.work < checkEvery {
		return nil
	}
	return c.flush()
}

// add counts n rows at once (a block), then looks at the context.
func (c *canceller) add(n int) error {
	c.rows += n
	return c.flush()
}

func (c *canceller) flush() error {
	if c.sum != nil {
		c.sum.Add(int64(c.rows))
	}
	c.rows, c.work = 0, 0
	return stopErr(c.ctx)
}

// condCost is the cost in canceller units of evaluating cond on one row: about a
// unit per eight terms, so a 2,000-way OR is checked every other row or so.
func condCost(cond influxql.Expr) int {
	if cond == nil {
		return 1
	}
	n := 0
	influxql.Walk(cond, func(influxql.Node) { n++ })
	return 1 + n/8
}

// stopErr is ctx's error as the reason the query stopped (errKilled, errTimeout,
// errAborted), nil while it runs.
func stopErr(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	if cause := context.Cause(ctx); cause != nil && (errors.Is(cause, errKilled) || errors.Is(cause, errTimeout)) {
		return cause
	}
	return errAborted
}

// RowsExamined is how many rows (points and series) the executor's loops have
// handled since it started: a progress counter for metrics and tests.
func (e *Executor) RowsExamined() int64 { return e.rowsExamined.Load() }
