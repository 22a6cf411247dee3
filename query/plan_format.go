package query

import (
	"fmt"
	"sort"
	"strings"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
)

// planNode is one line of a printed plan and the lines under it.
type planNode struct {
	label string
	kids  []*planNode
}

func (n *planNode) add(format string, args ...any) *planNode {
	k := &planNode{label: fmt.Sprintf(format, args...)}
	n.kids = append(n.kids, k)
	return k
}

// render appends n's subtree as lines drawn with box characters.
func (n *planNode) render(out []string, prefix, kidPrefix string) []string {
	out = append(out, prefix+n.label)
	for i, k := range n.kids {
		if i == len(n.kids)-1 {
			out = k.render(out, kidPrefix+"└─ ", kidPrefix+"   ")
		} else {
			out = k.render(out, kidPrefix+"├─ ", kidPrefix+"│  ")
		}
	}
	return out
}

// String prints the plan as a tree, one line per fact: what EXPLAIN shows
// before any series is looked up. It depends only on the statement and the
// schema, so golden files can hold it.
func (p *selectPlan) String() string { return strings.Join(p.lines(), "\n") + "\n" }

func (p *selectPlan) lines() []string { return p.tree().render(nil, "", "") }

func (p *selectPlan) tree() *planNode {
	mode := "aggregate"
	if p.raw {
		mode = "raw points"
	} else if p.onlyRawTransforms() {
		mode = "transformation of raw points"
	}
	root := &planNode{label: "SELECT (" + mode + ")"}
	root.add("QUERY: %s", p.stmt.String())
	src := root.add("SOURCES")
	sub := 0
	for _, s := range p.stmt.Sources {
		switch x := s.(type) {
		case *influxql.Measurement:
			names := p.measurementsOf(x)
			switch {
			case x.Regex != nil:
				src.add("MEASUREMENTS %s: %s", x.String(), listOrNone(names))
			case len(names) == 0:
				src.add("MEASUREMENT %s: not found, no series", x.String())
			default:
				src.add("MEASUREMENT %s", x.String())
			}
		case *influxql.SubQuery:
			n := src.add("SUBQUERY (run first; its rows are the series read here)")
			if sub < len(p.src.subqueries) && p.src.subqueries[sub] != nil {
				n.kids = append(n.kids, p.src.subqueries[sub].tree())
			}
			sub++
		}
	}
	for _, n := range p.src.rollupNotes {
		src.add("REAL-TIME ROLLUP %s", n)
	}
	if p.emptyRange {
		root.add("TIME RANGE: empty, nothing is read")
	} else {
		root.add("TIME RANGE: %s", formatRange(p.tr))
	}
	if p.tagCond != nil {
		root.add("TAG PREDICATE (roaring bitmap index): %s", describeTagExpr(p.tagCond))
	}
	if p.fieldCond != nil {
		root.add("FIELD FILTER (per row): %s", p.fieldCond.String())
	}
	if fields := p.fieldsRead(); len(fields) > 0 {
		root.add("FIELDS READ: %s", strings.Join(fields, ", "))
	}
	if g := p.groupByTags(); g != "" {
		root.add("GROUP BY TAGS: %s", g)
	}
	if p.interval > 0 {
		root.add("WINDOWS: GROUP BY time(%v, offset %v) fill(%s)", p.interval, p.offset, fillDesc(p))
	}
	if len(p.calls) > 0 {
		calls := root.add("CALLS")
		for _, c := range p.calls {
			p.describeCall(calls, c)
		}
	}
	cols := append([]string{"time"}, p.columns...)
	if p.timeAlias != "" {
		cols[0] = p.timeAlias
	}
	root.add("COLUMNS: %s", strings.Join(append(cols, p.extraCols...), ", "))
	order := "time ASC"
	if !p.ascending {
		order = "time DESC"
	}
	root.add("ORDER: %s", order)
	if s := p.stmt; s.Limit > 0 || s.Offset > 0 {
		root.add("LIMIT %d OFFSET %d (rows per series)", s.Limit, s.Offset)
	}
	if s := p.stmt; s.SLimit > 0 || s.SOffset > 0 {
		root.add("SLIMIT %d SOFFSET %d (series, chosen before any is computed)", s.SLimit, s.SOffset)
	}
	if p.stmt.Target != nil {
		root.add("INTO %s (GROUP BY tags become tags)", p.stmt.Target.Measurement.String())
	}
	return root
}

