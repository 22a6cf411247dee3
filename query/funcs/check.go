package funcs

import (
	"fmt"
	"strings"

	"github.com/strata-db/strata/query/influxql"
)

// Check validates the arguments of call c of f with InfluxDB 1.x's error
// texts: their number, the first argument's shape, then the literals after
// it (through the same constructor the executor uses, so each rule is
// written once). Calls nested in c are not checked here; the validator walks
// into them. groupByTime tells whether the statement has GROUP BY time.
func (f *Func) Check(c *influxql.Call, groupByTime bool) error {
	n := len(c.Args)
	if err := f.checkArity(n); err != nil {
		return err
	}
	if f.literalsFirst {
		if err := f.checkLiterals(c); err != nil {
			return err
		}
		return f.checkFirst(c, groupByTime)
	}
	if err := f.checkFirst(c, groupByTime); err != nil {
		return err
	}
	return f.checkLiterals(c)
}

func (f *Func) checkArity(n int) error {
	if f.arity != nil {
		return f.arity(n)
	}
	if n >= f.minArgs && (f.maxArgs < 0 || n <= f.maxArgs) {
		return nil
	}
	return argCountError(f.Name, f.minArgs, f.maxArgs, n-1)
}

func (f *Func) checkFirst(c *influxql.Call, groupByTime bool) error {
	if len(c.Args) == 0 {
		return nil
	}
	arg := c.Args[0]
	switch f.first {
	case fieldArg:
		return isField(f.Name, arg)
	case varRefArg:
		if _, ok := arg.(*influxql.VarRef); !ok {
			return errorf("expected field argument in %s()", f.Name)
		}
	case countArg:
		if d, ok := arg.(*influxql.Call); ok && strings.EqualFold(d.Name, "distinct") {
			return table["distinct"].Check(d, groupByTime)
		}
		return isField(f.Name, arg)
	case seriesArg:
		// With GROUP BY time a transformation works on per-window aggregates,
		// without it on raw values.
		inner, isCall := arg.(*influxql.Call)
		if groupByTime {
			if !isCall || !isAggregateCall(inner) {
				return errorf("aggregate function required inside the call to %s", f.Name)
			}
			return nil
		}
		if isCall {
			return errorf("%s aggregate requires a GROUP BY interval", inner.Name)
		}
		return isField(f.Name, arg)
	case aggregateOnly:
		inner, isCall := arg.(*influxql.Call)
		if isCall && !groupByTime {
			return errorf("%s aggregate requires a GROUP BY interval", f.Name)
		}
		if !isCall || !isAggregateCall(inner) {
			return errorf("must use aggregate function with %s", f.Name)
		}
	case valueArgs:
		// Any expression; the validator checks nested calls and fields.
	}
	return nil
}

func isAggregateCall(c *influxql.Call) bool {
	k := kindOf(strings.ToLower(c.Name))
	return k == Aggregate || k == Selector
}

func isField(name string, e influxql.Expr) error {
	switch e.(type) {
	case *influxql.VarRef, *influxql.Wildcard, *influxql.RegexLiteral:
		return nil
	}
	return errorf("expected field argument in %s()", name)
}

// checkLiterals runs the arguments after the first through f's constructor.
func (f *Func) checkLiterals(c *influxql.Call) error {
	if f.Kind == Math || len(c.Args) == 0 {
		return nil
	}
	args := f.CallArgs(c)
	var err error
	switch {
	case f.literals != nil:
		err = f.literals(args)
	case f.window != nil:
		_, err = f.window(args)
	case f.transform != nil:
		_, err = f.transform(args, 0)
	}
	return err
}

// CallArgs converts the arguments after the first of c, a call of f, to the
// values the constructors take: int64, float64, time.Duration and bool
// literals as Go values, the field and tag names of top and bottom as
// strings, anything else as a value whose errors print the expression as
// InfluxDB does.
func (f *Func) CallArgs(c *influxql.Call) []any {
	if len(c.Args) < 2 {
		return nil
	}
	out := make([]any, 0, len(c.Args)-1)
	for _, a := range c.Args[1:] {
		switch l := a.(type) {
		case *influxql.IntegerLiteral:
			out = append(out, l.Val)
		case *influxql.NumberLiteral:
			out = append(out, l.Val)
		case *influxql.DurationLiteral:
			out = append(out, l.Val)
		case *influxql.BooleanLiteral:
			out = append(out, l.Val)
		case *influxql.StringLiteral:
			if f.stringLiterals {
				out = append(out, l.Val)
				continue
			}
			out = append(out, exprArg{a})
		case *influxql.VarRef:
			if f.namesArgs {
				out = append(out, l.Val)
				continue
			}
			out = append(out, exprArg{a})
		default:
			out = append(out, exprArg{a})
		}
	}
	return out
}

// exprArg is a call argument that is not a literal a constructor takes
// (a string literal, an expression): it is invalid wherever it appears, and
// its errors name it as InfluxDB does.
type exprArg struct{ e influxql.Expr }

func (a exprArg) String() string   { return a.e.String() }
func (a exprArg) typeName() string { return fmt.Sprintf("%T", a.e) }
