package funcs

import "time"

// kind classifies a function for the planner.
type kind uint8

const (
	kindAggregate kind = iota + 1
	kindSelector
	kindTransform
)

// typeSet is a bit set over Type.
type typeSet uint8

func (s typeSet) has(t Type) bool { return s&(1<<t) != 0 }

const (
	numericTypes typeSet = 1<<Float | 1<<Integer | 1<<Unsigned
	allTypes     typeSet = numericTypes | 1<<String | 1<<Boolean
)

// spec describes one function: what it is, which input types InfluxDB 1.x
// accepts, how its errors name it, and its output type.
type spec struct {
	kind  kind
	types typeSet
	label string // the name in "unsupported <label> iterator type"
	// out is the output type; Unknown means "same as the input".
	out Type
}

var specs = map[string]spec{
	"count":          {kindAggregate, allTypes, "count", Integer},
	"sum":            {kindAggregate, numericTypes, "sum", Unknown},
	"mean":           {kindAggregate, numericTypes, "mean", Float},
	"median":         {kindAggregate, numericTypes, "median", Float},
	"mode":           {kindAggregate, allTypes, "median", Unknown}, // InfluxDB's mode error says "median"
	"spread":         {kindAggregate, numericTypes, "spread", Unknown},
	"stddev":         {kindAggregate, numericTypes, "stddev", Float},
	"integral":       {kindAggregate, numericTypes, "integral", Float},
	"distinct":       {kindAggregate, allTypes, "distinct", Unknown},
	"count_distinct": {kindAggregate, allTypes, "distinct", Integer},

	"min":        {kindSelector, numericTypes | 1<<Boolean, "min", Unknown},
	"max":        {kindSelector, numericTypes | 1<<Boolean, "max", Unknown},
	"first":      {kindSelector, allTypes, "first", Unknown},
	"last":       {kindSelector, allTypes, "last", Unknown},
	"percentile": {kindSelector, numericTypes, "percentile", Unknown},
	"top":        {kindSelector, numericTypes, "top", Unknown},
	"bottom":     {kindSelector, numericTypes, "bottom", Unknown},
	"sample":     {kindSelector, allTypes, "sample", Unknown},

	"derivative":              {kindTransform, numericTypes, "derivative", Float},
	"non_negative_derivative": {kindTransform, numericTypes, "derivative", Float},
	"difference":              {kindTransform, numericTypes, "difference", Unknown},
	"non_negative_difference": {kindTransform, numericTypes, "difference", Unknown},
	"moving_average":          {kindTransform, numericTypes, "moving average", Float},
	"cumulative_sum":          {kindTransform, numericTypes, "cumulative sum", Unknown},
	"elapsed":                 {kindTransform, allTypes, "elapsed", Integer},
}

// IsAggregate reports whether name is an aggregate: count, sum, mean, median,
// mode, spread, stddev, integral, distinct, count_distinct. Aggregates return
// points timed at the window start.
func IsAggregate(name string) bool { return specs[name].kind == kindAggregate }

// IsSelector reports whether name is a selector: min, max, first, last,
// percentile, top, bottom, sample. Selectors return chosen input points with
// their own times and Aux.
func IsSelector(name string) bool { return specs[name].kind == kindSelector }

// IsTransform reports whether name is a transformation: derivative,
// non_negative_derivative, difference, non_negative_difference,
// moving_average, cumulative_sum, elapsed.
func IsTransform(name string) bool { return specs[name].kind == kindTransform }

// OutputType returns the type of name's results for input values of type in,
// or the *TypeError InfluxDB reports when it does not accept that type (mean
// of strings, max of strings, derivative of booleans...).
func OutputType(name string, in Type) (Type, error) {
	s, ok := specs[name]
	if !ok {
		return Unknown, errUndefined(name)
	}
	if !s.types.has(in) {
		return Unknown, &TypeError{Func: s.label, Type: in}
	}
	if s.out == Unknown {
		return in, nil
	}
	return s.out, nil
}

// checkType returns the type of pts' values, or a *TypeError when name does
// not accept it. An all-nil input is Unknown and not an error.
func checkType(name string, pts []Point) (Type, error) {
	t, err := seriesType(pts)
	if err != nil || t == Unknown {
		return t, err
	}
	if s := specs[name]; !s.types.has(t) {
		return t, &TypeError{Func: s.label, Type: t}
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
