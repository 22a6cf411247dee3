// Multi-node SELECTs, the receiving side: the stored series of the other
// nodes of the set, fetched through the Fanout the server sets, join the
// local ones before grouping (startPlan), so groups that exist only on a
// peer appear and everything after grouping (SLIMIT, fill, transformations,
// ORDER BY, LIMIT, projection) runs here once, over all of them. A remote
// series brings per-window partial states for the calls whose path merges
// (aggregate.go folds them in with mergeRemote, in series-key order, so the
// float sums round as on one node) and, for the others and raw SELECTs, the
// rows that passed the WHERE field condition on the peer, as a subquery
// series does. The plan is the one a node holding all the data would make:
// each peer answers its schema of the sources, and the receiver plans with
// the union (a second round when a peer planned with less than the union).
// The peers' side is partialexec.go; the HTTP client is package cluster's,
// the endpoint httpapi's; SHOW statements merge in fanout_show.go.
package query

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/query/nodewire"
	"github.com/strata-db/strata/storage"
)

// Fanout runs a statement's partial execution on the other nodes of the set.
// It returns the answers of the nodes that answered; when one did not, the
// error names it, unless req.AllowPartial, in which case each missing node is
// one line of missing and the error is nil.
type Fanout interface {
	Partial(ctx context.Context, req PartialRequest) (answers []PeerAnswer, missing []string, err error)
	// Peers names the nodes a statement would be sent to now (EXPLAIN).
	Peers(ctx context.Context) ([]string, error)
}

// PeerAnswer is one peer's answer and what it cost (EXPLAIN ANALYZE).
type PeerAnswer struct {
	Peer  string // the address asked
	Resp  *nodewire.Response
	Took  time.Duration
	Bytes int // of the answer's body
}

// PartialRequest is what a peer needs to execute a statement's stored part
// as the receiving node planned it.
type PartialRequest struct {
	Statement       string // one SELECT or SHOW, as influxql prints it
	Database        string
	RetentionPolicy string
	Now             time.Time // the receiver's now(), so relative ranges agree
	AllowPartial    bool      // the client's partial=true
	// User is who the receiving node authenticated ("" when it does not):
	// signed with the request, and the peer checks its privileges when it
	// knows the user (docs/format/node-protocol.md, "Authentication").
	User string
	// Schema is the sources' schema the receiver knows: the peer plans with
	// the union of it and its own, so that wildcards expand and WHERE splits
	// into tag and field predicates as on one node.
	Schema nodewire.Schema
}

// named is an Authorizer that knows its user's name (auth.Principal).
type named interface{ Name() string }

// userOf is the name of who runs a query, for the peers ("": no
// authentication, or an Authorizer without a name).
func userOf(a Authorizer) string {
	if n, ok := a.(named); ok {
		return n.Name()
	}
	return ""
}

// SetFanout makes every SELECT over stored measurements also read the other
// nodes of the set through f (nil: this node alone).
func (e *Executor) SetFanout(f Fanout) { e.fanout = f }

// remote is what a peer sent for one series.
type remote struct {
	node   string
	states map[int][]nodewire.Window // by call index
}

// fanoutRun is what the fan-out of one SELECT did, for EXPLAIN ANALYZE.
type fanoutRun struct {
	answers []PeerAnswer
	missing []string
	rounds  int  // 2 when the peers were asked again with the union schema
	widened bool // the peers store fields or tags this node does not
}

// errRemoteMixed: a field stored in different types on different series of
// a group that spans nodes; the window function that answers it on one node
// would need every node's raw points, which were not shipped.
var errRemoteMixed = errors.New("query: a group spanning nodes stores the field in different types; the fan-out cannot merge it")

