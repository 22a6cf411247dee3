package httpapi

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-db/strata/query/influxql"
)

// Admission caps the queries that run at once and the ones waiting for a
// turn. A query is CPU- and memory-bound (each may hold up to
// --max-query-memory): past a few per core, running more only makes every
// one of them slower and the process larger, so the rest wait in a short
// queue, and beyond the queue the answer is 503 with Retry-After.
//
// It is safe for concurrent use.
type Admission struct {
	slots     chan struct{} // one token per running query
	maxQueued int64
	queued    atomic.Int64
	nearLimit func() bool // the process near --memory-limit: refuse (nil: never)

	rejected prometheus.Counter
	waited   prometheus.Histogram
}

// DefaultMaxConcurrentQueries is two queries per core (at least four): enough
// to overlap one query's waits for disk with another's work, while a burst of
// dashboard panels queues instead of splitting the cores between all of them.
func DefaultMaxConcurrentQueries() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// DefaultMaxQueuedQueries: a Grafana dashboard of a few dozen panels sends
// them at once; a waiting query costs only its parsed statement.
const DefaultMaxQueuedQueries = 64

// retryAfterQueries is what a refused query is told to wait, in seconds: a
// dashboard query takes from milliseconds to a few seconds.
const retryAfterQueries = "1"

// SetMemoryPressure makes the admission refuse queries (503, as beyond the
// queue) while near reports true: the live heap near --memory-limit. Call it
// before the admission is used.
func (a *Admission) SetMemoryPressure(near func() bool) { a.nearLimit = near }

// errMemoryPressure refuses a query while the process is near its memory limit.
var errMemoryPressure = errors.New("server near its memory limit (--memory-limit): retry later")

// errTooManyQueries is the refusal beyond the queue.
var errTooManyQueries = errors.New("too many queries")

// NewAdmission returns an admission control of maxRunning concurrent queries
// (<= 0: no limit, and no queue) and maxQueued waiting ones, registering its
// metrics with reg (if not nil).
func NewAdmission(maxRunning, maxQueued int, reg prometheus.Registerer) *Admission {
	a := &Admission{
		maxQueued: int64(max(0, maxQueued)),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_query_rejected_total",
			Help: "Queries answered 503: --max-concurrent-queries running and --max-queued-queries waiting, or the server near --memory-limit.",
		}),
		waited: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "strata_query_queue_wait_seconds",
			Help:    "Time queries waited for a turn to run (admitted at once: 0).",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}),
	}
	if maxRunning > 0 {
		a.slots = make(chan struct{}, maxRunning)
	}
	if reg != nil {
		reg.MustRegister(a.rejected, a.waited,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "strata_query_running",
				Help: "Queries running now under --max-concurrent-queries.",
			}, func() float64 { return float64(len(a.slots)) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "strata_query_queued",
				Help: "Queries waiting for a turn under --max-queued-queries.",
			}, func() float64 { return float64(a.queued.Load()) }))
	}
	return a
}

// ticket is a query's place: a turn to run, or a place in the queue.
type ticket struct {
	a       *Admission
	running bool // holds a slot
	queued  bool // holds a place in the queue
	since   time.Time
}

// enter gives q a turn at once, or a place in the queue, or
// errTooManyQueries. A nil Admission admits everything.
func (a *Admission) enter(q *influxql.Query) (*ticket, error) {
	if a == nil || exempt(q) {
		return &ticket{}, nil
	}
	if a.nearLimit != nil && a.nearLimit() {
		a.rejected.Inc()
		return nil, errMemoryPressure
	}
	if a.slots == nil {
		return &ticket{}, nil
	}
	select {
	case a.slots <- struct{}{}:
		a.waited.Observe(0)
		return &ticket{a: a, running: true}, nil
	default:
	}
	if a.queued.Add(1) > a.maxQueued {
		a.queued.Add(-1)
		a.rejected.Inc()
		return nil, fmt.Errorf("%w: %d running and %d waiting (--max-concurrent-queries, --max-queued-queries): retry later",
			errTooManyQueries, cap(a.slots), a.maxQueued)
	}
	return &ticket{a: a, queued: true, since: time.Now()}, nil
}

// wait waits for a queued ticket's turn, or for ctx to end (the client left,
// or KILL QUERY).
func (t *ticket) wait(ctx context.Context) error {
	if !t.queued {
		return nil
	}
	defer func() { t.queued = false; t.a.queued.Add(-1) }()
	select {
	case t.a.slots <- struct{}{}:
		t.running = true
		t.a.waited.Observe(time.Since(t.since).Seconds())
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// leave gives the turn back (or the queue place of a ticket that never ran).
func (t *ticket) leave() {
	if t.queued {
		t.queued = false
		t.a.queued.Add(-1)
	}
	if t.running {
		t.running = false
		<-t.a.slots
	}
}

// needsWait says whether the ticket is a place in the queue.
func (t *ticket) needsWait() bool { return t.queued }

// exempt says whether q needs no turn: SHOW QUERIES and KILL QUERY must work
// when the slots are full, since they are how an operator sees and ends the
// queries holding them.
func exempt(q *influxql.Query) bool {
	for _, st := range q.Statements {
		switch st.(type) {
		case *influxql.ShowQueriesStatement, *influxql.KillQueryStatement:
		default:
			return false
		}
	}
	return len(q.Statements) > 0
}
