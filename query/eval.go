package query

import (
	"math"
	"strings"

	"github.com/strata-db/strata/query/funcs"
	"github.com/strata-db/strata/query/influxql"
)

// evalExpr evaluates a select-list expression for one row. ref resolves field and
// tag names, call resolves function calls (nil in raw queries). Arithmetic follows
// InfluxQL: integers stay integers under + - * %, division yields a float, a
// division by zero yields 0, and any null operand yields null.
func evalExpr(ex influxql.Expr, ref func(string) any, call func(*influxql.Call) any) any {
	switch x := ex.(type) {
	case *influxql.VarRef:
		return castValue(ref(x.Val), x.Type)
	case *influxql.Call:
		if f, ok := funcs.Lookup(strings.ToLower(x.Name)); ok && f.Kind == funcs.Math {
			// Math functions apply per row to whatever their arguments are:
			// raw values, aggregate results, other expressions.
			args := make([]any, len(x.Args))
			for i, a := range x.Args {
				args[i] = evalExpr(a, ref, call)
			}
			return f.Apply(args)
		}
		if call == nil {
			return nil
		}
		return call(x)
	case *influxql.ParenExpr:
		return evalExpr(x.Expr, ref, call)
	case *influxql.IntegerLiteral:
		return x.Val
	case *influxql.NumberLiteral:
		return x.Val
	case *influxql.StringLiteral:
		return x.Val
	case *influxql.BooleanLiteral:
		return x.Val
	case *influxql.BinaryExpr:
		return arith(x.Op, evalExpr(x.LHS, ref, call), evalExpr(x.RHS, ref, call))
	}
	return nil
}

// castValue applies a reference's ::type to a value as 1.x does: float and
// integer convert into each other (a float truncates toward zero), a value of
// any other type than the one asked for is null; ::field, ::tag and no cast
// leave it as it is.
func castValue(v any, t influxql.DataType) any {
	switch t {
	case influxql.Float:
		switch x := v.(type) {
		case float64:
			return x
		case int64:
			return float64(x)
		case uint64:
			return float64(x)
		}
		return nil
	case influxql.Integer:
		switch x := v.(type) {
		case int64:
			return x
		case float64:
			if math.IsNaN(x) || x >= math.MaxInt64 || x < math.MinInt64 {
				return nil
			}
			return int64(x)
		}
		return nil
	case influxql.String:
		if x, ok := v.(string); ok {
			return x
		}
		return nil
	case influxql.Boolean:
		if x, ok := v.(bool); ok {
			return x
		}
		return nil
	}
	return v
}

func arith(op influxql.Token, l, r any) any {
	if l == nil || r == nil {
		return nil
	}
	if li, ok := l.(int64); ok {
		if ri, ok := r.(int64); ok {
			switch op {
			case influxql.ADD:
				return li + ri
			case influxql.SUB:
				return li - ri
			case influxql.MUL:
				return li * ri
			case influxql.DIV:
				if ri == 0 {
					return int64(0)
				}
				return float64(li) / float64(ri)
			case influxql.MOD:
				if ri == 0 {
					return int64(0)
				}
				return li % ri
			case influxql.BITWISE_AND:
				return li & ri
			case influxql.BITWISE_OR:
				return li | ri
			case influxql.BITWISE_XOR:
				return li ^ ri
			}
			return nil
		}
	}
	if lb, ok := l.(bool); ok {
		if rb, ok := r.(bool); ok {
			switch op {
			case influxql.BITWISE_AND:
				return lb && rb
			case influxql.BITWISE_OR:
				return lb || rb
			case influxql.BITWISE_XOR:
				return lb != rb
			}
		}
		return nil
	}
	lf, lok := funcs.AsFloat64(l)
	rf, rok := funcs.AsFloat64(r)
	if !lok || !rok {
		return nil
	}
	switch op {
	case influxql.ADD:
		return lf + rf
	case influxql.SUB:
		return lf - rf
	case influxql.MUL:
		return lf * rf
	case influxql.DIV:
		if rf == 0 {
			return float64(0)
		}
		return lf / rf
	case influxql.MOD:
		if rf == 0 {
			return float64(0)
		}
		return math.Mod(lf, rf)
	}
	return nil
}

// evalCond evaluates a WHERE condition on a row's field values and its series'
// tags. A comparison with a missing value is false.
func evalCond(cond influxql.Expr, lookup func(string) any) bool {
	v := evalCondValue(cond, lookup)
	b, ok := v.(bool)
	return ok && b
}

func evalCondValue(ex influxql.Expr, lookup func(string) any) any {
	switch x := ex.(type) {
	case *influxql.ParenExpr:
		return evalCondValue(x.Expr, lookup)
	case *influxql.BooleanLiteral:
		return x.Val
	case *influxql.VarRef:
		return lookup(x.Val)
	case *influxql.IntegerLiteral:
		return x.Val
	case *influxql.NumberLiteral:
		return x.Val
	case *influxql.StringLiteral:
		return x.Val
	case *influxql.RegexLiteral:
		return x
	case *influxql.BinaryExpr:
		switch x.Op {
		case influxql.AND:
			return evalCond(x.LHS, lookup) && evalCond(x.RHS, lookup)
		case influxql.OR:
			return evalCond(x.LHS, lookup) || evalCond(x.RHS, lookup)
		}
		l := evalCondValue(x.LHS, lookup)
		r := evalCondValue(x.RHS, lookup)
		switch x.Op {
		case influxql.EQ, influxql.NEQ, influxql.LT, influxql.LTE, influxql.GT, influxql.GTE:
			return compare(x.Op, l, r)
		case influxql.EQREGEX, influxql.NEQREGEX:
			s, ok := l.(string)
			re, rok := r.(*influxql.RegexLiteral)
			if !ok || !rok {
				return false
			}
			m := re.Val.MatchString(s)
			if x.Op == influxql.NEQREGEX {
				return !m
			}
			return m
		default:
			return arith(x.Op, l, r)
		}
	}
	return nil
}

func compare(op influxql.Token, l, r any) bool {
	if l == nil || r == nil {
		return false
	}
	var c int
	switch lv := l.(type) {
	case string:
		rv, ok := r.(string)
		if !ok {
			return false
		}
		switch {
		case lv < rv:
			c = -1
		case lv > rv:
			c = 1
		}
	case bool:
		rv, ok := r.(bool)
		if !ok {
			return false
		}
		if op != influxql.EQ && op != influxql.NEQ {
			return false
		}
		if (lv == rv) == (op == influxql.EQ) {
			return true
		}
		return false
	default:
		if li, ok := l.(int64); ok {
			if ri, ok := r.(int64); ok {
				switch {
				case li < ri:
					c = -1
				case li > ri:
					c = 1
				}
				return cmpResult(op, c)
			}
		}
		lf, lok := funcs.AsFloat64(l)
		rf, rok := funcs.AsFloat64(r)
		if !lok || !rok {
			return false
		}
		switch {
		case lf < rf:
			c = -1
		case lf > rf:
			c = 1
		}
	}
	return cmpResult(op, c)
}

func cmpResult(op influxql.Token, c int) bool {
	switch op {
	case influxql.EQ:
		return c == 0
	case influxql.NEQ:
		return c != 0
	case influxql.LT:
		return c < 0
	case influxql.LTE:
		return c <= 0
	case influxql.GT:
		return c > 0
	case influxql.GTE:
		return c >= 0
	}
	return false
}
