package funcs

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/strata-db/strata/query/influxql"
)

// Kind is what a function computes, which decides how the planner runs it.
type Kind uint8

// The kinds of functions.
const (
	// Aggregate: one value per window, timed at the window start.
	Aggregate Kind = iota + 1
	// Selector: chosen input points, with their own time and other fields.
	Selector
	// Transform: a series computed from a whole series (raw values, or the
	// per-window results of the aggregate inside it).
	Transform
	// Math: a scalar function applied to each value of a row.
	Math
)

func (k Kind) String() string {
	switch k {
	case Aggregate:
		return "aggregate"
	case Selector:
		return "selector"
	case Transform:
		return "transform"
	case Math:
		return "math"
	}
	return "unknown"
}

// typeSet is a bit set over Type.
type typeSet uint8

func (s typeSet) has(t Type) bool { return s&(1<<t) != 0 }

const (
	numericTypes typeSet = 1<<Float | 1<<Integer | 1<<Unsigned
	allTypes     typeSet = numericTypes | 1<<String | 1<<Boolean
)

// firstArg is the rule for a call's first argument.
type firstArg uint8

const (
	fieldArg      firstArg = iota + 1 // a field, * or /regex/
	varRefArg                         // a field name only (distinct)
	countArg                          // a field, * or /regex/, or distinct(field)
	seriesArg                         // a field, or an aggregate under GROUP BY time (derivative...)
	aggregateOnly                     // an aggregate, with GROUP BY time (holt_winters)
	valueArgs                         // any expression, every argument (math)
)

// Func is one InfluxQL function: everything the validator, the planner, the
// executor and EXPLAIN know of it. Entries live in the table of table.go and
// nowhere else.
type Func struct {
	Name string
	Kind Kind
	// MultiRow marks top, bottom, sample and distinct: several points per
	// window, which cannot share a row with another call.
	MultiRow bool
	// Mergeable marks the aggregates and selectors that have a mergeable
	// partial state (query/partial.New): the executor folds them per window
	// without holding the window's points. top and bottom have one only
	// without tag arguments; sample has none. A test in query/partial fails
	// when this flag and partial.New disagree.
	Mergeable bool
	// HeaderStats marks the mergeable functions whose partial state answers
	// whole storage blocks from their header statistics (AddStats), the fast
	// path of GROUP BY time over flushed data.
	HeaderStats bool
	// AuxColumns are the columns a call prints after its value, from each
	// point's Aux (approx_top_k's and merge_top_k's count and max_error).
	AuxColumns []string

	label   string  // the name in "unsupported <label> iterator type"
	accepts typeSet // input types; a *TypeError for the others
	out     Type    // output type; Unknown: the input's
	// minArgs and maxArgs count every argument, the first included; maxArgs
	// < 0 is no limit. arity, when set, replaces the generic count error.
	minArgs, maxArgs int
	arity            func(n int) error
	first            firstArg
	// literalsFirst checks the literal arguments before the first argument
	// (InfluxDB's order for the transformations).
	literalsFirst bool
	// namesArgs: field and tag names may follow the first argument (top).
	namesArgs bool
	// stringLiterals: string literals after the first argument are values
	// the constructor takes (approx_count's 'value').
	stringLiterals bool

	window    func(args []any) (WindowFunc, error)
	transform func(args []any, interval time.Duration) (TransformFunc, error)
	// literals checks the arguments after the first of a function that has
	// neither window nor transform constructor (holt_winters' N and S).
	literals func(args []any) error
	// math applies a Math function to one row's argument values; mathType
	// gives its output type for the argument types.
	math     func(args []any) any
	mathType func(in []Type) (Type, error)
}

// Lookup returns the function called name (lower case). count_distinct, the
// executor's name for count(distinct(x)), is found too.
func Lookup(name string) (*Func, bool) {
	f, ok := table[name]
	return f, ok
}

