package influxql

import (
	"encoding/json"
	"testing"
	"time"
)

func TestQuery_Bind(t *testing.T) {
	tests := []struct {
		name   string
		q      string
		params map[string]interface{}
		want   string
		err    string
	}{
		{name: "string", q: `SELECT x FROM m WHERE host = $h`, params: map[string]interface{}{"h": "server03"},
			want: `SELECT x FROM m WHERE host = 'server03'`},
		{name: "quoted_name", q: `SELECT x FROM m WHERE host = $"my h"`, params: map[string]interface{}{"my h": "it's"},
			want: `SELECT x FROM m WHERE host = 'it\'s'`},
		{name: "float", q: `SELECT x FROM m WHERE v > $v`, params: map[string]interface{}{"v": 1.5}, want: `SELECT x FROM m WHERE v > 1.5`},
		{name: "whole_float_is_integer", q: `SELECT x FROM m WHERE v > $v`, params: map[string]interface{}{"v": float64(5)}, want: `SELECT x FROM m WHERE v > 5`},
		{name: "bool", q: `SELECT x FROM m WHERE up = $b`, params: map[string]interface{}{"b": true}, want: `SELECT x FROM m WHERE up = true`},
		{name: "json_number", q: `SELECT x FROM m WHERE v > $v AND w < $w`,
			params: map[string]interface{}{"v": json.Number("12"), "w": json.Number("2.5")}, want: `SELECT x FROM m WHERE v > 12 AND w < 2.5`},
		{name: "int", q: `SELECT x FROM m WHERE v > $v`, params: map[string]interface{}{"v": 7}, want: `SELECT x FROM m WHERE v > 7`},
		{name: "time", q: `SELECT x FROM m WHERE time >= $t`, params: map[string]interface{}{"t": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
			want: `SELECT x FROM m WHERE time >= '2024-01-01T00:00:00Z'`},
		{name: "regex", q: `SELECT x FROM m WHERE host =~ $re`, params: map[string]interface{}{"re": "^server0[12]$"},
			want: `SELECT x FROM m WHERE host =~ /^server0[12]$/`},
		{name: "typed", q: `SELECT x FROM m WHERE $k = $v AND time > now() - $d`, params: map[string]interface{}{
			"k": map[string]interface{}{"identifier": "host"}, "v": map[string]interface{}{"string": "a"},
			"d": map[string]interface{}{"duration": "1h"}},
			want: `SELECT x FROM m WHERE host = 'a' AND time > now() - 1h`},
		{name: "in_call_subquery_and_show", q: `SELECT mean(x) FROM (SELECT x FROM m WHERE a = $a); SHOW TAG VALUES WITH KEY = host WHERE region = $a`,
			params: map[string]interface{}{"a": "z"},
			want:   "SELECT mean(x) FROM (SELECT x FROM m WHERE a = 'z');\nSHOW TAG VALUES WITH KEY = host WHERE region = 'z'"},
		{name: "paren", q: `SELECT x FROM m WHERE (v > $v)`, params: map[string]interface{}{"v": 1.25}, want: `SELECT x FROM m WHERE (v > 1.25)`},
		{name: "missing", q: `SELECT x FROM m WHERE host = $h`, params: map[string]interface{}{}, err: "missing parameter: h"},
		{name: "bad_type", q: `SELECT x FROM m WHERE host = $h`, params: map[string]interface{}{"h": []int{1}}, err: "parameter h: unable to bind value of type []int"},
		{name: "bad_regex", q: `SELECT x FROM m WHERE host =~ $h`, params: map[string]interface{}{"h": "("}, err: "parameter h: error parsing regexp: missing closing ): `(`"},
		{name: "bad_typed", q: `SELECT x FROM m WHERE host = $h`, params: map[string]interface{}{"h": map[string]interface{}{"color": "red"}}, err: `parameter h: unknown type "color"`},
		{name: "typed_mismatch", q: `SELECT x FROM m WHERE host = $h`, params: map[string]interface{}{"h": map[string]interface{}{"boolean": "yes"}}, err: `parameter h: invalid boolean value yes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQuery(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			err = q.Bind(tt.params)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Bind error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := q.String(); got != tt.want {
				t.Fatalf("bound query:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}