func (p *selectPlan) describeCall(parent *planNode, c *callPlan) {
	typ := func(t funcs.Type) string {
		if t == funcs.Unknown {
			return "unknown"
		}
		return t.String()
	}
	sig := fmt.Sprintf("%s -> %s", typ(c.inType), typ(c.outType))
	if c.rawTrans {
		parent.add("CALL %s: %s, %s; path: %s", c.expr.String(), c.trans.Kind, sig, c.path)
		return
	}
	inner := fmt.Sprintf("%s(%s)", c.name, c.field)
	path := c.path.String()
	if c.why != "" {
		path += " (" + c.why + ")"
	}
	if c.transform == "" {
		n := parent.add("CALL %s: %s, %s; path: %s", c.expr.String(), c.fn.Kind, sig, path)
		if c.fn.MultiRow {
			n.add("several rows per window")
		}
		if a, err := funcs.NewApprox(c.name, c.args); err == nil {
			n.add("sketch: %s", a.Describe())
		}
		if c.tag {
			n.add("argument: tag %s (each row carries its series' value; a series without it adds nothing)", c.field)
		}
		return
	}
	n := parent.add("CALL %s: %s over %s, %s", c.expr.String(), c.trans.Kind, c.fn.Kind, sig)
	n.add("%s: %s per window; path: %s", inner, c.fn.Kind, path)
	n.add("%s over each series' windows, after fill", c.transform)
}

// measurementsOf lists the stored measurements source m resolved to.
func (p *selectPlan) measurementsOf(m *influxql.Measurement) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range p.src.series {
		if s.mem != nil || seen[s.measurement] {
			continue
		}
		if m.Regex != nil && m.Regex.Val.MatchString(s.measurement) || m.Regex == nil && m.Name == s.measurement {
			seen[s.measurement] = true
			out = append(out, s.measurement)
		}
	}
	sort.Strings(out)
	return out
}

// fieldsRead lists the fields of the schema the plan reads, with their types.
func (p *selectPlan) fieldsRead() []string {
	seen := map[string]bool{}
	add := func(n influxql.Node) {
		if v, ok := n.(*influxql.VarRef); ok {
			if _, isField := p.src.schema.fields[v.Val]; isField && !p.src.schema.tags[v.Val] {
				seen[v.Val] = true
			}
		}
	}
	for _, ex := range p.exprs {
		influxql.Walk(ex, add)
	}
	if p.fieldCond != nil {
		influxql.Walk(p.fieldCond, add)
	}
	tagRows := false
	for _, c := range p.calls {
		if c.tag {
			tagRows = true
		} else if _, ok := p.src.schema.fields[c.field]; ok {
			seen[c.field] = true
		}
	}
	out := make([]string, 0, len(seen))
	for f := range seen {
		out = append(out, fmt.Sprintf("%s (%s)", f, funcType(p.src.schema.fields[f])))
	}
	sort.Strings(out)
	if tagRows {
		out = append(out, "the times of every field (a tag argument's rows)")
	}
	return out
}

func (p *selectPlan) groupByTags() string {
	var parts []string
	if p.groupAll {
		parts = append(parts, "*")
	}
	parts = append(parts, p.groupKeys...)
	for _, re := range p.groupRegex {
		parts = append(parts, "/"+re.String()+"/")
	}
	return strings.Join(parts, ", ")
}

func fillDesc(p *selectPlan) string {
	if p.fill == influxql.NumberFill {
		return fmt.Sprint(p.fillValue)
	}
	return fillName(p.fill)
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func (p *selectPlan) onlyRawTransforms() bool {
	for _, c := range p.calls {
		if !c.rawTrans {
			return false
		}
	}
	return len(p.calls) > 0
}
