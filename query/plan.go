package query

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// A selectPlan is one SELECT statement analysed against the schema of the sources
// it reads, once: which fields each output column needs, which calls compute them
// and by which path, how rows are grouped into series and windows, ordered and
// limited. select.go runs it; EXPLAIN prints it (String) and, with ANALYZE, runs
// the same plan.
type selectPlan struct {
	stmt *influxql.SelectStatement
	src  *source            // sources and their union schema, resolved once
	tr   influxql.TimeRange // inclusive [Min, Max] in ns
	// emptyRange: the WHERE time range holds no instant; nothing is read.
	emptyRange bool

	interval, offset time.Duration // GROUP BY time; interval 0: none
	loc              *time.Location
	fill             influxql.FillOption
	fillValue        any
	ascending        bool

	columns   []string        // output column names after the time column
	timeAlias string          // SELECT time AS x renames the time column
	extraCols []string        // top/bottom tag arguments: columns right after the call's
	extraAt   int             // index in columns the extraCols go before
	aliased   []int           // columns named by AS: kept as written
	exprs     []influxql.Expr // one per output column, wildcards and regexes expanded
	calls     []*callPlan     // distinct aggregate/selector calls, innermost first
	raw       bool            // no calls: rows are stored points
	// exprCall is, per expression, the index in calls of the call it is as
	// written (max(x), not max(x)*2), else -1: buildRow takes those values
	// as they are instead of evaluating the expression per row.
	exprCall []int

	// Fields read per measurement come from the expressions; tags select from the
	// series. isTag tells one from the other for the measurement being read.
	tagCond   *storage.TagExpr
	fieldCond influxql.Expr

	groupAll   bool
	groupKeys  []string
	groupRegex []*regexp.Regexp

	fanout *fanoutRun // the peers' answers (fanout.go); nil on one node
}

// callPlan is one aggregate or selector call of the statement, possibly wrapped in
// a transformation (derivative(mean(x))) — the wrapper is applied to the call's
// output series.
type callPlan struct {
	expr  *influxql.Call    // the expression as written (the outermost call)
	name  string            // the aggregate/selector's name ("count_distinct" for count(distinct(x)))
	fn    *funcs.Func       // its registry entry (nil for a transformation of raw values)
	field string            // the field it reads (or the tag, when tag is set)
	cast  influxql.DataType // the argument's ::type (::tag reads the tag of a name that is both)
	// tag: the argument is a tag (tagarg.go): each row of a series carries
	// the series' value, one weighted insert per series and window.
	tag       bool
	args      []any       // literal arguments after the field
	transform string      // "" or the transformation wrapped around it
	trans     *funcs.Func // the transformation's registry entry
	targs     []any       // the transformation's literal arguments
	tfunc     funcs.TransformFunc
	window    funcs.WindowFunc
	rawTrans  bool // a transformation of raw values (derivative(x)): no aggregate inside

	inType, outType funcs.Type // the field's type (Unknown if no source has it) and the result's
	path            execPath
	why             string // why the path is not the fastest the function has ("" if it is)

	factories stateFactories // its partial-state constructors, made once per query
}

// execPath is how the executor computes one call, chosen by the planner.
type execPath uint8

const (
	// pathHeaders: partial states per window (query/partial), fed block by
	// block, a block that lies in one window answered from its header
	// statistics without decoding.
	pathHeaders execPath = iota + 1
	// pathPartial: partial states per window over decoded blocks (functions
	// whose states need every value, or ORDER BY time DESC, which folds
	// newest first where block headers cannot).
	pathPartial
	// pathWindow: each window's points collected, then the window function.
	pathWindow
	// pathRawTransform: a transformation over the raw points (derivative(x)).
	pathRawTransform
)

func (p execPath) String() string {
	switch p {
	case pathHeaders:
		return "partial states, block headers where a block fits one window"
	case pathPartial:
		return "partial states over decoded blocks"
	case pathWindow:
		return "window function over points"
	case pathRawTransform:
		return "transformation of raw points"
	}
	return "?"
}

