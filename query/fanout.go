// Multi-node SELECTs, the receiving side: the stored series of the other
// nodes of the set, fetched through the Fanout the server sets, join the
// local ones before grouping (startPlan), so groups that exist only on a
// peer appear and everything after grouping (SLIMIT, fill, transformations,
// ORDER BY, LIMIT, projection) runs here once, over all of them. A remote
// series brings per-window partial states for the calls whose path merges
// (aggregate.go folds them in with mergeRemote, in series-key order, so the
// float sums round as on one node) and raw points, as a subquery series
// does, for the others. The peers' side is partialexec.go; the HTTP client
// is package cluster's, the endpoint httpapi's.
package query

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/nodewire"
)

// Fanout runs a statement's partial execution on the other nodes of the set.
// It returns the answers of the nodes that answered; when one did not, the
// error names it, unless req.AllowPartial, in which case each missing node is
// one line of missing and the error is nil.
type Fanout interface {
	Partial(ctx context.Context, req PartialRequest) (answers []*nodewire.Response, missing []string, err error)
	// Peers names the nodes a statement would be sent to now (EXPLAIN).
	Peers(ctx context.Context) ([]string, error)
}

// PartialRequest is what a peer needs to execute a SELECT's stored part as
// the receiving node planned it.
type PartialRequest struct {
	Statement       string // one SELECT, as influxql prints it
	Database        string
	RetentionPolicy string
	Now             time.Time // the receiver's now(), so relative ranges agree
	AllowPartial    bool      // the client's partial=true
}

// SetFanout makes every SELECT over stored measurements also read the other
// nodes of the set through f (nil: this node alone).
func (e *Executor) SetFanout(f Fanout) { e.fanout = f }

// remote is what a peer sent for one series.
type remote struct {
	node   string
	states map[int][]nodewire.Window // by call index
}

// errRemoteMixed: a field stored in different types on different series of
// a group that spans nodes; the window function that answers it on one node
// would need every node's raw points, which were not shipped.
var errRemoteMixed = errors.New("query: a group spanning nodes stores the field in different types; the fan-out cannot merge it")

// fanOut fetches the peers' series of the run's plan. Warnings name the
// nodes missing from an answer the client allowed to be partial.
func (r *selectRun) fanOut(opts ExecOptions) ([]*seriesRef, []string, error) {
	if r.e.fanout == nil || opts.partialExec || len(r.plan.src.subqueries) > 0 {
		return nil, nil, nil
	}
	if len(r.plan.calls) == 0 || r.plan.fieldCond != nil {
		// Never a silently incomplete answer: the raw rows' schema and the
		// field condition do not travel yet (docs/scale-out.md).
		return nil, nil, errorf("query fan-out: raw SELECTs and field conditions are not fanned out yet; query a node with the data or one without --peers")
	}
	req := PartialRequest{Statement: r.plan.stmt.String(), Database: opts.Database,
		RetentionPolicy: opts.RetentionPolicy, Now: r.now, AllowPartial: opts.AllowPartial}
	answers, missing, err := r.e.fanout.Partial(r.ctx, req)
	if err != nil {
		return nil, nil, err
	}
	var refs []*seriesRef
	for _, a := range answers {
		for i := range a.Series {
			s := &a.Series[i]
			ref := &seriesRef{measurement: s.Measurement, tags: s.Tags, key: seriesKey(s.Measurement, s.Tags),
				mem: s.Fields, memTimes: s.Times, remote: &remote{node: a.Node, states: s.States}}
			if ref.mem == nil {
				ref.mem = map[string][]funcs.Point{}
			}
			if !matchTags(r.plan.tagCond, ref.tags) {
				return nil, nil, fmt.Errorf("node %s sent series %s, which the statement's tag predicate does not match", a.Node, ref.key)
			}
			refs = append(refs, ref)
		}
	}
	warnings := make([]string, len(missing))
	for i, m := range missing {
		warnings[i] = "partial answer: " + m
	}
	return refs, warnings, nil
}

// mergeRemote folds a remote series' closed states of call c into w.
func (r *selectRun) mergeRemote(s *seriesRef, c *callPlan, w *windowStates) error {
	ci := r.callIndex(c)
	for _, win := range s.remote.states[ci] {
		e, _, err := w.get(win.Start, win.State.Type())
		if errors.Is(err, errMixedTypes) {
			return errRemoteMixed
		}
		if err != nil {
			return err
		}
		if err := e.st.Merge(win.State); err != nil {
			return fmt.Errorf("node %s, series %s: %w", s.remote.node, s.key, err)
		}
	}
	return nil
}

func (r *selectRun) callIndex(c *callPlan) int {
	for i, pc := range r.plan.calls {
		if pc == c {
			return i
		}
	}
	return -1
}

// hasRemote tells a group with series of other nodes.
func hasRemote(g *group) bool {
	for _, s := range g.series {
		if s.remote != nil {
			return true
		}
	}
	return false
}
