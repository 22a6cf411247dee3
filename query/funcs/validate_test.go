package funcs

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/strata-db/strata/query/influxql"
)

// The validator's function checks live here, next to the registry that
// implements them: influxql.Validate asks Registry about every call.

func TestValidate(t *testing.T) {
	tests := []struct {
		q   string
		err string // "" means valid
	}{
		{q: `SELECT x FROM m`},
		{q: `SELECT * FROM m`},
		{q: `SELECT x + y * 2 FROM m`},
		{q: `SELECT count(x), sum(x), mean(x), median(x), mode(x), spread(x), stddev(x) FROM m`},
		{q: `SELECT min(x), max(x), first(x), last(x), percentile(x, 95) FROM m`},
		{q: `SELECT count(distinct(x)) FROM m`},
		{q: `SELECT distinct(x) FROM m`},
		{q: `SELECT mean(*), max(/re/) FROM m`},
		{q: `SELECT max(x), host, y FROM m`},
		{q: `SELECT top(x, host, 3), host FROM m`},
		{q: `SELECT mean(x) + mean(y), max(x) - min(x) FROM m`},
		{q: `SELECT integral(x, 1s) FROM m`},
		{q: `SELECT derivative(x), derivative(x, 1s), difference(x), non_negative_difference(x), cumulative_sum(x), elapsed(x, 1ms), moving_average(x, 3) FROM m`},
		{q: `SELECT non_negative_derivative(max(x), 1s) FROM m WHERE time > now() - 1h GROUP BY time(1m)`},
		{q: `SELECT holt_winters(first(x), 10, 4) FROM m GROUP BY time(1m)`},
		{q: `SELECT abs(x), pow(x, 2), round(mean(x)) FROM m`, err: "mixing aggregate and non-aggregate queries is not supported"},
		{q: `SELECT abs(x), pow(x, 2) FROM m`},
		{q: `SELECT mean(x) FROM m GROUP BY time(1m, now()), host, *, /re/`},
		{q: `SELECT mean(x) FROM (SELECT max(x) AS x FROM m GROUP BY time(1m)) GROUP BY time(1h)`},

		{q: `SELECT nosuchfn(usage_user) FROM cpu`, err: "undefined function nosuchfn()"},
		{q: `SELECT mean(x), y FROM m`, err: "mixing aggregate and non-aggregate queries is not supported"},
		{q: `SELECT max(x), min(x), y FROM m`, err: "mixing aggregate and non-aggregate queries is not supported"},
		{q: `SELECT x FROM m GROUP BY time(1m)`, err: "GROUP BY requires at least one aggregate function"},
		{q: `SELECT time FROM m`, err: "at least 1 non-time field must be queried"},
		{q: `SELECT count(x, y) FROM m`, err: "invalid number of arguments for count, expected 1, got 2"},
		{q: `SELECT count(1) FROM m`, err: "expected field argument in count()"},
		{q: `SELECT count(distinct(1)) FROM m`, err: "expected field argument in distinct()"},
		{q: `SELECT distinct(x, y) FROM m`, err: "distinct function can only have one argument"},
		{q: `SELECT distinct() FROM m`, err: "distinct function requires at least one argument"},
		{q: `SELECT distinct(x), y FROM m`, err: "aggregate function distinct() cannot be combined with other functions or fields"},
		{q: `SELECT distinct(x), mean(y) FROM m`, err: "aggregate function distinct() cannot be combined with other functions or fields"},
		{q: `SELECT top(x, 2), mean(y) FROM m`, err: "selector function top() cannot be combined with other functions"},
		{q: `SELECT percentile(x) FROM m`, err: "invalid number of arguments for percentile, expected 2, got 1"},
		{q: `SELECT percentile(x, 'a') FROM m`, err: "expected float argument in percentile()"},
		{q: `SELECT top(x) FROM m`, err: "invalid number of arguments for top, expected at least 2, got 1"},
		{q: `SELECT top(x, 1.5) FROM m`, err: "expected integer as last argument in top(), found 1.5"},
		{q: `SELECT bottom(x, 0) FROM m`, err: "limit (0) in bottom function must be at least 1"},
		{q: `SELECT top(x, 'h', 2) FROM m`, err: "only fields or tags are allowed in top(), found 'h'"},
		{q: `SELECT sample(x, 0) FROM m`, err: "sample window must be greater than 1, got 0"},
		{q: `SELECT sample(x, 1.0) FROM m`, err: "expected integer argument in sample()"},
		{q: `SELECT derivative(x, 1) FROM m`, err: "second argument to derivative must be a duration, got *influxql.IntegerLiteral"},
		{q: `SELECT derivative(x, -1s) FROM m`, err: "duration argument must be positive, got -1s"},
		{q: `SELECT derivative(x, 1s, 2) FROM m`, err: "invalid number of arguments for derivative, expected at least 1 but no more than 2, got 3"},
		{q: `SELECT derivative(x) FROM m GROUP BY time(1m)`, err: "aggregate function required inside the call to derivative"},
		{q: `SELECT derivative(mean(x)) FROM m`, err: "mean aggregate requires a GROUP BY interval"},
		{q: `SELECT moving_average(x, 1) FROM m`, err: "moving_average window must be greater than 1, got 1"},
		{q: `SELECT moving_average(x, 1s) FROM m`, err: "second argument for moving_average must be an integer, got *influxql.DurationLiteral"},
		{q: `SELECT holt_winters(first(x), 10, 4) FROM m`, err: "holt_winters aggregate requires a GROUP BY interval"},
		{q: `SELECT holt_winters(x, 10, 4) FROM m GROUP BY time(1m)`, err: "must use aggregate function with holt_winters"},
		{q: `SELECT holt_winters_with_fit(x, 10, 4) FROM m`, err: "must use aggregate function with holt_winters_with_fit"},
		{q: `SELECT holt_winters(mean(x), 10, 0) FROM m WHERE time > now() - 1h GROUP BY time(1m)`},
		{q: `SELECT holt_winters_with_fit(max(x), 5, 3) FROM m GROUP BY time(1m)`},
		{q: `SELECT holt_winters(mean(x), 10) FROM m GROUP BY time(1m)`, err: "invalid number of arguments for holt_winters, expected 3, got 2"},
		{q: `SELECT holt_winters(mean(x), 1.5, 0) FROM m GROUP BY time(1m)`, err: "expected integer argument as second arg in holt_winters"},
		{q: `SELECT holt_winters(mean(x), 0, 0) FROM m GROUP BY time(1m)`, err: "second arg to holt_winters must be greater than 0, got 0"},
		{q: `SELECT holt_winters(mean(x), 3, 's') FROM m GROUP BY time(1m)`, err: "expected integer argument as third arg in holt_winters"},
		{q: `SELECT holt_winters(mean(x), 3, -1) FROM m GROUP BY time(1m)`, err: "third arg to holt_winters cannot be negative, got -1"},
		{q: `SELECT holt_winters(derivative(x), 3, 1) FROM m GROUP BY time(1m)`, err: "must use aggregate function with holt_winters"},
		{q: `SELECT abs(x), sin(x), cos(x), tan(x), asin(x), acos(x), atan(x), atan2(x, y), exp(x), ln(x), log(x, 2), log2(x), log10(x), sqrt(x), pow(x, 2), floor(x), ceil(x), round(x) FROM m`},
		{q: `SELECT abs(mean(x)) * 2, round(max(x) - min(x)) FROM m GROUP BY time(1m)`},
		{q: `SELECT derivative(abs(x)) FROM m GROUP BY time(1m)`, err: "aggregate function required inside the call to derivative"},
		{q: `SELECT abs(x, y) FROM m`, err: "invalid number of arguments for abs, expected 1, got 2"},
		{q: `SELECT pow(x) FROM m`, err: "invalid number of arguments for pow, expected 2, got 1"},
		{q: `SELECT atan2(x, 1, 2) FROM m`, err: "invalid number of arguments for atan2, expected 2, got 3"},
		{q: `SELECT round() FROM m`, err: "invalid number of arguments for round, expected 1, got 0"},
		{q: `SELECT abs(nope(x)) FROM m`, err: "undefined function nope()"},
		{q: `SELECT abs(mean(x)), x FROM m`, err: "mixing aggregate and non-aggregate queries is not supported"},
		{q: `SELECT integral(x, 1) FROM m`, err: "second argument to integral must be a duration, got *influxql.IntegerLiteral"},
		{q: `SELECT mean(x) FROM m GROUP BY time(0s)`, err: "time dimension must have a positive duration, got 0s"},
		{q: `SELECT mean(x) FROM m GROUP BY time(x)`, err: "time dimension must have duration argument"},
		{q: `SELECT mean(x) FROM m GROUP BY time(1m, 'x')`, err: "time dimension offset must be duration or now()"},
		{q: `SELECT mean(x) FROM m GROUP BY foo(1m)`, err: "only time() calls allowed in dimensions"},
		{q: `SELECT mean(x) FROM m GROUP BY 'host'`, err: "only time and tag dimensions allowed"},
		{q: `SELECT x FROM (SELECT nope(x) FROM m)`, err: "undefined function nope()"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			st, err := influxql.ParseStatement(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			err = st.(*influxql.SelectStatement).Validate(Registry{})
			if tt.err == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.err {
				t.Fatalf("Validate error = %v, want %q", err, tt.err)
			}
		})
	}
}