// schema is what the plan needs to know of one source measurement.
type schema struct {
	fields map[string]storage.FieldType
	tags   map[string]bool
}

func (s *schema) fieldNames() []string {
	out := make([]string, 0, len(s.fields))
	for f := range s.fields {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

func (s *schema) tagNames() []string {
	out := make([]string, 0, len(s.tags))
	for t := range s.tags {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// prepareSelect resolves stmt's sources (running its subqueries) and plans it.
func (e *Executor) prepareSelect(ctx context.Context, stmt *influxql.SelectStatement, opts ExecOptions, stats *execStats) (*selectPlan, error) {
	src, err := e.resolveSources(ctx, stmt, opts, stats)
	if err != nil {
		return nil, err
	}
	// The other nodes of the set first (fanout.go): the plan is made with
	// the fields and tags they store too, as on one node holding every series.
	fr, err := e.fanOut(ctx, stmt, src, opts)
	if err != nil {
		return nil, err
	}
	p, err := e.planSelect(stmt, src, opts.Now)
	if p != nil {
		p.fanout = fr
	}
	return p, err
}

// planSelect analyses stmt against the union schema of the sources it reads.
func (e *Executor) planSelect(stmt *influxql.SelectStatement, src *source, now time.Time) (*selectPlan, error) {
	sch := src.schema
	p := &selectPlan{stmt: stmt, src: src, loc: stmt.TimeZone(), ascending: stmt.TimeAscending()}
	fs := stmt.FillSpec()
	p.fill, p.fillValue = fs.Option, fs.Value

	rest, tr, err := influxql.TimeCondition(stmt.Condition, now, p.loc)
	if err != nil {
		return nil, err
	}
	p.tr = tr
	p.emptyRange = tr.Empty()
	// A name that is not a field is a tag, even one no series has (InfluxDB: a
	// missing tag compares as the empty string).
	tagPart, fieldPart := influxql.SplitPredicates(rest, func(name string) bool {
		_, isField := sch.fields[name]
		return sch.tags[name] || !isField
	})
	if p.tagCond, err = tagExpr(tagPart); err != nil {
		return nil, err
	}
	p.fieldCond = fieldPart

	if p.interval, p.offset, err = stmt.GroupByTime(now); err != nil {
		return nil, err
	}
	if p.interval > 0 && !p.tr.HasMax() {
		// InfluxDB 1.x ends a GROUP BY time range without an upper bound
		// at now(): points written ahead of the clock stay out of
		// `time > now() - 6h` windows until their time comes.
		p.tr.Max = now.UnixNano()
		p.emptyRange = p.tr.Empty()
	}
	g := stmt.GroupByTags()
	p.groupAll, p.groupKeys, p.groupRegex = g.All, g.Keys, g.Regexes

	// Expand wildcards and regexes in the select list.
	for _, f := range stmt.Fields {
		if err := p.addField(f, sch); err != nil {
			return nil, err
		}
	}
	p.raw = len(p.calls) == 0
	if p.raw && p.interval > 0 {
		return nil, errorf("GROUP BY requires at least one aggregate function")
	}
	// sample(*, N) is one select-list entry expanded to a call per field, which
	// 1.x accepts; combining sample() with anything else it does not.
	oneSample := len(stmt.Fields) == 1 && len(p.calls) > 0 && p.calls[0].name == "sample"
	for _, c := range p.calls {
		if c.fn != nil && c.fn.MultiRow && len(p.calls) > 1 && !(oneSample && c.name == "sample") {
			return nil, errorf("%s() cannot be combined with other functions or fields", c.name)
		}
	}
	if err := p.choosePaths(); err != nil {
		return nil, err
	}
	p.exprCall = make([]int, len(p.exprs))
	for i, ex := range p.exprs {
		p.exprCall[i] = -1
		if c, ok := ex.(*influxql.Call); ok {
			if f, ok := funcs.Lookup(strings.ToLower(c.Name)); ok && f.Kind == funcs.Math {
				continue
			}
			for ci, cp := range p.calls {
				if cp.expr == c {
					p.exprCall[i] = ci
					break
				}
			}
		}
	}
	dedupColumnNames(p.columns, p.aliased)
	return p, nil
}

// choosePaths decides how each call runs and its output type. Partial states
// (query/partial) need a function that has one (the registry's Mergeable), no
// other fields or tags to carry along with a selected point (aux fields, top's
// and bottom's tag arguments), no per-row field filter and stored series
// (subquery results are points already); block headers answer for them only
// in ascending time order. Integral's state takes its points in time order
// and has no GROUP BY time interpolation.
func (p *selectPlan) choosePaths() error {
	aux := len(auxRefs(p.exprs)) > 0
	stored := p.src.allStored() // subquery results and real-time rollups are in memory
	for _, c := range p.calls {
		if err := p.resolveArg(c); err != nil {
			return err
		}
		if c.rawTrans {
			c.path = pathRawTransform
			c.outType = c.inType
		} else {
			c.path, c.why = pathWindow, ""
			switch {
			case !c.fn.Mergeable:
			case c.tag && (aux || p.fieldCond != nil || !stored):
				// The rows that pass, or a subquery's rows, one by one.
				c.why = "a tag's rows one by one"
			case c.tag:
				// Row counts per window, from block headers where a
				// series has one field and a block fits one window.
				c.path, c.why = pathPartial, "a tag: one weighted insert per series and window"
			case (c.name == "top" || c.name == "bottom") && hasStringArgs(c.args):
				c.why = "tag arguments, which partial states do not carry"
			case aux:
				c.why = "other fields carried with the selected point"
			case p.fieldCond != nil:
				c.why = "field filter per row"
			case !stored:
				c.why = "subquery source"
			case c.name == "stddev" && c.inType != funcs.String && c.inType != funcs.Boolean:
				// The state is Welford's, merged pairwise; InfluxDB takes two
				// passes over the time-merged points, and the recorded answers
				// are its bits.
				c.why = "InfluxDB's two-pass rounding"
			case c.name == "integral" && p.interval > 0:
				c.why = "GROUP BY time interpolates at window ends"
			case c.name == "integral" && !p.ascending:
				c.why = "ORDER BY time DESC"
			case c.name == "integral":
				// The executor checks the groups: integral's partials must be
				// time-disjoint, and series of one group overlap.
				c.path, c.why = pathPartial, "window function for groups of several series"
			case !c.fn.HeaderStats:
				c.path = pathPartial
			case !p.ascending:
				c.path, c.why = pathPartial, "ORDER BY time DESC"
			default:
				c.path = pathHeaders
			}
			c.outType = c.inType
			if c.inType != funcs.Unknown {
				c.outType, _ = c.fn.OutputType(c.inType) // a wrong type was refused by addCall
			}
		}
		if c.trans != nil {
			tf, err := c.trans.NewTransform(c.targs, p.interval)
			if err != nil {
				return err
			}
			c.tfunc = tf
			if c.outType != funcs.Unknown {
				out, err := c.trans.OutputType(c.outType)
				if err != nil {
					return err
				}
				c.outType = out
			}
		}
	}
	return nil
}

// addField adds the output columns of one select-list field.
func (p *selectPlan) addField(f *influxql.Field, sch *schema) error {
	switch x := f.Expr.(type) {
	case *influxql.VarRef:
		if x.Val == "time" {
			// The time column is always first; naming it only renames it.
			if f.Alias != "" {
				p.timeAlias = f.Alias
			}
			return nil
		}
	case *influxql.Wildcard:
		// SELECT *: every field and, for raw queries, every tag (not the GROUP BY ones).
		// A field and a tag of one name give two columns, the field's first
		// (k, then k_1 for the tag), each reference typed to read the right one.
		refs := typedRefs(sch, sch.fieldNames(), influxql.AnyField)
		if x.Type != influxql.AnyField {
			refs = append(refs, typedRefs(sch, sch.tagNames(), influxql.Tag)...)
		}
		sort.SliceStable(refs, func(i, j int) bool { return refs[i].Val < refs[j].Val })
		for _, ref := range refs {
			if sch.tags[ref.Val] && ref.Type != influxql.AnyField && p.isGroupTag(ref.Val) {
				continue
			}
			p.columns = append(p.columns, ref.Val)
			p.exprs = append(p.exprs, ref)
		}
		return nil
	case *influxql.RegexLiteral:
		for _, ref := range append(typedRefs(sch, sch.fieldNames(), influxql.AnyField), typedRefs(sch, sch.tagNames(), influxql.Tag)...) {
			if x.Val.MatchString(ref.Val) && !(sch.tags[ref.Val] && ref.Type != influxql.AnyField && p.isGroupTag(ref.Val)) {
				p.columns = append(p.columns, ref.Val)
				p.exprs = append(p.exprs, ref)
			}
		}
		return nil
	case *influxql.Call:
		// mean(*) and max(/re/) expand to one column per matching field.
		if expanded, ok, err := p.expandCall(x, f.Alias, sch); ok || err != nil {
			if err != nil {
				return err
			}
			for _, c := range expanded {
				if err := p.addExpr(c.expr, c.name, sch); err != nil {
					return err
				}
			}
			return nil
		}
	}
	name := f.Alias
	if name == "" {
		name = columnName(f.Expr)
	}
	if err := p.addExpr(f.Expr, name, sch); err != nil {
		return err
	}
	if f.Alias != "" {
		p.aliased = append(p.aliased, len(p.columns)-1)
	}
	return nil
}

// typedRefs makes a reference to each name, of type t (AnyField or Tag) when
// the name is both a field and a tag; otherwise untyped, reading whichever it is.
func typedRefs(sch *schema, names []string, t influxql.DataType) []*influxql.VarRef {
	out := make([]*influxql.VarRef, len(names))
	for i, n := range names {
		out[i] = &influxql.VarRef{Val: n}
		if _, isField := sch.fields[n]; isField && sch.tags[n] {
			out[i].Type = t
		}
	}
	return out
}

type namedExpr struct {
	expr influxql.Expr
	name string
}

// expandCall expands a call whose field argument is * or a regex.
func (p *selectPlan) expandCall(c *influxql.Call, alias string, sch *schema) ([]namedExpr, bool, error) {
	inner, wrap := c, (*influxql.Call)(nil)
	if funcs.IsTransform(c.Name) && len(c.Args) > 0 {
		if ic, ok := c.Args[0].(*influxql.Call); ok {
			inner, wrap = ic, c
		}
	}
	if len(inner.Args) == 0 {
		return nil, false, nil
	}
	arg := inner.Args[0]
	if d, ok := arg.(*influxql.Call); ok && strings.EqualFold(d.Name, "distinct") && len(d.Args) == 1 {
		arg = d.Args[0]
	}
	var match func(string) bool
	switch a := arg.(type) {
	case *influxql.Wildcard:
		match = func(string) bool { return true }
	case *influxql.RegexLiteral:
		match = a.Val.MatchString
	default:
		return nil, false, nil
	}
	var out []namedExpr
	for _, fname := range sch.fieldNames() {
		if !match(fname) {
			continue
		}
		if _, err := funcs.OutputType(callName(inner), funcType(sch.fields[fname])); err != nil {
			continue // mean(*) skips the string fields
		}
		ref := &influxql.VarRef{Val: fname}
		nc := &influxql.Call{Name: inner.Name, Args: append([]influxql.Expr{ref}, inner.Args[1:]...)}
		if d, ok := inner.Args[0].(*influxql.Call); ok && strings.EqualFold(d.Name, "distinct") {
			nc.Args[0] = &influxql.Call{Name: "distinct", Args: []influxql.Expr{ref}}
		}
		var ex influxql.Expr = nc
		name := inner.Name + "_" + fname
		if wrap != nil {
			ex = &influxql.Call{Name: wrap.Name, Args: append([]influxql.Expr{nc}, wrap.Args[1:]...)}
			name = wrap.Name + "_" + fname
		}
		if alias != "" {
			name = alias + "_" + fname
		}
		out = append(out, namedExpr{ex, name})
	}
	return out, true, nil
}

func callName(c *influxql.Call) string {
	if strings.EqualFold(c.Name, "count") && len(c.Args) == 1 {
		if d, ok := c.Args[0].(*influxql.Call); ok && strings.EqualFold(d.Name, "distinct") {
			return "count_distinct"
		}
	}
	return strings.ToLower(c.Name)
}

func funcType(t storage.FieldType) funcs.Type { return funcs.Type(t) }

// addExpr adds one output column computing ex, registering the calls inside it.
func (p *selectPlan) addExpr(ex influxql.Expr, name string, sch *schema) error {
	var err error
	influxql.Walk(ex, func(n influxql.Node) {
		if err != nil {
			return
		}
		c, ok := n.(*influxql.Call)
		if !ok {
			return
		}
		err = p.addCall(c, sch)
	})
	if err != nil {
		return err
	}
	p.columns = append(p.columns, name)
	p.exprs = append(p.exprs, ex)
	// top(x, tag, N) and bottom() print the tags' values as columns after the
	// value, approx_top_k its counts and error bounds.
	if c, ok := ex.(*influxql.Call); ok {
		for _, cp := range p.calls {
			if cp.expr == c {
				p.extraCols = append(p.extraCols, extraColumns(cp)...)
				p.extraAt = len(p.columns)
			}
		}
	}
	return nil
}

// addCall registers call c (once: Walk also visits calls nested in a transform,
// which the transform's plan already covers).
func (p *selectPlan) addCall(c *influxql.Call, sch *schema) error {
	for _, have := range p.calls {
		if containsNode(have.expr, c) {
			return nil
		}
	}
	name := strings.ToLower(c.Name)
	if funcs.IsMath(name) {
		// Evaluated per row (evalExpr); Walk visits the calls inside it.
		return checkMathTypes(c, name, sch)
	}
	cp := &callPlan{expr: c}
	inner := c
	if funcs.IsTransform(name) {
		if len(c.Args) == 0 {
			return errorf("invalid number of arguments for %s, expected at least 1, got 0", name)
		}
		cp.transform = name
		cp.trans, _ = funcs.Lookup(name)
		cp.targs = cp.trans.CallArgs(c)
		ic, ok := c.Args[0].(*influxql.Call)
		if !ok {
			// derivative(x): a transformation of the raw values.
			ref, ok := c.Args[0].(*influxql.VarRef)
			if !ok {
				return errorf("expected field argument in %s()", name)
			}
			cp.rawTrans = true
			cp.field = ref.Val
			p.calls = append(p.calls, cp)
			return nil
		}
		inner = ic
	}
	cp.name = callName(inner)
	if funcs.IsTransform(cp.name) {
		return errorf("%s cannot be nested in %s", cp.name, name)
	}
	if len(inner.Args) == 0 {
		return errorf("invalid number of arguments for %s, expected at least 1, got 0", cp.name)
	}
	arg := inner.Args[0]
	if d, ok := arg.(*influxql.Call); ok && strings.EqualFold(d.Name, "distinct") && len(d.Args) == 1 {
		if cp.name == "count_distinct" {
			arg = d.Args[0]
		}
	}
	ref, ok := arg.(*influxql.VarRef)
	if !ok {
		return errorf("expected field argument in %s()", cp.name)
	}
	cp.field, cp.cast = ref.Val, ref.Type
	f, ok := funcs.Lookup(cp.name)
	if !ok {
		return errorf("undefined function %s()", inner.Name)
	}
	// top(field, [tag or field names...,] N): the names come first, as strings.
	cp.args = f.CallArgs(inner)
	cp.fn = f
	if (cp.name == "top" || cp.name == "bottom") && len(cp.args) > 0 {
		if n, ok := cp.args[len(cp.args)-1].(int64); ok && p.stmt.Limit > 0 && n > int64(p.stmt.Limit) {
			return errorf("limit (%d) in %s function can not be larger than the LIMIT (%d) in the select statement", n, cp.name, p.stmt.Limit)
		}
	}
	w, err := f.NewWindow(cp.args)
	if err != nil {
		return err
	}
	cp.window = w
	if t, ok := sch.fields[cp.field]; ok && cp.cast != influxql.Tag {
		if _, err := funcs.OutputType(cp.name, funcType(t)); err != nil {
			return err
		}
	}
	p.calls = append(p.calls, cp)
	return nil
}

// containsNode reports whether n is ex or nested in it: the distinct() of
// count(distinct(x)) and the aggregate inside a transformation belong to the call
// that holds them, not to calls of their own.
func containsNode(ex influxql.Expr, n influxql.Node) bool {
	found := false
	influxql.Walk(ex, func(m influxql.Node) {
		if m == n {
			found = true
		}
	})
	return found
}

// checkMathTypes rejects a math function over a field whose type it does not
// take (abs of a string), as InfluxDB does before reading; other arguments'
// types are known only per row, where a wrong one yields null.
func checkMathTypes(c *influxql.Call, name string, sch *schema) error {
	f, _ := funcs.Lookup(name)
	in := make([]funcs.Type, len(c.Args))
	for i, a := range c.Args {
		if ref, ok := a.(*influxql.VarRef); ok {
			if t, ok := sch.fields[ref.Val]; ok {
				in[i] = funcType(t)
			}
		}
	}
	_, err := f.MathType(in)
	return err
}

func (p *selectPlan) isGroupTag(name string) bool {
	if p.groupAll {
		return true
	}
	for _, k := range p.groupKeys {
		if k == name {
			return true
		}
	}
	for _, re := range p.groupRegex {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// groupTags returns the GROUP BY tag keys present for a series' tag set.
func (p *selectPlan) groupTagKeys(allTags []string) []string {
	var out []string
	seen := map[string]bool{}
	if p.groupAll {
		return allTags
	}
	for _, k := range p.groupKeys {
		if !seen[k] {
			out = append(out, k)
			seen[k] = true
		}
	}
	for _, re := range p.groupRegex {
		for _, k := range allTags {
			if re.MatchString(k) && !seen[k] {
				out = append(out, k)
				seen[k] = true
			}
		}
	}
	sort.Strings(out)
	return out
}

// columnName names an output column as InfluxDB 1.x does: a field by its name, a
// call by its function name, an expression by the names inside it joined by "_".
func columnName(ex influxql.Expr) string {
	switch x := ex.(type) {
	case *influxql.VarRef:
		return x.Val
	case *influxql.Call:
		return strings.ToLower(x.Name)
	case *influxql.ParenExpr:
		return columnName(x.Expr)
	case *influxql.BinaryExpr:
		return strings.Join(outerNames(x), "_")
	}
	return ""
}

func outerNames(ex influxql.Expr) []string {
	switch x := ex.(type) {
	case *influxql.VarRef:
		return []string{x.Val}
	case *influxql.Call:
		return []string{strings.ToLower(x.Name)}
	case *influxql.ParenExpr:
		return outerNames(x.Expr)
	case *influxql.BinaryExpr:
		return append(outerNames(x.LHS), outerNames(x.RHS)...)
	}
	return nil
}

// dedupColumnNames renames repeated generated column names name, name_1,
// name_2..., as 1.x does: names given with AS (the aliased indexes) are kept as
// written, even twice, and a generated name that one of them takes moves on.
func dedupColumnNames(cols []string, aliased []int) {
	seen := map[string]int{}
	isAlias := map[int]bool{}
	for _, i := range aliased {
		isAlias[i] = true
		seen[cols[i]] = 1
	}
	for i, c := range cols {
		if isAlias[i] {
			continue
		}
		if n, ok := seen[c]; ok {
			for {
				cand := fmt.Sprintf("%s_%d", c, n)
				if _, taken := seen[cand]; !taken {
					seen[c] = n + 1
					cols[i] = cand
					seen[cand] = 1
					break
				}
				n++
			}
			continue
		}
		seen[c] = 1
	}
}
