package influxql

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"
	"time"
)

// The representable time range. InfluxDB reserves the two extreme int64
// values on each side as sentinels, so a stored point is always strictly
// inside [math.MinInt64, math.MaxInt64]; Strata keeps the same bounds so
// that ranges computed here compare equal to InfluxDB's.
const (
	MinTime int64 = math.MinInt64 + 2
	MaxTime int64 = math.MaxInt64 - 1
)

// TimeRange is an inclusive range of nanosecond timestamps. A range with
// Min > Max is empty (e.g. `time > 5 AND time < 3`).
type TimeRange struct {
	Min, Max int64
}

// Unbounded is the range without any time condition.
var Unbounded = TimeRange{Min: MinTime, Max: MaxTime}

// Empty reports whether no timestamp satisfies the range.
func (r TimeRange) Empty() bool { return r.Min > r.Max }

// HasMin reports whether the condition gave a lower bound.
func (r TimeRange) HasMin() bool { return r.Min != MinTime }

// HasMax reports whether the condition gave an upper bound.
func (r TimeRange) HasMax() bool { return r.Max != MaxTime }

// Intersect returns the overlap of r and o.
func (r TimeRange) Intersect(o TimeRange) TimeRange {
	if o.Min > r.Min {
		r.Min = o.Min
	}
	if o.Max < r.Max {
		r.Max = o.Max
	}
	return r
}

// TimeCondition separates the time comparisons from a WHERE condition. It
// returns the condition without them (nil if nothing is left) and the range
// they allow. now() resolves to now; time strings without a zone are read in
// loc (UTC when nil). `time > x` means Min = x+1 and `time < x` Max = x-1.
//
// Like InfluxDB 1.x, time comparisons anywhere in the tree, including under
// OR, are intersected: there is no union of time ranges, so
// `time < a OR time > b` yields an empty range.
func TimeCondition(cond Expr, now time.Time, loc *time.Location) (Expr, TimeRange, error) {
	if cond == nil {
		return nil, Unbounded, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	return timeCondition(cond, now, loc)
}

func timeCondition(e Expr, now time.Time, loc *time.Location) (Expr, TimeRange, error) {
	switch e := e.(type) {
	case *ParenExpr:
		inner, tr, err := timeCondition(e.Expr, now, loc)
		if err != nil || inner == nil {
			return nil, tr, err
		}
		if _, ok := inner.(*BinaryExpr); !ok {
			return inner, tr, nil
		}
		return &ParenExpr{Expr: inner}, tr, nil
	case *BinaryExpr:
		switch e.Op {
		case AND, OR:
			l, lr, err := timeCondition(e.LHS, now, loc)
			if err != nil {
				return nil, lr, err
			}
			r, rr, err := timeCondition(e.RHS, now, loc)
			if err != nil {
				return nil, rr, err
			}
			tr := lr.Intersect(rr)
			switch {
			case l == nil:
				return r, tr, nil
			case r == nil:
				return l, tr, nil
			}
			return &BinaryExpr{Op: e.Op, LHS: l, RHS: r}, tr, nil
		case EQ, NEQ, LT, LTE, GT, GTE, EQREGEX, NEQREGEX:
			if isTimeRef(e.LHS) {
				tr, err := timeComparison(e.Op, e.RHS, now, loc)
				return nil, tr, err
			}
			if isTimeRef(e.RHS) {
				tr, err := timeComparison(mirror(e.Op), e.LHS, now, loc)
				return nil, tr, err
			}
		}
	}
	return e, Unbounded, nil
}

// mirror returns the operator for swapped operands (`x < time` is
// `time > x`).
func mirror(op Token) Token {
	switch op {
	case LT:
		return GT
	case LTE:
		return GTE
	case GT:
		return LT
	case GTE:
		return LTE
	}
	return op
}

func isTimeRef(e Expr) bool {
	ref, ok := e.(*VarRef)
	return ok && strings.EqualFold(ref.Val, "time")
}

func timeComparison(op Token, val Expr, now time.Time, loc *time.Location) (TimeRange, error) {
	v, err := evalTime(val, now, loc)
	if err != nil {
		return Unbounded, err
	}
	tr := Unbounded
	switch op {
	case EQ:
		tr.Min, tr.Max = v, v
	case GT:
		tr.Min = satAdd(v, 1)
	case GTE:
		tr.Min = v
	case LT:
		tr.Max = satAdd(v, -1)
	case LTE:
		tr.Max = v
	default:
		return Unbounded, fmt.Errorf("invalid operation: time %s %s is not supported", op, val)
	}
	tr.Min = max(tr.Min, MinTime)
	tr.Max = min(tr.Max, MaxTime)
	return tr, nil
}

// evalTime reduces the operand of a time comparison to nanoseconds: time
// strings, epoch integers and numbers, durations (1704067200000ms), now()
// and sums or differences of those.
func evalTime(e Expr, now time.Time, loc *time.Location) (int64, error) {
	switch e := e.(type) {
	case *ParenExpr:
		return evalTime(e.Expr, now, loc)
	case *StringLiteral:
		t, err := ParseTime(e.Val, loc)
		if err != nil {
			return 0, incompatibleWithTime(e)
		}
		return t.UnixNano(), nil
	case *TimeLiteral:
		return e.Val.UnixNano(), nil
	case *IntegerLiteral:
		return e.Val, nil
	case *NumberLiteral:
		if math.IsNaN(e.Val) || e.Val < math.MinInt64 || e.Val >= math.MaxInt64 {
			return 0, incompatibleWithTime(e)
		}
		return int64(e.Val), nil
	case *DurationLiteral:
		return int64(e.Val), nil
	case *Call:
		if strings.EqualFold(e.Name, "now") && len(e.Args) == 0 {
			return now.UnixNano(), nil
		}
	case *BinaryExpr:
		if e.Op == ADD || e.Op == SUB {
			l, err := evalTime(e.LHS, now, loc)
			if err != nil {
				return 0, err
			}
			r, err := evalTime(e.RHS, now, loc)
			if err != nil {
				return 0, err
			}
			if e.Op == SUB {
				if r == math.MinInt64 {
					return 0, incompatibleWithTime(e)
				}
				r = -r
			}
			return satAdd(l, r), nil
		}
	}
	return 0, incompatibleWithTime(e)
}

func incompatibleWithTime(e Expr) error {
	return fmt.Errorf("invalid operation: time and %T are not compatible", e)
}

// satAdd adds without wrapping around.
func satAdd(a, b int64) int64 {
	s := a + b
	if b > 0 && s < a {
		return math.MaxInt64
	}
	if b < 0 && s > a {
		return math.MinInt64
	}
	return s
}

// timeLayouts are the time-string forms InfluxQL accepts in a time
// comparison, most specific first.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

// ParseTime parses a time string as InfluxQL does: RFC3339 (with zone), or
// "2006-01-02 15:04:05[.fraction]" or a bare date, both read in loc.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range timeLayouts[1:] {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time string %q", s)
}

