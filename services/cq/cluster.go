package cq

import (
	"context"
	"sort"

	"github.com/strata-db/strata/query"
)

// Continuous queries in a node set (docs/scale-out.md, "Continuous queries
// in a node set"). Each node stores only its partitions, so a query run on
// each node over its own data would write the rollup of a part. Instead:
//
//   - one node runs every query at a time: Cluster.Runner, which the server
//     answers from Kafka's group assignment (the member owning partition 0
//     of the data topic), never from an election of Strata's own;
//   - the runner's SELECT fans out like any (exact merged partials), and its
//     points go to Cluster.Sink, which publishes them to the data topic keyed
//     by series, so each lands on the node owning it through the ordinary
//     exactly-once ingest; a re-run writes the same points again;
//   - late data stays marked where it lands: before each pass the runner
//     takes every peer's marks (Cluster.Take, which also tells the peers the
//     queries' progress, so that they know which of their writes are late),
//     recomputes them with its own, and only once the pass has published
//     everything releases them (Cluster.Release). Marks not released are
//     taken again by the next pass, or by the next runner.
//
// A node that is not the runner runs nothing: it tracks marks for the runner.

// Cluster is what the service needs of a node set. Nil (SetCluster not
// called): one node, queries run over local data into the local engine.
type Cluster interface {
	// Runner tells whether this node runs the continuous queries now.
	Runner() bool
	// Take tells every other node the queries' progress and returns the
	// marks each holds, with a token per node for Release. It fails if any
	// node does not answer: a pass then computes nothing.
	Take(ctx context.Context, progress []Progress) (tokens map[string]uint64, marks []Marks, err error)
	// Release tells the nodes that the marks of their tokens are computed.
	Release(ctx context.Context, tokens map[string]uint64)
	// Sink is where the runner's points go.
	Sink() query.PointSink
}

// Progress is one query's progress as the runner sends it to the others.
type Progress struct {
	Database  string `json:"db"`
	Name      string `json:"name"`
	Since     int64  `json:"since"`
	Watermark int64  `json:"watermark"`
}

// Marks are a node's dirty windows of one query and series group, as
// [from, to) pairs of window starts. Group is the group's series key in
// storage's binary form (measurement and group tags; empty: every group),
// base64 in JSON.
type Marks struct {
	Database string     `json:"db"`
	Name     string     `json:"name"`
	Group    []byte     `json:"group"`
	Spans    [][2]int64 `json:"spans"`
}

// SetCluster makes the service one node of a set (before Run).
func (s *Service) SetCluster(c Cluster) { s.cluster = c }

// TakeMarks serves a runner's Cluster.Take on this node: it raises each
// listed query's progress to the runner's, so that later writes into
// windows the runner computed are marked late here, and hands over this
// node's marks of those queries. The marks stay (checkpointed) until
// ReleaseMarks with the token returned, or are handed again by the next
// TakeMarks: a runner that dies before releasing loses nothing.
func (s *Service) TakeMarks(progress []Progress) (token uint64, out []Marks) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.takeSeq++
	token = s.takeSeq
	for _, p := range progress {
		c := s.cqs[cqID(p.Database, p.Name)]
		if c == nil || p.Watermark <= p.Since {
			continue // not applied here yet (the meta topic lags), or nothing computed
		}
		if !c.computed() || p.Since < c.since {
			c.since = p.Since
		}
		c.watermark = max(c.watermark, p.Watermark)
		c.progressChanged = true
		for g, sp := range c.dirty {
			for _, x := range sp {
				c.remote[g] = c.remote[g].add(x)
			}
		}
		c.dirty = map[string]spans{}
		c.remoteToken = token
		for _, g := range sortedGroups(c.remote) {
			m := Marks{Database: p.Database, Name: p.Name, Group: []byte(g)}
			for _, x := range c.remote[g] {
				m.Spans = append(m.Spans, [2]int64{x.from, x.to})
			}
			out = append(out, m)
		}
	}
	return token, out
}

// ReleaseMarks drops the marks handed with token, unless a later TakeMarks
// handed them again (its own token releases them then).
func (s *Service) ReleaseMarks(token uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cqs {
		if c.remoteToken != token || len(c.remote) == 0 {
			continue
		}
		for g := range c.remote {
			c.changed[g] = true
		}
		c.remote = map[string]spans{}
	}
}

// progressLocked lists every query's progress for Cluster.Take.
func (s *Service) progressLocked() []Progress {
	out := make([]Progress, 0, len(s.cqs))
	for _, c := range s.cqs {
		if c.computed() {
			out = append(out, Progress{Database: c.def.db, Name: c.def.name, Since: c.since, Watermark: c.watermark})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Database < out[j].Database || out[i].Database == out[j].Database && out[i].Name < out[j].Name
	})
	return out
}

// takePeers runs Cluster.Take and folds the peers' marks into the queries'
// dirty marks. Called by the runner's pass after scheduling, before any run.
func (s *Service) takePeers(ctx context.Context) (map[string]uint64, error) {
	s.mu.Lock()
	progress := s.progressLocked()
	s.mu.Unlock()
	if len(progress) == 0 {
		return nil, nil
	}
	tokens, marks, err := s.cluster.Take(ctx, progress)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range marks {
		c := s.cqs[cqID(m.Database, m.Name)]
		if c == nil {
			continue
		}
		for _, x := range m.Spans {
			if x[0] < x[1] {
				c.mark(string(m.Group), span{x[0], x[1]})
			}
		}
		s.m.peerMarks.Inc()
	}
	return tokens, nil
}