// fanOut asks the peers for their share of stmt, before it is planned:
// when they know fields or tags this node does not, src's schema gains them,
// so that the plan is the one a node holding all the data would make. Nil
// when the statement is not fanned out: one node, a peer's own execution,
// a plain EXPLAIN (it names the peers, not asks them), FROM subqueries
// (their inner SELECTs fan out themselves), a continuous query written into
// this node's engine (noFanout, continuous.go). A client's SELECT ... INTO
// sends the peers its SELECT and writes here.
func (e *Executor) fanOut(ctx context.Context, stmt *influxql.SelectStatement, src *source, opts ExecOptions) (*fanoutRun, error) {
	if e.fanout == nil || opts.partialExec || opts.noFanout || len(src.subqueries) > 0 {
		return nil, nil
	}
	local := schemaOf(src.schema)
	text := stmt.String()
	if stmt.Target != nil {
		// The peers compute the SELECT; the rows are written here.
		sel := *stmt
		sel.Target = nil
		text = sel.String()
	}
	req := PartialRequest{Statement: text, Database: opts.Database,
		RetentionPolicy: opts.RetentionPolicy, Now: opts.Now, AllowPartial: opts.AllowPartial, Schema: local, User: userOf(opts.Auth)}
	fr := &fanoutRun{rounds: 1}
	answers, missing, err := e.fanout.Partial(ctx, req)
	if err != nil {
		return nil, err
	}
	union := local
	for _, a := range answers {
		union = unionSchema(union, a.Resp.Schema)
	}
	for _, a := range answers {
		if !sameSchema(unionSchema(local, a.Resp.Schema), union) {
			// That peer expanded and split the statement without a field or
			// tag another node has: ask again with the union. Rare: the nodes
			// of a set see the same measurements.
			req.Schema, fr.rounds = union, 2
			if answers, missing, err = e.fanout.Partial(ctx, req); err != nil {
				return nil, err
			}
			break
		}
	}
	fr.answers, fr.missing = answers, missing
	if !sameSchema(local, union) {
		src.schema = withSchema(src.schema, union)
		fr.widened = true
	}
	return fr, nil
}

// remoteSeries are the series the peers sent for the run's plan.
func (r *selectRun) remoteSeries() ([]*seriesRef, error) {
	if r.plan.fanout == nil {
		return nil, nil
	}
	var refs []*seriesRef
	for _, a := range r.plan.fanout.answers {
		for i := range a.Resp.Series {
			s := &a.Resp.Series[i]
			ref := &seriesRef{measurement: s.Measurement, tags: s.Tags, key: seriesKey(s.Measurement, s.Tags),
				mem: s.Fields, memTimes: s.Times, remote: &remote{node: a.Resp.Node, states: s.States}}
			if ref.mem == nil {
				ref.mem = map[string][]funcs.Point{}
			}
			if ref.tags == nil {
				ref.tags = map[string]string{}
			}
			if !matchTags(r.plan.tagCond, ref.tags) {
				return nil, fmt.Errorf("node %s sent series %s, which the statement's tag predicate does not match", a.Resp.Node, ref.key)
			}
			refs = append(refs, ref)
		}
	}
	return refs, nil
}

// missingWarnings are the messages of an answer without some nodes.
func missingWarnings(missing []string) []string {
	out := make([]string, len(missing))
	for i, m := range missing {
		out[i] = "partial answer: " + m
	}
	return out
}

// schemaOf is a plan's schema in the node protocol's form.
func schemaOf(s *schema) nodewire.Schema {
	out := nodewire.Schema{Fields: make(map[string]funcs.Type, len(s.fields)), Tags: s.tagNames()}
	for f, t := range s.fields {
		out.Fields[f] = funcType(t)
	}
	return out
}

// unionSchema is a's fields and tags and b's; a field in both keeps a's type.
func unionSchema(a, b nodewire.Schema) nodewire.Schema {
	out := nodewire.Schema{Fields: maps.Clone(a.Fields)}
	if out.Fields == nil {
		out.Fields = map[string]funcs.Type{}
	}
	for f, t := range b.Fields {
		if _, ok := out.Fields[f]; !ok {
			out.Fields[f] = t
		}
	}
	out.Tags = append(slices.Clone(a.Tags), b.Tags...)
	sort.Strings(out.Tags)
	out.Tags = slices.Compact(out.Tags)
	return out
}