// SplitPredicates splits a condition (already stripped of time comparisons)
// into the conjuncts that reference only tags, which the tag index can
// answer, and everything else, which must be evaluated per row. A ref
// counts as a tag when cast with ::tag, or, uncast, when isTag says so; a
// conjunct mixing tags and fields (`host = 'a' OR usage > 5`) or
// referencing nothing goes to fields, since rows carry their tags too.
func SplitPredicates(cond Expr, isTag func(name string) bool) (tags, fields Expr) {
	for _, c := range conjuncts(cond, nil) {
		if onlyTags(c, isTag) {
			tags = and(tags, c)
		} else {
			fields = and(fields, c)
		}
	}
	return tags, fields
}

// conjuncts flattens a tree of ANDs (looking through parentheses).
func conjuncts(e Expr, out []Expr) []Expr {
	switch x := e.(type) {
	case nil:
		return out
	case *ParenExpr:
		if be, ok := x.Expr.(*BinaryExpr); ok && be.Op == AND {
			return conjuncts(be, out)
		}
		if _, ok := x.Expr.(*ParenExpr); ok {
			return conjuncts(x.Expr, out)
		}
	case *BinaryExpr:
		if x.Op == AND {
			return conjuncts(x.RHS, conjuncts(x.LHS, out))
		}
	}
	return append(out, e)
}

func and(acc, e Expr) Expr {
	if acc == nil {
		return e
	}
	return &BinaryExpr{Op: AND, LHS: acc, RHS: e}
}

func onlyTags(e Expr, isTag func(string) bool) bool {
	sawTag, sawOther := false, false
	Walk(e, func(n Node) {
		ref, ok := n.(*VarRef)
		if !ok {
			return
		}
		switch {
		case ref.Type == Tag:
			sawTag = true
		case ref.Type == Unknown && isTag != nil && isTag(ref.Val):
			sawTag = true
		default:
			sawOther = true
		}
	})
	return sawTag && !sawOther
}

// Walk calls fn for n and every expression below it, depth first.
func Walk(n Node, fn func(Node)) {
	if n == nil {
		return
	}
	fn(n)
	switch n := n.(type) {
	case *BinaryExpr:
		Walk(n.LHS, fn)
		Walk(n.RHS, fn)
	case *ParenExpr:
		Walk(n.Expr, fn)
	case *Call:
		for _, a := range n.Args {
			Walk(a, fn)
		}
	}
}