// TestValidateCompat validates every SELECT recorded from InfluxDB 1.6.7 in
// testdata/influxql: those 1.6.7 ran must pass, those it refused for a
// reason the front end can tell (an unknown function) must fail with its
// text.
func TestValidateCompat(t *testing.T) {
	f, err := os.Open("../../testdata/influxql/compat_queries.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frontend := map[string]bool{"undefined function nosuchfn()": true}
	now := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c struct {
			Name           string `json:"name"`
			Q              string `json:"q"`
			ParseError     string `json:"parse_error"`
			StatementError string `json:"statement_error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		if c.ParseError != "" {
			continue
		}
		q, err := influxql.ParseQuery(c.Q)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var verr error
		for _, st := range q.Statements {
			if sel, ok := st.(*influxql.SelectStatement); ok && verr == nil {
				n++
				verr = sel.Validate(Registry{})
				if verr == nil {
					_, _, verr = influxql.TimeCondition(sel.Condition, now, sel.Location)
				}
			}
		}
		switch {
		case frontend[c.StatementError]:
			if verr == nil || verr.Error() != c.StatementError {
				t.Errorf("%s: error = %v, want %q", c.Name, verr, c.StatementError)
			}
		case verr != nil && c.StatementError == "":
			t.Errorf("%s: %q: unexpected error %v", c.Name, c.Q, verr)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("only %d SELECT statements", n)
	}
}