// sameSchema compares the names only: a type conflict between nodes is the
// merge's to report (errRemoteMixed), a second round would not settle it.
func sameSchema(a, b nodewire.Schema) bool {
	if len(a.Fields) != len(b.Fields) || !slices.Equal(a.Tags, b.Tags) {
		return false
	}
	for f := range a.Fields {
		if _, ok := b.Fields[f]; !ok {
			return false
		}
	}
	return true
}

// withSchema is s with the fields and tags of add it lacks.
func withSchema(s *schema, add nodewire.Schema) *schema {
	out := &schema{fields: maps.Clone(s.fields), tags: maps.Clone(s.tags)}
	for f, t := range add.Fields {
		if _, ok := out.fields[f]; !ok {
			out.fields[f] = storage.FieldType(t)
		}
	}
	for _, t := range add.Tags {
		out.tags[t] = true
	}
	return out
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

// fanoutLines are EXPLAIN's account of the fan-out: the peers, what each
// ships, and under ANALYZE what each answered.
func (r *selectRun) fanoutLines(ctx context.Context, opts ExecOptions) ([]string, error) {
	if r.e.fanout == nil || opts.partialExec || len(r.plan.src.subqueries) > 0 {
		return nil, nil
	}
	peers, err := r.e.fanout.Peers(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{fmt.Sprintf("FAN-OUT: %d peers: %s (POST /internal/v%d/partial)", len(peers), strings.Join(peers, ", "), nodewire.Version)}
	for _, l := range shippedLines(r.plan) {
		out = append(out, "   "+l)
	}
	fr := r.plan.fanout
	if fr == nil {
		return out, nil
	}
	if fr.rounds > 1 {
		out = append(out, "   SCHEMA: a peer knew fields or tags another did not; asked again with the union")
	}
	if fr.widened {
		out = append(out, "   SCHEMA: planned with fields or tags only the peers store")
	}
	for _, a := range fr.answers {
		states, points, rows := 0, 0, 0
		for _, s := range a.Resp.Series {
			for _, ws := range s.States {
				states += len(ws)
			}
			for _, pts := range s.Fields {
				points += len(pts)
			}
			rows += len(s.Times)
		}
		out = append(out, fmt.Sprintf("   PEER %s (node %s): %v, %d bytes, %d series, %d partial states, %d rows, %d points",
			a.Peer, a.Resp.Node, a.Took.Round(time.Microsecond), a.Bytes, len(a.Resp.Series), states, rows, points))
	}
	for _, m := range fr.missing {
		out = append(out, "   MISSING: "+m)
	}
	return out, nil
}

// shippedLines say what a peer sends for plan p (partialexec.go decides it).
func shippedLines(p *selectPlan) []string {
	if len(p.calls) == 0 {
		l := "SHIPPED: raw rows of the fields the select list reads"
		if p.fieldCond != nil {
			l += ", WHERE field condition evaluated on the peer"
		}
		if p.stmt.Limit > 0 {
			order := "oldest"
			if !p.ascending {
				order = "newest"
			}
			l += fmt.Sprintf(", at most LIMIT+OFFSET = %d rows per series (%s first)", p.stmt.Limit+p.stmt.Offset, order)
		}
		return []string{l}
	}
	var out []string
	raw := false
	for _, c := range p.calls {
		if mergesRemote(c) {
			out = append(out, fmt.Sprintf("SHIPPED: %s: partial states per series and window", c.expr.String()))
		} else {
			out = append(out, fmt.Sprintf("SHIPPED: %s: raw points (%s)", c.expr.String(), c.path))
			raw = true
		}
	}
	if raw && p.fieldCond != nil {
		out = append(out, "SHIPPED: raw points only of rows that pass the WHERE field condition on the peer")
	}
	return out
}