// ---- GROUP BY ----

// ErrTimeDimensionArgs and friends are InfluxDB's texts for a malformed
// GROUP BY time(...).
var (
	errTimeDimensionArgs     = errors.New("time dimension expected 1 or 2 arguments")
	errTimeDimensionDuration = errors.New("time dimension must have duration argument")
	errTimeDimensionOffset   = errors.New("time dimension offset must be duration or now()")
	errMultipleTimeDimension = errors.New("multiple time dimensions not allowed")
)

// timeDimension returns the GROUP BY time(...) call, if any.
func (s *SelectStatement) timeDimension() (*Call, error) {
	var found *Call
	for _, d := range s.Dimensions {
		c, ok := d.Expr.(*Call)
		if !ok || !strings.EqualFold(c.Name, "time") {
			continue
		}
		if found != nil {
			return nil, errMultipleTimeDimension
		}
		found = c
	}
	return found, nil
}

// GroupByInterval returns the bucket width of GROUP BY time(...), or 0 when
// the statement does not group by time.
func (s *SelectStatement) GroupByInterval() (time.Duration, error) {
	c, err := s.timeDimension()
	if err != nil || c == nil {
		return 0, err
	}
	if len(c.Args) == 0 || len(c.Args) > 2 {
		return 0, errTimeDimensionArgs
	}
	d, ok := c.Args[0].(*DurationLiteral)
	if !ok {
		return 0, errTimeDimensionDuration
	}
	return d.Val, nil
}

// GroupByTime returns the interval and the bucket offset of GROUP BY
// time(interval[, offset]), with the offset normalised into [0, interval).
// An offset of now() aligns buckets to now. Interval 0 means no time
// grouping.
func (s *SelectStatement) GroupByTime(now time.Time) (interval, offset time.Duration, err error) {
	interval, err = s.GroupByInterval()
	if err != nil || interval <= 0 {
		return interval, 0, err
	}
	c, _ := s.timeDimension()
	if len(c.Args) == 2 {
		switch a := c.Args[1].(type) {
		case *DurationLiteral:
			offset = a.Val
		case *Call:
			if !strings.EqualFold(a.Name, "now") || len(a.Args) != 0 {
				return 0, 0, errTimeDimensionOffset
			}
			offset = time.Duration(now.UnixNano() % int64(interval))
		default:
			return 0, 0, errTimeDimensionOffset
		}
	}
	offset %= interval
	if offset < 0 {
		offset += interval
	}
	return interval, offset, nil
}

// GroupByTags describes the non-time GROUP BY dimensions.
type GroupByTags struct {
	// Keys are the tag keys named explicitly, in query order.
	Keys []string
	// Regexes select every tag key they match.
	Regexes []*regexp.Regexp
	// All is set by GROUP BY *.
	All bool
}

// GroupByTags returns the tag dimensions of the statement.
func (s *SelectStatement) GroupByTags() GroupByTags {
	var g GroupByTags
	for _, d := range s.Dimensions {
		switch e := d.Expr.(type) {
		case *VarRef:
			g.Keys = append(g.Keys, e.Val)
		case *RegexLiteral:
			g.Regexes = append(g.Regexes, e.Val)
		case *Wildcard:
			g.All = true
		}
	}
	return g
}

// FillSpec is the fill mode and value of a statement.
type FillSpec struct {
	Option FillOption
	// Value is an int64 or float64 for NumberFill, nil otherwise.
	Value any
}

// FillSpec returns the fill() option of the statement.
func (s *SelectStatement) FillSpec() FillSpec { return FillSpec{Option: s.Fill, Value: s.FillValue} }

// TimeZone returns the tz() location, UTC when none was given.
func (s *SelectStatement) TimeZone() *time.Location {
	if s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// IsRawQuery reports whether no field calls a function, i.e. the statement
// returns stored points rather than aggregates.
func (s *SelectStatement) IsRawQuery() bool {
	raw := true
	for _, f := range s.Fields {
		Walk(f.Expr, func(n Node) {
			if _, ok := n.(*Call); ok {
				raw = false
			}
		})
	}
	return raw
}

// locations caches tz() lookups: time.LoadLocation reads and decodes the
// zone file on every call, which costs more than parsing the whole query,
// and dashboards send the same zone with every panel refresh.
var locations sync.Map // string -> *time.Location

// loadLocation resolves a tz() argument.
func loadLocation(name string) (*time.Location, error) {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, loc)
	return loc, nil
}
