package influxql

import (
	"errors"
	"fmt"
	"strings"
)

// funcKind classifies the functions InfluxQL knows.
type funcKind int

const (
	aggregateFunc      funcKind = iota + 1 // one value per bucket: count, mean, ...
	selectorFunc                           // one point per bucket, keeps its time and may carry raw fields
	multiSelectorFunc                      // top/bottom/sample/distinct: several points
	transformationFunc                     // derivative, difference, ...: a series from a series
	mathFunc                               // scalar functions applied per value
)

// functions maps every function InfluxDB 1.x accepts in a field to its kind.
var functions = map[string]funcKind{
	"count": aggregateFunc, "sum": aggregateFunc, "mean": aggregateFunc,
	"median": aggregateFunc, "mode": aggregateFunc, "spread": aggregateFunc,
	"stddev": aggregateFunc, "integral": aggregateFunc,

	"min": selectorFunc, "max": selectorFunc, "first": selectorFunc,
	"last": selectorFunc, "percentile": selectorFunc,

	"top": multiSelectorFunc, "bottom": multiSelectorFunc,
	"sample": multiSelectorFunc, "distinct": multiSelectorFunc,

	"derivative": transformationFunc, "non_negative_derivative": transformationFunc,
	"difference": transformationFunc, "non_negative_difference": transformationFunc,
	"moving_average": transformationFunc, "cumulative_sum": transformationFunc,
	"elapsed": transformationFunc, "holt_winters": transformationFunc,
	"holt_winters_with_fit": transformationFunc,

	"abs": mathFunc, "sin": mathFunc, "cos": mathFunc, "tan": mathFunc,
	"asin": mathFunc, "acos": mathFunc, "atan": mathFunc, "atan2": mathFunc,
	"exp": mathFunc, "ln": mathFunc, "log": mathFunc, "log2": mathFunc,
	"log10": mathFunc, "sqrt": mathFunc, "pow": mathFunc, "floor": mathFunc,
	"ceil": mathFunc, "round": mathFunc,
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
func (s *SelectStatement) Validate() error {
	for _, src := range s.Sources {
		if sq, ok := src.(*SubQuery); ok {
			if err := sq.Statement.Validate(); err != nil {
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
	v := &fieldValidator{groupByTime: interval > 0}
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
			if k := functions[name]; k == multiSelectorFunc {
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
	kind, ok := functions[name]
	if !ok {
		return fmt.Errorf("undefined function %s()", c.Name)
	}
	v.names = append(v.names, name)
	switch kind {
	case aggregateFunc:
		v.aggregates++
	case selectorFunc:
		v.selectors++
	case multiSelectorFunc:
		v.multiSelectors++
	case transformationFunc:
		v.transformations++
	case mathFunc:
		return v.mathCall(name, c)
	}
	switch name {
	case "count":
		if err := wantArgs(name, c, 1, 1); err != nil {
			return err
		}
		if d, ok := c.Args[0].(*Call); ok && strings.EqualFold(d.Name, "distinct") {
			return distinctArgs(d)
		}
		return fieldArg(name, c.Args[0])
	case "distinct":
		return distinctArgs(c)
	case "sum", "mean", "median", "mode", "spread", "stddev", "min", "max", "first", "last":
		if err := wantArgs(name, c, 1, 1); err != nil {
			return err
		}
		return fieldArg(name, c.Args[0])
	case "integral":
		if err := wantArgs(name, c, 1, 2); err != nil {
			return err
		}
		if err := fieldArg(name, c.Args[0]); err != nil {
			return err
		}
		return durationArg(name, c, 1)
	case "percentile":
		if err := wantArgs(name, c, 2, 2); err != nil {
			return err
		}
		if err := fieldArg(name, c.Args[0]); err != nil {
			return err
		}
		switch c.Args[1].(type) {
		case *IntegerLiteral, *NumberLiteral:
			return nil
		}
		return fmt.Errorf("expected float argument in percentile()")
	case "sample":
		if err := wantArgs(name, c, 2, 2); err != nil {
			return err
		}
		if err := fieldArg(name, c.Args[0]); err != nil {
			return err
		}
		n, ok := c.Args[1].(*IntegerLiteral)
		if !ok {
			return fmt.Errorf("expected integer argument in sample()")
		}
		if n.Val < 1 {
			return fmt.Errorf("sample window must be greater than 1, got %d", n.Val)
		}
		return nil
	case "top", "bottom":
		if len(c.Args) < 2 {
			return fmt.Errorf("invalid number of arguments for %s, expected at least 2, got %d", name, len(c.Args))
		}
		if err := fieldArg(name, c.Args[0]); err != nil {
			return err
		}
		last := c.Args[len(c.Args)-1]
		n, ok := last.(*IntegerLiteral)
		if !ok {
			return fmt.Errorf("expected integer as last argument in %s(), found %s", name, last)
		}
		if n.Val <= 0 {
			return fmt.Errorf("limit (%d) in %s function must be at least 1", n.Val, name)
		}
		for _, a := range c.Args[1 : len(c.Args)-1] {
			if _, ok := a.(*VarRef); !ok {
				return fmt.Errorf("only fields or tags are allowed in %s(), found %s", name, a)
			}
		}
		return nil
	}
	return v.transformationCall(name, c)
}

func (v *fieldValidator) transformationCall(name string, c *Call) error {
	switch name {
	case "derivative", "non_negative_derivative", "elapsed":
		if err := wantArgs(name, c, 1, 2); err != nil {
			return err
		}
		if len(c.Args) == 2 {
			d, ok := c.Args[1].(*DurationLiteral)
			if !ok {
				return fmt.Errorf("second argument to %s must be a duration, got %T", name, c.Args[1])
			}
			if d.Val <= 0 {
				return fmt.Errorf("duration argument must be positive, got %s", d)
			}
		}
	case "difference", "non_negative_difference", "cumulative_sum":
		if err := wantArgs(name, c, 1, 1); err != nil {
			return err
		}
	case "moving_average":
		if err := wantArgs(name, c, 2, 2); err != nil {
			return err
		}
		n, ok := c.Args[1].(*IntegerLiteral)
		if !ok {
			return fmt.Errorf("second argument for moving_average must be an integer, got %T", c.Args[1])
		}
		if n.Val <= 1 {
			return fmt.Errorf("moving_average window must be greater than 1, got %d", n.Val)
		}
	case "holt_winters", "holt_winters_with_fit":
		if err := wantArgs(name, c, 3, 3); err != nil {
			return err
		}
		if !v.groupByTime {
			return fmt.Errorf("must use aggregate function with %s", name)
		}
		for i, what := range []string{"N", "S"} {
			if n, ok := c.Args[i+1].(*IntegerLiteral); !ok || n.Val < 0 {
				return fmt.Errorf("%s argument must be a non-negative integer, got %s", what, c.Args[i+1])
			}
		}
	}
	// With GROUP BY time a transformation works on per-bucket aggregates,
	// without it on raw values.
	arg := c.Args[0]
	if v.groupByTime {
		inner, ok := arg.(*Call)
		if !ok {
			return fmt.Errorf("aggregate function required inside the call to %s", name)
		}
		if k := functions[strings.ToLower(inner.Name)]; k != aggregateFunc && k != selectorFunc && k != multiSelectorFunc {
			return fmt.Errorf("aggregate function required inside the call to %s", name)
		}
		// The inner call is validated but counts as part of this column.
		saved := *v
		err := v.call(inner)
		names := v.names
		*v = saved
		v.names = names
		return err
	}
	if inner, ok := arg.(*Call); ok && name != "holt_winters" && name != "holt_winters_with_fit" {
		return fmt.Errorf("%s aggregate requires a GROUP BY interval", inner.Name)
	}
	return fieldArg(name, arg)
}

func (v *fieldValidator) mathCall(name string, c *Call) error {
	n := 1
	if name == "pow" || name == "atan2" || name == "log" {
		n = 2
	}
	if name == "round" {
		if err := wantArgs(name, c, 1, 1); err != nil {
			return err
		}
	} else if err := wantArgs(name, c, n, n); err != nil {
		return err
	}
	// Math functions are per-value: their arguments decide whether the
	// column is raw or aggregated.
	for _, a := range c.Args {
		if err := v.expr(a, false); err != nil {
			return err
		}
	}
	return nil
}

func wantArgs(name string, c *Call, min, max int) error {
	n := len(c.Args)
	if n >= min && n <= max {
		return nil
	}
	if min == max {
		return fmt.Errorf("invalid number of arguments for %s, expected %d, got %d", name, min, n)
	}
	return fmt.Errorf("invalid number of arguments for %s, expected at least %d but no more than %d, got %d", name, min, max, n)
}

// fieldArg checks the first argument of an aggregate: a field, a wildcard
// or a regex over field names.
func fieldArg(name string, e Expr) error {
	switch e.(type) {
	case *VarRef, *Wildcard, *RegexLiteral:
		return nil
	}
	return fmt.Errorf("expected field argument in %s()", name)
}

func durationArg(name string, c *Call, i int) error {
	if len(c.Args) <= i {
		return nil
	}
	if _, ok := c.Args[i].(*DurationLiteral); !ok {
		return fmt.Errorf("second argument to %s must be a duration, got %T", name, c.Args[i])
	}
	return nil
}

func distinctArgs(c *Call) error {
	switch len(c.Args) {
	case 0:
		return errors.New("distinct function requires at least one argument")
	case 1:
		if _, ok := c.Args[0].(*VarRef); !ok {
			return errors.New("expected field argument in distinct()")
		}
		return nil
	}
	return errors.New("distinct function can only have one argument")
}
