package influxql

import (
	"errors"
	"fmt"
	"strings"
)

// FuncKind classifies a function for the checks Validate makes on the select
// list as a whole (what may be mixed with what).
type FuncKind uint8

// The kinds of InfluxQL functions.
const (
	AggregateFunc FuncKind = iota + 1 // one value per bucket: count, mean, ...
	SelectorFunc                      // one point per bucket, keeps its time and may carry raw fields
	TransformFunc                     // derivative, difference, holt_winters...: a series from a series
	MathFunc                          // scalar functions applied per value
)

// FuncInfo is what Validate needs to know of one function.
type FuncInfo struct {
	Kind FuncKind
	// MultiRow marks top, bottom, sample and distinct: several points per
	// bucket, which cannot share a row with other calls.
	MultiRow bool
}

// Functions is the function library Validate checks calls against. This
// package knows no function by itself: query/funcs declares each one once
// (name, kind, argument rules with InfluxDB's error texts) and implements
// Functions, so the parser never drifts from the executor.
type Functions interface {
	// LookupFunc returns the function called name (lower case).
	LookupFunc(name string) (FuncInfo, bool)
	// CheckCall checks the arguments of c, a call of a known function: their
	// number, the first argument's shape (a field, or an aggregate inside a
	// transformation under GROUP BY time) and the literals after it, with
	// InfluxDB's error texts. Calls nested in c's arguments are not checked:
	// Validate walks into them itself.
	CheckCall(c *Call, groupByTime bool) error
}

// Errors with InfluxDB's wording that callers may want to match.
var (
	ErrMixedAggregate   = errors.New("mixing aggregate and non-aggregate queries is not supported")
	ErrGroupByAggregate = errors.New("GROUP BY requires at least one aggregate function")
	ErrTimeOnly         = errors.New("at least 1 non-time field must be queried")
)

// Validate applies InfluxDB's semantic checks to a parsed SELECT: known
// functions with the right arguments, no mixing of aggregates and raw fields
// (except next to a single selector), GROUP BY time only with aggregates,
// well-formed dimensions. The error texts are InfluxDB's, which returns them
// as statement errors (HTTP 200), not parse errors.
func (s *SelectStatement) Validate(fns Functions) error {
	for _, src := range s.Sources {
		if sq, ok := src.(*SubQuery); ok {
			if err := sq.Statement.Validate(fns); err != nil {
				return err
			}
		}
	}
	interval, err := s.GroupByInterval()
	if err != nil {
		return err
	}
	if err := s.validateDimensions(); err != nil {
		return err
	}
	v := &fieldValidator{fns: fns, groupByTime: interval > 0}
	nonTime := 0
	for _, f := range s.Fields {
		if ref, ok := f.Expr.(*VarRef); !ok || !strings.EqualFold(ref.Val, "time") {
			nonTime++
		}
		if err := v.expr(f.Expr, false); err != nil {
			return err
		}
	}
	if nonTime == 0 {
		return ErrTimeOnly
	}
	calls := v.aggregates + v.selectors + v.multiSelectors + v.transformations
	if calls == 0 {
		if interval > 0 {
			return ErrGroupByAggregate
		}
		return nil
	}
	if v.multiSelectors > 0 && calls > 1 {
		for _, name := range v.names {
			if info, _ := fns.LookupFunc(name); info.MultiRow {
				if name == "distinct" {
					return errors.New("aggregate function distinct() cannot be combined with other functions or fields")
				}
				return fmt.Errorf("selector function %s() cannot be combined with other functions", name)
			}
		}
	}
	if v.rawRefs > 0 {
		// A lone selector (or top/bottom/sample) picks real points, so the
		// other columns of those points can be returned with it.
		if calls > 1 || v.aggregates > 0 || v.transformations > 0 {
			return ErrMixedAggregate
		}
		if len(v.names) == 1 && v.names[0] == "distinct" {
			return errors.New("aggregate function distinct() cannot be combined with other functions or fields")
		}
	}
	return nil
}

func (s *SelectStatement) validateDimensions() error {
	for _, d := range s.Dimensions {
		switch e := d.Expr.(type) {
		case *VarRef, *Wildcard, *RegexLiteral:
		case *Call:
			if !strings.EqualFold(e.Name, "time") {
				return errors.New("only time() calls allowed in dimensions")
			}
			if len(e.Args) == 0 || len(e.Args) > 2 {
				return errTimeDimensionArgs
			}
			d, ok := e.Args[0].(*DurationLiteral)
			if !ok {
				return errTimeDimensionDuration
			}
			if d.Val <= 0 {
				return fmt.Errorf("time dimension must have a positive duration, got %s", d)
			}
			if len(e.Args) == 2 {
				switch o := e.Args[1].(type) {
				case *DurationLiteral:
				case *Call:
					if !strings.EqualFold(o.Name, "now") || len(o.Args) != 0 {
						return errTimeDimensionOffset
					}
				default:
					return errTimeDimensionOffset
				}
			}
		default:
			return errors.New("only time and tag dimensions allowed")
		}
	}
	return nil
}

// fieldValidator walks the SELECT fields counting what kinds of values they
// produce.
type fieldValidator struct {
	fns         Functions
	groupByTime bool

	aggregates, selectors, multiSelectors, transformations int
	rawRefs                                                int
	names                                                  []string
}

// expr validates e; inCall is set below a function call, where references
// are arguments rather than raw output columns.
func (v *fieldValidator) expr(e Expr, inCall bool) error {
	switch e := e.(type) {
	case *VarRef:
		if !inCall && !strings.EqualFold(e.Val, "time") {
			v.rawRefs++
		}
	case *Wildcard, *RegexLiteral:
		if !inCall {
			v.rawRefs++
		}
	case *ParenExpr:
		return v.expr(e.Expr, inCall)
	case *BinaryExpr:
		if err := v.expr(e.LHS, inCall); err != nil {
			return err
		}
		return v.expr(e.RHS, inCall)
	case *Call:
		return v.call(e)
	}
	return nil
}

func (v *fieldValidator) call(c *Call) error {
	name := strings.ToLower(c.Name)
	info, ok := v.fns.LookupFunc(name)
	if !ok {
		return fmt.Errorf("undefined function %s()", c.Name)
	}
	if err := v.fns.CheckCall(c, v.groupByTime); err != nil {
		return err
	}
	v.names = append(v.names, name)
	switch {
	case info.Kind == MathFunc:
		// Math functions are per-value: their arguments decide whether the
		// column is raw or aggregated.
		for _, a := range c.Args {
			if err := v.expr(a, false); err != nil {
				return err
			}
		}
		return nil
	case info.MultiRow:
		v.multiSelectors++
	case info.Kind == AggregateFunc:
		v.aggregates++
	case info.Kind == SelectorFunc:
		v.selectors++
	case info.Kind == TransformFunc:
		v.transformations++
		// The aggregate inside (CheckCall allowed it) is validated but counts
		// as part of this column.
		if len(c.Args) > 0 {
			if inner, ok := c.Args[0].(*Call); ok {
				saved := *v
				err := v.call(inner)
				names := v.names
				*v = saved
				v.names = names
				return err
			}
		}
	}
	return nil
}
