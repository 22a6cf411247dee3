package cq

import (
	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// RollupsInto implements query.Rollups: the queries writing into measurement
// m of db.rp, with what they have not computed yet, so that a SELECT on the
// rollup computes those windows from raw data (query/rollup.go).
//
// Not computed yet: the windows from the watermark on (before the first
// scheduled run: from the current window on, which that run computes first),
// and every dirty or in-flight span, of one group or (group "") of all.
func (s *Service) RollupsInto(db, rp, m string) []query.RollupState {
	type taken struct {
		def        *definition
		uncomputed int64
		marks      map[string]spans
	}
	now := s.now().UnixNano()
	s.mu.Lock()
	var found []taken
	for _, c := range s.cqs {
		t := c.def.stmt.Source.Target.Measurement
		if t.Database != db || t.RetentionPolicy != rp || !c.def.writesInto(m) {
			continue
		}
		tk := taken{def: c.def, uncomputed: c.def.sched.windowStart(now), marks: map[string]spans{}}
		if c.computed() {
			tk.uncomputed = c.watermark
		}
		for _, src := range []map[string]spans{c.dirty, c.inflight, c.remote} {
			for g, sp := range src {
				for _, x := range sp {
					tk.marks[g] = tk.marks[g].add(x)
				}
			}
		}
		found = append(found, tk)
	}
	s.mu.Unlock()
	// Group conditions read the index: outside mu (see Service.mu).
	var out []query.RollupState
	for _, tk := range found {
		st := query.RollupState{Name: tk.def.db + "." + tk.def.name, Select: tk.def.stmt.Source, Uncomputed: tk.uncomputed}
		for _, g := range sortedGroups(tk.marks) {
			p, ok := s.pendingGroup(tk.def, g)
			if !ok {
				continue
			}
			for _, x := range tk.marks[g] {
				p.From, p.To = x.from, x.to
				st.Pending = append(st.Pending, p)
			}
		}
		out = append(out, st)
	}
	return out
}

// pendingGroup describes group g ("" = all) of def for query.RollupPending;
// false if the query no longer reads the group's measurement.
func (s *Service) pendingGroup(def *definition, g string) (query.RollupPending, bool) {
	if g == "" {
		return query.RollupPending{}, true
	}
	m, tags, err := storage.ParseSeriesKey([]byte(g), nil)
	if err != nil {
		return query.RollupPending{}, false
	}
	var src *influxql.Measurement
	for _, so := range def.stmt.Source.Sources {
		if cand := so.(*influxql.Measurement); def.source(cand.Database, cand.RetentionPolicy, m) != nil {
			src = cand
			break
		}
	}
	if src == nil {
		return query.RollupPending{}, false
	}
	cond, err := s.groupCondition(def, src, m, tags)
	if err != nil {
		return query.RollupPending{}, false
	}
	p := query.RollupPending{
		Source:    &influxql.Measurement{Database: src.Database, RetentionPolicy: src.RetentionPolicy, Name: string(m)},
		Tags:      map[string]string{},
		Condition: cond,
	}
	for _, t := range tags {
		p.Tags[string(t.Key)] = string(t.Value)
	}
	return p, true
}

// writesInto tells whether the query writes into measurement m of its
// target's database and policy: its target's name, or with :MEASUREMENT a
// measurement of that name it reads.
func (d *definition) writesInto(m string) bool {
	t := d.stmt.Source.Target.Measurement
	if !t.IsTarget && t.Name != "" {
		return t.Name == m
	}
	for _, so := range d.stmt.Source.Sources {
		src := so.(*influxql.Measurement)
		if d.source(src.Database, src.RetentionPolicy, []byte(m)) != nil {
			return true
		}
	}
	return false
}
