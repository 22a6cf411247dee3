package funcs

import (
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/query/influxql"
)

// TestRegistryComplete checks every entry of the table against what its kind
// promises, with one well-formed call per function: the call validates, the
// entry builds the implementation its kind runs, and the validator's view
// (Registry.LookupFunc) agrees with the entry. A function added to the table
// without a call here fails the test, and so does a call here of a
// function the table lacks.
func TestRegistryComplete(t *testing.T) {
	calls := map[string]string{
		"count": "count(x)", "sum": "sum(x)", "mean": "mean(x)", "median": "median(x)",
		"mode": "mode(x)", "spread": "spread(x)", "stddev": "stddev(x)", "integral": "integral(x, 1s)",
		"distinct": "distinct(x)", "min": "min(x)", "max": "max(x)", "first": "first(x)", "last": "last(x)",
		"percentile": "percentile(x, 90)", "top": "top(x, host, 2)", "bottom": "bottom(x, 2)", "sample": "sample(x, 2)",
		"derivative": "derivative(mean(x), 1s)", "non_negative_derivative": "non_negative_derivative(max(x))",
		"difference": "difference(max(x))", "non_negative_difference": "non_negative_difference(max(x))",
		"moving_average": "moving_average(mean(x), 3)", "cumulative_sum": "cumulative_sum(sum(x))",
		"elapsed": "elapsed(count(x), 1ms)", "holt_winters": "holt_winters(mean(x), 5, 2)",
		"holt_winters_with_fit": "holt_winters_with_fit(mean(x), 5, 0)",
		"abs":                   "abs(x)", "acos": "acos(x)", "asin": "asin(x)", "atan": "atan(x)", "atan2": "atan2(x, 2)",
		"ceil": "ceil(x)", "cos": "cos(x)", "exp": "exp(x)", "floor": "floor(x)", "ln": "ln(x)",
		"log": "log(x, 10)", "log2": "log2(x)", "log10": "log10(x)", "pow": "pow(x, 2)", "round": "round(x)",
		"sin": "sin(x)", "sqrt": "sqrt(x)", "tan": "tan(x)",
		"approx_count_distinct": "approx_count_distinct(x, 12)", "approx_percentile": "approx_percentile(x, 99)",
		"approx_median": "approx_median(x)", "approx_top_k": "approx_top_k(x, 5)", "approx_count": "approx_count(x, 'a')",
		"sketch_count_distinct": "sketch_count_distinct(x)", "sketch_percentile": "sketch_percentile(x)",
		"merge_count_distinct": "merge_count_distinct(s)", "merge_percentile": "merge_percentile(s, 95)",
		"merge_median": "merge_median(s)", "merge_sketch": "merge_sketch(s)",
		"sketch_top_k": "sketch_top_k(x, 20)", "sketch_count": "sketch_count(x)",
		"merge_top_k": "merge_top_k(s, 5)", "merge_count": "merge_count(s, 200)",
	}
	names := Names()
	if len(names) != len(calls) {
		t.Errorf("%d functions in the table, %d calls here", len(names), len(calls))
	}
	for _, name := range names {
		src, ok := calls[name]
		if !ok {
			t.Errorf("%s: no call in this test", name)
			continue
		}
		f, _ := Lookup(name)
		e, err := influxql.ParseExpr(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		c := e.(*influxql.Call)
		if err := f.Check(c, true); err != nil {
			t.Errorf("%s: Check: %v", src, err)
		}
		info, ok := Registry{}.LookupFunc(name)
		if !ok || info.MultiRow != f.MultiRow || kindName(info.Kind) != f.Kind.String() {
			t.Errorf("%s: validator sees %+v, table %s multi=%v", name, info, f.Kind, f.MultiRow)
		}
		args := f.CallArgs(c)
		switch f.Kind {
		case Aggregate, Selector:
			if _, err := f.NewWindow(args); err != nil {
				t.Errorf("%s: NewWindow: %v", src, err)
			}
			if f.HeaderStats && !f.Mergeable {
				t.Errorf("%s: header fast path without a partial state", name)
			}
		case Transform:
			if _, err := f.NewTransform(args, time.Minute); err != nil {
				t.Errorf("%s: NewTransform: %v", src, err)
			}
		case Math:
			if _, err := f.MathType([]Type{Float, Float}[:f.minArgs]); err != nil || f.Apply(make([]any, f.minArgs)) != nil {
				t.Errorf("%s: math entry incomplete", name)
			}
		default:
			t.Errorf("%s: no kind", name)
		}
		in := Float
		if strings.HasPrefix(name, "merge_") {
			in = String // the merge functions read stored sketches
		}
		if _, err := f.OutputType(in); err != nil {
			t.Errorf("%s: OutputType(float): %v", name, err)
		}
	}
	for name := range calls {
		if _, ok := Lookup(name); !ok {
			t.Errorf("%s: not in the table", name)
		}
	}
	if _, ok := (Registry{}).LookupFunc("count_distinct"); ok {
		t.Error("count_distinct is the executor's name, not callable from InfluxQL")
	}
}

func kindName(k influxql.FuncKind) string {
	return map[influxql.FuncKind]string{influxql.AggregateFunc: "aggregate", influxql.SelectorFunc: "selector",
		influxql.TransformFunc: "transform", influxql.MathFunc: "math"}[k]
}

// FuzzValidate checks that validating any statement the parser accepts never
// panics, whatever the calls' arguments.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		"SELECT holt_winters(mean(x), 10, 0) FROM m GROUP BY time(1m)",
		"SELECT top(x, 'a', host, 2), pow(x) FROM m", "SELECT count(distinct()) FROM m",
		"SELECT derivative(abs(x), 1s) FROM m", "SELECT abs(mean(x), sqrt(y)) FROM m GROUP BY time(1s)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 2000 || !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(q)), "SELECT") {
			return
		}
		st, err := influxql.ParseStatement(q)
		if err != nil {
			return
		}
		if sel, ok := st.(*influxql.SelectStatement); ok {
			_ = sel.Validate(Registry{})
		}
	})
}