// Names lists the functions InfluxQL can call, sorted.
func Names() []string {
	out := make([]string, 0, len(table))
	for n := range table {
		if n != "count_distinct" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Accepts reports whether f takes input values of type t.
func (f *Func) Accepts(t Type) bool { return f.accepts.has(t) }

// OutputType returns the type of f's results for input values of type in,
// or the *TypeError InfluxDB reports when f does not accept that type.
func (f *Func) OutputType(in Type) (Type, error) {
	if f.mathType != nil {
		return f.mathType([]Type{in})
	}
	if !f.accepts.has(in) {
		return Unknown, &TypeError{Func: f.label, Type: in}
	}
	if f.out == Unknown {
		return in, nil
	}
	return f.out, nil
}

// NewWindow returns f's window function for the literal arguments after the
// field (see NewWindowFunc).
func (f *Func) NewWindow(args []any) (WindowFunc, error) {
	if f.window == nil {
		if f.Kind == Transform {
			return nil, errorf("%s is a transformation, not a window function", f.Name)
		}
		return nil, errorf("%s is not an aggregate or selector", f.Name)
	}
	return f.window(args)
}

// NewTransform returns f's transformation (see the package function).
func (f *Func) NewTransform(args []any, interval time.Duration) (TransformFunc, error) {
	if f.transform == nil {
		return nil, errorf("%s is not a transformation", f.Name)
	}
	return f.transform(args, interval)
}

// Apply evaluates a Math function on one row's argument values; a nil or
// non-numeric argument yields nil (null), as in InfluxDB. So does a result
// outside the reals (sqrt(-1), ln(0)): JSON has no NaN or infinity, and a
// null is what a client can show.
func (f *Func) Apply(args []any) any {
	if f.math == nil || len(args) != f.minArgs {
		return nil
	}
	v := f.math(args)
	if x, ok := v.(float64); ok && (math.IsNaN(x) || math.IsInf(x, 0)) {
		return nil
	}
	return v
}

// MathType returns a Math function's output type for its arguments' types
// (Unknown where a type is not known before reading), or InfluxDB's error.
func (f *Func) MathType(in []Type) (Type, error) {
	if f.mathType == nil {
		return Unknown, errorf("%s is not a math function", f.Name)
	}
	return f.mathType(in)
}

// IsAggregate reports whether name is an aggregate.
func IsAggregate(name string) bool { return kindOf(name) == Aggregate }

// IsSelector reports whether name is a selector.
func IsSelector(name string) bool { return kindOf(name) == Selector }

// IsTransform reports whether name is a transformation.
func IsTransform(name string) bool { return kindOf(name) == Transform }

// IsMath reports whether name is a math function.
func IsMath(name string) bool { return kindOf(name) == Math }

func kindOf(name string) Kind {
	if f, ok := table[name]; ok {
		return f.Kind
	}
	return 0
}

// OutputType returns the type of name's results for input values of type in,
// or the *TypeError InfluxDB reports when it does not accept that type (mean
// of strings, max of strings, derivative of booleans...).
func OutputType(name string, in Type) (Type, error) {
	f, ok := table[name]
	if !ok {
		return Unknown, errUndefined(name)
	}
	return f.OutputType(in)
}

// checkType returns the type of pts' values, or a *TypeError when name does
// not accept it. An all-nil input is Unknown and not an error.
func checkType(name string, pts []Point) (Type, error) {
	t, err := seriesType(pts)
	if err != nil || t == Unknown {
		return t, err
	}
	if f := table[name]; !f.accepts.has(t) {
		return t, &TypeError{Func: f.label, Type: t}
	}
	return t, nil
}

// durationArg validates the optional unit argument of integral, derivative,
// non_negative_derivative and elapsed.
func durationArg(name string, args []any, def time.Duration) (time.Duration, error) {
	if len(args) > 1 {
		return 0, argCountError(name, 1, 2, len(args))
	}
	if len(args) == 0 {
		return def, nil
	}
	d, ok := args[0].(time.Duration)
	if !ok {
		return 0, errorf("second argument to %s must be a duration, got %s", name, literalType(args[0]))
	}
	if d <= 0 {
		return 0, errorf("duration argument must be positive, got %s", d)
	}
	return d, nil
}

// Registry is the function library as the InfluxQL validator sees it: pass
// Registry{} to (*influxql.SelectStatement).Validate.
type Registry struct{}

var _ influxql.Functions = Registry{}

// LookupFunc implements influxql.Functions.
func (Registry) LookupFunc(name string) (influxql.FuncInfo, bool) {
	f, ok := table[name]
	if !ok || name == "count_distinct" {
		return influxql.FuncInfo{}, false
	}
	info := influxql.FuncInfo{MultiRow: f.MultiRow}
	switch f.Kind {
	case Aggregate:
		info.Kind = influxql.AggregateFunc
	case Selector:
		info.Kind = influxql.SelectorFunc
	case Transform:
		info.Kind = influxql.TransformFunc
	case Math:
		info.Kind = influxql.MathFunc
	}
	return info, true
}

// CheckCall implements influxql.Functions with f.Check.
func (Registry) CheckCall(c *influxql.Call, groupByTime bool) error {
	f, ok := table[strings.ToLower(c.Name)]
	if !ok {
		return errorf("undefined function %s()", c.Name)
	}
	return f.Check(c, groupByTime)
}
