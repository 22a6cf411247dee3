package influxql

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
)

// Bind replaces every $name in the query with the literal for params[name].
// Values are what encoding/json produces for the HTTP `params` argument:
// string, float64 (integral values become integers, as a JSON client writing
// `5` means the integer 5), bool, json.Number, plus Go integers and
// time.Time for callers in Go. A string bound to the right side of =~ / !~
// is compiled as a regex. A map with one of the keys "identifier", "string",
// "integer", "number", "boolean", "duration" or "regex" gives the type
// explicitly.
func (q *Query) Bind(params map[string]interface{}) error {
	for _, st := range q.Statements {
		if err := visitExprSlots(st, func(slot *Expr) error {
			e, err := bindExpr(*slot, params, false)
			if err != nil {
				return err
			}
			*slot = e
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// visitExprSlots calls fn with a pointer to every top-level expression of a
// statement so that it can be replaced.
func visitExprSlots(st Statement, fn func(*Expr) error) error {
	var err error
	slot := func(e *Expr) {
		if err == nil && *e != nil {
			err = fn(e)
		}
	}
	switch s := st.(type) {
	case *SelectStatement:
		for _, f := range s.Fields {
			slot(&f.Expr)
		}
		slot(&s.Condition)
		for _, d := range s.Dimensions {
			slot(&d.Expr)
		}
		for _, src := range s.Sources {
			if sq, ok := src.(*SubQuery); ok && err == nil {
				err = visitExprSlots(sq.Statement, fn)
			}
		}
	case *ExplainStatement:
		return visitExprSlots(s.Statement, fn)
	case *CreateContinuousQueryStatement:
		return visitExprSlots(s.Source, fn)
	case *ShowMeasurementsStatement:
		slot(&s.Condition)
	case *ShowMeasurementCardinalityStatement:
		slot(&s.Condition)
	case *ShowSeriesCardinalityStatement:
		slot(&s.Condition)
	case *ShowTagKeysStatement:
		slot(&s.Condition)
	case *ShowTagValuesStatement:
		slot(&s.Condition)
	case *ShowTagKeyCardinalityStatement:
		slot(&s.Condition)
	case *ShowTagValuesCardinalityStatement:
		slot(&s.Condition)
	case *ShowFieldKeyCardinalityStatement:
		slot(&s.Condition)
	case *ShowSeriesStatement:
		slot(&s.Condition)
	case *DeleteSeriesStatement:
		slot(&s.Condition)
	case *DropSeriesStatement:
		slot(&s.Condition)
	}
	return err
}

func bindExpr(e Expr, params map[string]interface{}, wantRegex bool) (Expr, error) {
	switch x := e.(type) {
	case *BoundParameter:
		v, ok := params[x.Name]
		if !ok {
			return nil, fmt.Errorf("missing parameter: %s", x.Name)
		}
		lit, err := literalFor(x.Name, v)
		if err != nil {
			return nil, err
		}
		if s, ok := lit.(*StringLiteral); ok && wantRegex {
			re, err := regexp.Compile(s.Val)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %w", x.Name, err)
			}
			return &RegexLiteral{Val: re}, nil
		}
		return lit, nil
	case *BinaryExpr:
		l, err := bindExpr(x.LHS, params, false)
		if err != nil {
			return nil, err
		}
		r, err := bindExpr(x.RHS, params, x.Op == EQREGEX || x.Op == NEQREGEX)
		if err != nil {
			return nil, err
		}
		x.LHS, x.RHS = l, r
	case *ParenExpr:
		inner, err := bindExpr(x.Expr, params, false)
		if err != nil {
			return nil, err
		}
		x.Expr = inner
	case *Call:
		for i, a := range x.Args {
			b, err := bindExpr(a, params, false)
			if err != nil {
				return nil, err
			}
			x.Args[i] = b
		}
	}
	return e, nil
}

func literalFor(name string, v interface{}) (Expr, error) {
	switch v := v.(type) {
	case string:
		return &StringLiteral{Val: v}, nil
	case bool:
		return &BooleanLiteral{Val: v}, nil
	case float64:
		if v == math.Trunc(v) && v >= -(1<<53) && v <= 1<<53 {
			return &IntegerLiteral{Val: int64(v)}, nil
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("parameter %s: %v is not a valid number", name, v)
		}
		return &NumberLiteral{Val: v}, nil
	case int:
		return &IntegerLiteral{Val: int64(v)}, nil
	case int64:
		return &IntegerLiteral{Val: v}, nil
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return &IntegerLiteral{Val: i}, nil
		}
		f, err := v.Float64()
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", name, err)
		}
		return literalFor(name, f)
	case time.Time:
		return &TimeLiteral{Val: v}, nil
	case map[string]interface{}:
		return typedLiteral(name, v)
	}
	return nil, fmt.Errorf("parameter %s: unable to bind value of type %T", name, v)
}

// typedLiteral handles {"<type>": value} parameters.
func typedLiteral(name string, m map[string]interface{}) (Expr, error) {
	if len(m) != 1 {
		return nil, fmt.Errorf("parameter %s: typed value must have exactly one key", name)
	}
	var k string
	var v interface{}
	for key, val := range m {
		k, v = key, val
	}
	switch strings.ToLower(k) {
	case "identifier":
		if s, ok := v.(string); ok {
			return &VarRef{Val: s}, nil
		}
	case "string":
		if s, ok := v.(string); ok {
			return &StringLiteral{Val: s}, nil
		}
	case "boolean":
		if b, ok := v.(bool); ok {
			return &BooleanLiteral{Val: b}, nil
		}
	case "integer":
		lit, err := literalFor(name, v)
		if err != nil {
			return nil, err
		}
		if i, ok := lit.(*IntegerLiteral); ok {
			return i, nil
		}
	case "number":
		lit, err := literalFor(name, v)
		if err != nil {
			return nil, err
		}
		switch l := lit.(type) {
		case *IntegerLiteral:
			return &NumberLiteral{Val: float64(l.Val)}, nil
		case *NumberLiteral:
			return l, nil
		}
	case "duration":
		if s, ok := v.(string); ok {
			d, err := ParseDuration(s)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %w", name, err)
			}
			return &DurationLiteral{Val: d}, nil
		}
	case "regex":
		if s, ok := v.(string); ok {
			re, err := regexp.Compile(s)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %w", name, err)
			}
			return &RegexLiteral{Val: re}, nil
		}
	default:
		return nil, fmt.Errorf("parameter %s: unknown type %q", name, k)
	}
	return nil, fmt.Errorf("parameter %s: invalid %s value %v", name, k, v)
}
