package httpapi

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// series is shorthand for a SELECT series with a time column.
func series(name string, tags map[string]string, cols []string, rows ...Row) *ResultSeries {
	return &ResultSeries{Name: name, Tags: tags, Columns: cols, Rows: rows}
}

func row(t int64, vals ...any) Row { return Row{Time: t, Values: vals} }

const t0 = 1704067200 * int64(time.Second) // 2024-01-01T00:00:00Z, the corpus' first point

// usage3 is the first three usage_user points of server01, the corpus' http10 answer.
func usage3() *ResultSeries {
	return series("cpu", nil, []string{"time", "usage_user"},
		row(t0, 10.27), row(t0+20e9, 38.06), row(t0+40e9, 35.32))
}

func render(t *testing.T, enc Encoding, chunked bool, chunkSize int, results ...*StatementResult) string {
	t.Helper()
	var b bytes.Buffer
	w := NewResponseWriter(&b, enc, chunked, chunkSize)
	for _, r := range results {
		if err := w.WriteResult(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The expected bodies are InfluxDB 1.6.7's recorded answers (testdata/compat/
// queries.jsonl, named in each case) or follow from its rules.
func TestResponseWriter(t *testing.T) {
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	host := func(h string) map[string]string { return map[string]string{"host": h} }
	cases := []struct {
		name      string
		enc       Encoding
		chunked   bool
		chunkSize int
		results   []*StatementResult
		want      string
	}{
		{
			name:    "http10_get_basic",
			results: []*StatementResult{{Series: []*ResultSeries{usage3()}}},
			want:    `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage_user"],"values":[["2024-01-01T00:00:00Z",10.27],["2024-01-01T00:00:20Z",38.06],["2024-01-01T00:00:40Z",35.32]]}]}]}` + "\n",
		},
		{
			name:    "http13_epoch_ns",
			enc:     Encoding{Epoch: "ns"},
			results: []*StatementResult{{Series: []*ResultSeries{usage3()}}},
			want:    `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage_user"],"values":[[1704067200000000000,10.27],[1704067220000000000,38.06],[1704067240000000000,35.32]]}]}]}` + "\n",
		},
		{
			name:    "http13_epoch_u",
			enc:     Encoding{Epoch: "u"},
			results: []*StatementResult{{Series: []*ResultSeries{usage3()}}},
			want:    `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage_user"],"values":[[1704067200000000,10.27],[1704067220000000,38.06],[1704067240000000,35.32]]}]}]}` + "\n",
		},
		{
			name:    "epoch_micro_sign",
			enc:     Encoding{Epoch: "µ"},
			results: []*StatementResult{{Series: []*ResultSeries{usage3()}}},
			want:    `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage_user"],"values":[[1704067200000000,10.27],[1704067220000000,38.06],[1704067240000000,35.32]]}]}]}` + "\n",
		},
		{
			name:    "http13_epoch_ms",
			enc:     Encoding{Epoch: "ms"},
			results: []*StatementResult{{Series: []*ResultSeries{usage3()}}},
			want:    `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage_user"],"values":[[1704067200000,10.27],[1704067220000,38.06],[1704067240000,35.32]]}]}]}` + "\n",
		},
		{
			name:    "http13_epoch_s",
			enc:     Encoding{Epoch: "s"},
			results: []*StatementResult{{Series: []*ResultSeries{usage3()}}},
			want:    `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage_user"],"values":[[1704067200,10.27],[1704067220,38.06],[1704067240,35.32]]}]}]}` + "\n",
		},
		{
			name:    "http13_epoch_m",
			enc:     Encoding{Epoch: "m"},
			results: []*StatementResult{{Series: []*ResultSeries{usage3()}}},
			want:    `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage_user"],"values":[[28401120,10.27],[28401120,38.06],[28401120,35.32]]}]}]}` + "\n",
		},
		{
			name:    "http13_epoch_h",
			enc:     Encoding{Epoch: "h"},
			results: []*StatementResult{{Series: []*ResultSeries{usage3()}}},
			want:    `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage_user"],"values":[[473352,10.27],[473352,38.06],[473352,35.32]]}]}]}` + "\n",
		},
		{
			name:    "http13_epoch_bogus",
			enc:     Encoding{Epoch: "bogus"},
			results: []*StatementResult{{Series: []*ResultSeries{usage3()}}},
			want:    `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage_user"],"values":[[1704067200000000000,10.27],[1704067220000000000,38.06],[1704067240000000000,35.32]]}]}]}` + "\n",
		},
		{
			// Integer division truncates toward zero, before 1970 too.
			name:    "epoch_s_negative_truncates_toward_zero",
			enc:     Encoding{Epoch: "s"},
			results: []*StatementResult{{Series: []*ResultSeries{series("m", nil, []string{"time", "v"}, row(-1500e6, int64(1)))}}},
			want:    `{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v"],"values":[[-1,1]]}]}]}` + "\n",
		},
		{
			name: "http14_pretty",
			enc:  Encoding{Pretty: true},
			results: []*StatementResult{{Series: []*ResultSeries{
				series("cpu", nil, []string{"time", "usage_user"}, row(t0, 10.27), row(t0+20e9, 38.06))}}},
			want: "{\n    \"results\": [\n        {\n            \"statement_id\": 0,\n            \"series\": [\n                {\n                    \"name\": \"cpu\",\n                    \"columns\": [\n                        \"time\",\n                        \"usage_user\"\n                    ],\n                    \"values\": [\n                        [\n                            \"2024-01-01T00:00:00Z\",\n                            10.27\n                        ],\n                        [\n                            \"2024-01-01T00:00:20Z\",\n                            38.06\n                        ]\n                    ]\n                }\n            ]\n        }\n    ]\n}\n",
		},
		{
			name:      "http15_chunked",
			chunked:   true,
			chunkSize: 2,
			results: []*StatementResult{{Series: []*ResultSeries{series("cpu", nil, []string{"time", "usage_user"},
				row(t0, 10.27), row(t0+20e9, 38.06), row(t0+40e9, 35.32), row(t0+60e9, 42.66), row(t0+80e9, 17.52))}}},
			want: `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage_user"],"values":[["2024-01-01T00:00:00Z",10.27],["2024-01-01T00:00:20Z",38.06]],"partial":true}],"partial":true}]}` + "\n" +
				`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage_user"],"values":[["2024-01-01T00:00:40Z",35.32],["2024-01-01T00:01:00Z",42.66]],"partial":true}],"partial":true}]}` + "\n" +
				`{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage_user"],"values":[["2024-01-01T00:01:20Z",17.52]]}]}]}` + "\n",
		},
		{
			name:      "http16_chunked_group_by_tag",
			chunked:   true,
			chunkSize: 3,
			results: []*StatementResult{{Series: []*ResultSeries{
				series("cpu", host("server01"), []string{"time", "usage_user"}, row(t0, 10.27), row(t0+20e9, 38.06)),
				series("cpu", host("server02"), []string{"time", "usage_user"}, row(t0, 28.47), row(t0+20e9, 33.86)),
				series("cpu", host("server03"), []string{"time", "usage_user"}, row(t0, 28.6), row(t0+20e9, 47.95)),
			}}},
			want: `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"server01"},"columns":["time","usage_user"],"values":[["2024-01-01T00:00:00Z",10.27],["2024-01-01T00:00:20Z",38.06]]}],"partial":true}]}` + "\n" +
				`{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"server02"},"columns":["time","usage_user"],"values":[["2024-01-01T00:00:00Z",28.47],["2024-01-01T00:00:20Z",33.86]]}],"partial":true}]}` + "\n" +
				`{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"server03"},"columns":["time","usage_user"],"values":[["2024-01-01T00:00:00Z",28.6],["2024-01-01T00:00:20Z",47.95]]}]}]}` + "\n",
		},
		{
			name: "http18_multi_statement",
			results: []*StatementResult{
				{Series: []*ResultSeries{series("cpu", nil, []string{"time", "usage_user"}, row(t0, 10.27))}},
				{StatementID: 1},
				{StatementID: 2, Series: []*ResultSeries{series("mem", nil, []string{"time", "used"}, row(t0, int64(4732000000)))}},
			},
			want: `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage_user"],"values":[["2024-01-01T00:00:00Z",10.27]]}]},{"statement_id":1},{"statement_id":2,"series":[{"name":"mem","columns":["time","used"],"values":[["2024-01-01T00:00:00Z",4732000000]]}]}]}` + "\n",
		},
		{
			name:    "http19_no_db",
			results: []*StatementResult{{Err: "database name required"}},
			want:    `{"results":[{"statement_id":0,"error":"database name required"}]}` + "\n",
		},
		{
			name:    "http27_empty_result",
			results: []*StatementResult{{}},
			want:    `{"results":[{"statement_id":0}]}` + "\n",
		},
		{
			name:    "no_results",
			results: nil,
			want:    "{}\n",
		},
		{
			name:      "http37_chunked_error_after_result",
			chunked:   true,
			chunkSize: DefaultChunkSize,
			results: []*StatementResult{
				{Series: []*ResultSeries{series("status", nil, []string{"time", "count"}, row(0, int64(465)))}},
				{StatementID: 1, Err: "unsupported mean iterator type: *query.stringInterruptIterator"},
			},
			want: `{"results":[{"statement_id":0,"series":[{"name":"status","columns":["time","count"],"values":[["1970-01-01T00:00:00Z",465]]}]}]}` + "\n" +
				`{"results":[{"statement_id":1,"error":"unsupported mean iterator type: *query.stringInterruptIterator"}]}` + "\n",
		},
		{
			name: "grp18_tz_on_raw_query",
			results: []*StatementResult{{Location: kolkata, Series: []*ResultSeries{
				series("cpu", nil, []string{"time", "usage_user"}, row(t0, 10.27), row(t0+20e9, 38.06))}}},
			want: `{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage_user"],"values":[["2024-01-01T05:30:00+05:30",10.27],["2024-01-01T05:30:20+05:30",38.06]]}]}]}` + "\n",
		},
		{
			name: "tz_only_its_statement",
			results: []*StatementResult{
				{Location: kolkata, Series: []*ResultSeries{series("m", nil, []string{"time", "v"}, row(0, true))}},
				{StatementID: 1, Series: []*ResultSeries{series("m", nil, []string{"time", "v"}, row(100, false))}},
			},
			want: `{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v"],"values":[["1970-01-01T05:30:00+05:30",true]]}]},{"statement_id":1,"series":[{"name":"m","columns":["time","v"],"values":[["1970-01-01T00:00:00.0000001Z",false]]}]}]}` + "\n",
		},
		{
			name: "ddl03_message",
			results: []*StatementResult{{Messages: []ResponseMessage{{Level: "warning",
				Text: "deprecated use of 'CREATE DATABASE oracle_get' in a read only context, please use a POST request instead"}}}},
			want: `{"results":[{"statement_id":0,"messages":[{"level":"warning","text":"deprecated use of 'CREATE DATABASE oracle_get' in a read only context, please use a POST request instead"}]}]}` + "\n",
		},
		{
			name: "show17_retention_policies_no_name_no_time",
			results: []*StatementResult{{Series: []*ResultSeries{{
				NoTime:  true,
				Columns: []string{"name", "duration", "shardGroupDuration", "replicaN", "default"},
				Rows:    []Row{{Values: []any{"autogen", "0s", "168h0m0s", int64(1), true}}},
			}}}},
			want: `{"results":[{"statement_id":0,"series":[{"columns":["name","duration","shardGroupDuration","replicaN","default"],"values":[["autogen","0s","168h0m0s",1,true]]}]}]}` + "\n",
		},
		{
			name: "numbers_as_encoding_json",
			results: []*StatementResult{{Series: []*ResultSeries{series("n", nil,
				[]string{"time", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"},
				row(0, 35817.840000000004, math.Copysign(0, -1), 3.0, 1e21, 1e20, 1e-7, 0.000001, int64(math.MinInt64), uint64(math.MaxUint64), nil, math.NaN(), math.Inf(-1)))}}},
			want: `{"results":[{"statement_id":0,"series":[{"name":"n","columns":["time","a","b","c","d","e","f","g","h","i","j","k","l"],"values":[["1970-01-01T00:00:00Z",35817.840000000004,-0,3,1e+21,100000000000000000000,1e-7,0.000001,-9223372036854775808,18446744073709551615,null,null,null]]}]}]}` + "\n",
		},
		{
			name: "strings_escaped_as_encoding_json",
			results: []*StatementResult{{Series: []*ResultSeries{series("s\"<", map[string]string{"b": "2", "a": "&"},
				[]string{"time", "v"}, row(0, "degraded: \"slow\"\n\t\x01\u2028\xff é"))}}},
			want: `{"results":[{"statement_id":0,"series":[{"name":"s\"\u003c","tags":{"a":"\u0026","b":"2"},"columns":["time","v"],"values":[["1970-01-01T00:00:00Z","degraded: \"slow\"\n\t\u0001\u2028\ufffd é"]]}]}]}` + "\n",
		},
		{
			// Pieces of one statement and of one series merge when not chunked.
			name: "pieces_merge",
			results: []*StatementResult{
				{Partial: true, Series: []*ResultSeries{{Name: "m", Columns: []string{"time", "v"}, Partial: true, Rows: []Row{row(1, int64(1))}}}},
				{Partial: true, Series: []*ResultSeries{{Name: "m", Columns: []string{"time", "v"}, Rows: []Row{row(2, int64(2))}}}},
				{Series: []*ResultSeries{{Name: "m", Tags: host("b"), Columns: []string{"time", "v"}, Rows: []Row{row(3, int64(3))}}}},
			},
			want: `{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v"],"values":[["1970-01-01T00:00:00.000000001Z",1],["1970-01-01T00:00:00.000000002Z",2]]},{"name":"m","tags":{"host":"b"},"columns":["time","v"],"values":[["1970-01-01T00:00:00.000000003Z",3]]}]}]}` + "\n",
		},
		{
			// A statement's error replaces what it produced, as in InfluxDB 1.x.
			name: "error_replaces_statement",
			results: []*StatementResult{
				{Series: []*ResultSeries{series("m", nil, []string{"time", "v"}, row(1, int64(1)))}},
				{StatementID: 1, Partial: true, Messages: []ResponseMessage{{Level: "info", Text: "x"}}, Series: []*ResultSeries{series("m", nil, []string{"time", "v"}, row(1, int64(1)))}},
				{StatementID: 1, Err: "boom"},
			},
			want: `{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v"],"values":[["1970-01-01T00:00:00.000000001Z",1]]}]},{"statement_id":1,"error":"boom"}]}` + "\n",
		},
		{
			name: "close_cuts_partial_statement",
			results: []*StatementResult{
				{Partial: true, Series: []*ResultSeries{{Name: "m", Columns: []string{"time", "v"}, Partial: true, Rows: []Row{row(1, int64(1))}}}},
			},
			want: `{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v"],"values":[["1970-01-01T00:00:00.000000001Z",1]],"partial":true}],"partial":true}]}` + "\n",
		},
		{
			name: "empty_series_object_pretty",
			enc:  Encoding{Pretty: true},
			results: []*StatementResult{{Series: []*ResultSeries{{NoTime: true},
				{NoTime: true, Partial: true}, {Name: "x", NoTime: true, Columns: []string{}, Rows: []Row{{}}}}}},
			want: "{\n    \"results\": [\n        {\n            \"statement_id\": 0,\n            \"series\": [\n                {},\n                {},\n                {\n                    \"name\": \"x\",\n                    \"values\": [\n                        []\n                    ]\n                }\n            ]\n        }\n    ]\n}\n",
		},
		{
			name: "http30_csv_output",
			enc:  Encoding{Format: "csv"},
			results: []*StatementResult{
				{Series: []*ResultSeries{series("cpu", nil, []string{"time", "usage_user", "host"},
					row(t0, 10.27, "server01"), row(t0+20e9, 38.06, "server01"))}},
				{StatementID: 1, Series: []*ResultSeries{{Name: "cpu", NoTime: true, Columns: []string{"tagKey"},
					Rows: []Row{{Values: []any{"host"}}, {Values: []any{"region"}}}}}},
			},
			want: "name,tags,time,usage_user,host\ncpu,,1704067200000000000,10.27,server01\ncpu,,1704067220000000000,38.06,server01\n\nname,tags,tagKey\ncpu,,host\ncpu,,region\n",
		},
		{
			name: "csv_tags_epoch_nulls_quoting_and_new_columns",
			enc:  Encoding{Format: "csv", Epoch: "s"},
			results: []*StatementResult{
				{StatementID: 0},
				{StatementID: 1, Series: []*ResultSeries{
					series("cpu", map[string]string{"region": "us east", "host": "a,b"}, []string{"time", "v", "s"},
						row(t0, 1e21, "say \"hi\""), row(t0+1e9, nil, " lead"), row(t0+2e9, uint64(7), true)),
					series("mem", nil, []string{"time", "used"}, row(t0, int64(-3))),
				}},
				{StatementID: 2, Err: "ignored in csv"},
			},
			want: "name,tags,time,v,s\n" +
				`cpu,"host=a\,b,region=us\ east",1704067200,1000000000000000000000,"say ""hi"""` + "\n" +
				`cpu,"host=a\,b,region=us\ east",1704067201,," lead"` + "\n" +
				`cpu,"host=a\,b,region=us\ east",1704067202,7,true` + "\n" +
				"name,tags,time,used\nmem,,1704067200,-3\n",
		},
		{
			name: "csv_error_retracts_statement",
			enc:  Encoding{Format: "csv"},
			results: []*StatementResult{
				{Partial: true, Series: []*ResultSeries{series("m", nil, []string{"time", "v"}, row(1, int64(1)))}},
				{Err: "boom"},
				{StatementID: 1, Series: []*ResultSeries{series("m", nil, []string{"time", "v"}, row(2, int64(2)))}},
			},
			want: "name,tags,time,v\nm,,2,2\n",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.enc, tc.chunked, tc.chunkSize, tc.results...)
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestResponseWriter_ChunkBoundaries checks that the chunks depend only on the rows,
// not on how the executor splits them into WriteResult calls.
func TestResponseWriter_ChunkBoundaries(t *testing.T) {
	var rows []Row
	for i := range 7 {
		rows = append(rows, row(int64(i), float64(i)/4))
	}
	cols := []string{"time", "v"}
	whole := []*StatementResult{
		{Series: []*ResultSeries{series("a", nil, cols, rows...), series("b", nil, cols, rows[:2]...)}},
		{StatementID: 1, Series: []*ResultSeries{series("c", nil, cols, rows[:1]...)}},
	}
	var split []*StatementResult
	for _, r := range rows {
		split = append(split, &StatementResult{Partial: true, Series: []*ResultSeries{{Name: "a", Columns: cols, Partial: true, Rows: []Row{r}}}})
	}
	split = append(split,
		&StatementResult{Partial: true}, // an empty piece changes nothing
		&StatementResult{Series: []*ResultSeries{series("b", nil, cols, rows[:2]...)}},
		&StatementResult{StatementID: 1, Series: []*ResultSeries{series("c", nil, cols, rows[:1]...)}},
	)
	for _, size := range []int{1, 2, 3, 7, 100} {
		for _, chunked := range []bool{false, true} {
			for _, enc := range []Encoding{{}, {Pretty: true}, {Format: "csv"}} {
				a := render(t, enc, chunked, size, whole...)
				b := render(t, enc, chunked, size, split...)
				if a != b {
					t.Errorf("size %d chunked %v %+v: whole\n%s\nsplit\n%s", size, chunked, enc, a, b)
				}
			}
		}
	}
	// And the chunk count follows the size: ceil(7/3) + 1 + 1 documents.
	got := render(t, Encoding{}, true, 3, whole...)
	if n := strings.Count(got, "\n"); n != 5 {
		t.Errorf("%d chunks, want 5:\n%s", n, got)
	}
}

// TestResponseWriter_PrettyIsIndent checks pretty output against encoding/json's
// indentation of the compact output, which is what InfluxDB's MarshalIndent gives.
func TestResponseWriter_PrettyIsIndent(t *testing.T) {
	results := []*StatementResult{
		{Series: []*ResultSeries{
			series("cpu", map[string]string{"host": "a", "dc": "x"}, []string{"time", "v", "w"}, row(1, 1.5, nil), row(2, "s", true)),
			{NoTime: true, Columns: []string{"k"}, Partial: true},
		}, Messages: []ResponseMessage{{Level: "warning", Text: "w1"}, {Level: "info", Text: "i2"}}, Partial: true},
		{Err: "bad"},
		{StatementID: 1, Messages: []ResponseMessage{{Level: "warning", Text: "only"}}},
		{StatementID: 2, Series: []*ResultSeries{{NoTime: true}}},
	}
	for _, chunked := range []bool{false, true} {
		compact := render(t, Encoding{}, chunked, 1, results...)
		pretty := render(t, Encoding{Pretty: true}, chunked, 1, results...)
		var want bytes.Buffer
		dec := json.NewDecoder(strings.NewReader(compact))
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("compact output is not JSON: %v\n%s", err, compact)
			}
			if err := json.Indent(&want, raw, "", "    "); err != nil {
				t.Fatal(err)
			}
			want.WriteByte('\n')
		}
		if pretty != want.String() {
			t.Errorf("chunked %v: pretty\n%s\nindented compact\n%s", chunked, pretty, want.String())
		}
	}
}

func TestResponseWriter_Errors(t *testing.T) {
	cases := []struct {
		name string
		res  *StatementResult
		want error
	}{
		{"too_few_values", &StatementResult{Series: []*ResultSeries{series("m", nil, []string{"time", "a", "b"}, row(0, 1.0))}}, ErrRowWidth},
		{"time_counted_as_value", &StatementResult{Series: []*ResultSeries{{NoTime: true, Columns: []string{"a"}, Rows: []Row{{Values: []any{1.0, 2.0}}}}}}, ErrRowWidth},
		{"float32", &StatementResult{Series: []*ResultSeries{series("m", nil, []string{"time", "a"}, row(0, float32(1)))}}, ErrValueType},
		{"time_value", &StatementResult{Series: []*ResultSeries{series("m", nil, []string{"time", "a"}, row(0, time.Unix(0, 0)))}}, ErrValueType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			w := NewResponseWriter(&b, Encoding{}, false, 0)
			if err := w.WriteResult(tc.res); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			// The bad result left nothing behind: the response is still well formed.
			if err := w.WriteResult(&StatementResult{}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if want := `{"results":[{"statement_id":0}]}` + "\n"; b.String() != want {
				t.Errorf("got %q, want %q", b.String(), want)
			}
		})
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, io.ErrClosedPipe
	}
	f.n--
	return len(p), nil
}

func TestResponseWriter_WriteErrorIsSticky(t *testing.T) {
	w := NewResponseWriter(&failWriter{n: 1}, Encoding{}, true, 1)
	res := &StatementResult{Series: []*ResultSeries{series("m", nil, []string{"time", "v"}, row(0, 1.0), row(1, 2.0), row(2, 3.0))}}
	err := w.WriteResult(res)
	if !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("err %v, want ErrClosedPipe", err)
	}
	if err := w.WriteResult(&StatementResult{StatementID: 1}); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("second write: %v", err)
	}
	if err := w.Close(); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("close: %v", err)
	}
	w = NewResponseWriter(io.Discard, Encoding{}, false, 0)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteResult(&StatementResult{}); err == nil {
		t.Fatal("WriteResult after Close succeeded")
	}
}

type flushRecorder struct {
	bytes.Buffer
	flushes []int // buffer length at each flush
}

func (f *flushRecorder) Flush() { f.flushes = append(f.flushes, f.Len()) }

func TestResponseWriter_FlushesEveryChunk(t *testing.T) {
	var f flushRecorder
	w := NewResponseWriter(&f, Encoding{}, true, 2)
	res := &StatementResult{Series: []*ResultSeries{series("m", nil, []string{"time", "v"}, row(0, 1.0), row(1, 2.0), row(2, 3.0))}}
	if err := w.WriteResult(res); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	docs := strings.Count(f.String(), "\n")
	if docs != 2 || len(f.flushes) != 2 || f.flushes[1] != f.Len() {
		t.Errorf("%d documents, flushes at %v of %d bytes", docs, f.flushes, f.Len())
	}
}

func TestRequestEncoding(t *testing.T) {
	cases := []struct {
		query, accept string
		enc           Encoding
		chunked       bool
		size          int
	}{
		{"", "", Encoding{Format: "json"}, false, DefaultChunkSize},
		{"epoch=+ms+&pretty=true", "application/json", Encoding{Epoch: "ms", Pretty: true, Format: "json"}, false, DefaultChunkSize},
		{"pretty=1", "text/csv", Encoding{Format: "csv"}, false, DefaultChunkSize},
		{"", "application/csv; charset=utf-8", Encoding{Format: "csv"}, false, DefaultChunkSize},
		{"", "application/x-msgpack", Encoding{Format: "json"}, false, DefaultChunkSize},
		{"", "application/json, text/csv", Encoding{Format: "json"}, false, DefaultChunkSize},
		{"chunked=true", "", Encoding{Format: "json"}, true, DefaultChunkSize},
		{"chunked=true&chunk_size=2", "", Encoding{Format: "json"}, true, 2},
		{"chunked=true&chunk_size=0", "", Encoding{Format: "json"}, true, DefaultChunkSize},
		{"chunked=true&chunk_size=-5", "", Encoding{Format: "json"}, true, DefaultChunkSize},
		{"chunked=true&chunk_size=x", "", Encoding{Format: "json"}, true, DefaultChunkSize},
		{"chunked=1&chunk_size=2", "", Encoding{Format: "json"}, false, DefaultChunkSize},
	}
	for _, tc := range cases {
		r, err := http.NewRequest("GET", "/query?"+tc.query, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.accept != "" {
			r.Header.Set("Accept", tc.accept)
		}
		enc := RequestEncoding(r)
		chunked, size := RequestChunking(r)
		if enc != tc.enc || chunked != tc.chunked || size != tc.size {
			t.Errorf("%q %q: %+v %v %d, want %+v %v %d", tc.query, tc.accept, enc, chunked, size, tc.enc, tc.chunked, tc.size)
		}
	}
	if (Encoding{Format: "csv"}).ContentType() != "text/csv" || (Encoding{}).ContentType() != "application/json" {
		t.Error("content types")
	}
}

// corpusEntry is the part of a testdata/compat/queries.jsonl entry this package uses.
type corpusEntry struct {
	Name     string            `json:"name"`
	Path     string            `json:"path"`
	Params   map[string]string `json:"params"`
	Body     *string           `json:"body"`
	Headers  map[string]string `json:"headers"`
	Status   int               `json:"status"`
	Response string            `json:"response"`
}

// TestResponseWriter_Corpus re-renders every JSON /query answer InfluxDB 1.6.7 gave
// in the compatibility corpus: each answer is decoded into StatementResults (the
// chunks of a chunked answer into pieces), fed to a ResponseWriter configured from
// the recorded request, and the output must be byte for byte the recorded body.
func TestResponseWriter_Corpus(t *testing.T) {
	f, err := os.Open("../testdata/compat/queries.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	checked := 0
	for sc.Scan() {
		var e corpusEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Path != "/query" || e.Status != http.StatusOK || !strings.HasPrefix(e.Response, "{") {
			continue
		}
		form := url.Values{}
		for k, v := range e.Params {
			form.Set(k, v)
		}
		if e.Body != nil {
			body, err := url.ParseQuery(*e.Body)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range body {
				form[k] = v
			}
		}
		r, _ := http.NewRequest("GET", "/query?"+form.Encode(), nil)
		for k, v := range e.Headers {
			r.Header.Set(k, v)
		}
		enc := RequestEncoding(r)
		chunked, size := RequestChunking(r)
		pieces, err := decodeAnswer(e.Response, epochDivisor(enc.Epoch))
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		got := render(t, enc, chunked, size, pieces...)
		if got != e.Response {
			t.Errorf("%s:\n got %s\nwant %s", e.Name, got, e.Response)
		}
		checked++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("only %d answers checked", checked)
	}
	t.Logf("%d recorded answers re-rendered", checked)
}

// decodeAnswer turns a recorded /query body (one or more documents) back into the
// results that produce it: numbers with a fraction or exponent are floats, others
// integers; a first column named "time" holds the time, RFC3339 (whose offset
// becomes the statement's Location) or integers in units of div.
func decodeAnswer(body string, div int64) ([]*StatementResult, error) {
	type jsonSeries struct {
		Name    string            `json:"name"`
		Tags    map[string]string `json:"tags"`
		Columns []string          `json:"columns"`
		Values  [][]any           `json:"values"`
		Partial bool              `json:"partial"`
	}
	type jsonResult struct {
		StatementID int           `json:"statement_id"`
		Series      []*jsonSeries `json:"series"`
		Messages    []struct {
			Level string `json:"level"`
			Text  string `json:"text"`
		} `json:"messages"`
		Partial bool   `json:"partial"`
		Err     string `json:"error"`
	}
	if div == 0 {
		div = 1
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var out []*StatementResult
	for {
		var doc struct {
			Results []*jsonResult `json:"results"`
		}
		if err := dec.Decode(&doc); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		for _, jr := range doc.Results {
			res := &StatementResult{StatementID: jr.StatementID, Partial: jr.Partial, Err: jr.Err}
			for _, m := range jr.Messages {
				res.Messages = append(res.Messages, ResponseMessage{Level: m.Level, Text: m.Text})
			}
			for _, js := range jr.Series {
				s := &ResultSeries{Name: js.Name, Tags: js.Tags, Columns: js.Columns, Partial: js.Partial,
					NoTime: len(js.Columns) == 0 || js.Columns[0] != "time"}
				for _, vals := range js.Values {
					var rw Row
					for i, v := range vals {
						v = decodeNumber(v)
						if i == 0 && !s.NoTime {
							switch tv := v.(type) {
							case string:
								ts, err := time.Parse(time.RFC3339Nano, tv)
								if err != nil {
									return nil, err
								}
								if _, off := ts.Zone(); off != 0 {
									res.Location = time.FixedZone("", off)
								}
								rw.Time = ts.UnixNano()
							case int64:
								rw.Time = tv * div
							}
							continue
						}
						rw.Values = append(rw.Values, v)
					}
					s.Rows = append(s.Rows, rw)
				}
				res.Series = append(res.Series, s)
			}
			out = append(out, res)
		}
	}
}

func decodeNumber(v any) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	if !strings.ContainsAny(string(n), ".eE") {
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			if i == 0 && strings.HasPrefix(string(n), "-") {
				return math.Copysign(0, -1)
			}
			return i
		}
		if u, err := strconv.ParseUint(string(n), 10, 64); err == nil {
			return u
		}
	}
	f, _ := n.Float64()
	return f
}

// FuzzJSONScalars checks strings and floats against encoding/json, which is
// what InfluxDB 1.x clients were written against.
func FuzzJSONScalars(f *testing.F) {
	f.Add("degraded: \"slow\"", 35817.840000000004)
	f.Add("<a href='x'>&amp;</a>", -0.0)
	f.Add("\x00\x1f\x7f\u2028\u2029\xff\xfe", 1e21)
	f.Add("é中\U0001F600", 1e-7)
	f.Add("", 123456789.125)
	f.Fuzz(func(t *testing.T, s string, x float64) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("string %q: got %s, want %s", s, got, want)
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			if got := appendJSONFloat(nil, x); string(got) != "null" {
				t.Errorf("%v: got %s", x, got)
			}
			return
		}
		want, _ = json.Marshal(x)
		if got := appendJSONFloat(nil, x); !bytes.Equal(got, want) {
			t.Errorf("float %v: got %s, want %s", x, got, want)
		}
	})
}

// FuzzCSVField checks field quoting against encoding/csv.
func FuzzCSVField(f *testing.F) {
	for _, s := range []string{"", "a", "a,b", `say "hi"`, " lead", "\tx", `\.`, "a\r\nb", "\u00a0x", "x "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		w := csv.NewWriter(&want)
		w.Write([]string{s})
		w.Flush()
		got := append(appendCSVField(nil, s), '\n')
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%q: got %q, want %q", s, got, want.Bytes())
		}
	})
}

// FuzzResponseWriter builds results from the fuzzer's bytes and checks the
// invariants: every output is JSON, pretty is indented compact, no chunk exceeds
// the chunk size, and without errors a chunked answer carries the same rows as the
// unchunked one.
func FuzzResponseWriter(f *testing.F) {
	f.Add([]byte{0, 3, 1, 2, 9, 4, 4, 4, 1, 0}, uint8(2))
	f.Add([]byte{5, 200, 17, 3, 3, 3, 3, 3, 3, 99, 7, 1}, uint8(1))
	f.Add([]byte("series with text\xff\x00 and tags"), uint8(3))
	// Found by the fuzzer: an error after rows (only a non-chunked answer retracts them).
	f.Add([]byte("0$11\xff"), uint8(7))
	f.Add([]byte("&\xc8\x11\x03\x03\x03\x03\x03\x03c\a\x01$\xe722"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, size uint8) {
		results := fuzzResults(data)
		// A statement error retracts the statement's rows from a non-chunked answer
		// but not from a chunked one, whose chunks are already sent.
		sameRows := true
		for _, r := range results {
			sameRows = sameRows && r.Err == ""
		}
		chunkSize := int(size%8) + 1
		var plain bytes.Buffer
		for _, chunked := range []bool{false, true} {
			compact := renderFuzz(t, Encoding{Epoch: "ms"}, chunked, chunkSize, results)
			pretty := renderFuzz(t, Encoding{Epoch: "ms", Pretty: true}, chunked, chunkSize, results)
			var indented bytes.Buffer
			dec := json.NewDecoder(bytes.NewReader(compact))
			var rows []string
			for {
				var raw json.RawMessage
				if err := dec.Decode(&raw); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("not JSON: %v\n%s", err, compact)
				}
				json.Indent(&indented, raw, "", "    ")
				indented.WriteByte('\n')
				var doc struct {
					Results []struct {
						Series []struct {
							Values []json.RawMessage `json:"values"`
						} `json:"series"`
					} `json:"results"`
				}
				if err := json.Unmarshal(raw, &doc); err != nil {
					t.Fatal(err)
				}
				for _, r := range doc.Results {
					for _, s := range r.Series {
						if chunked && len(s.Values) > chunkSize {
							t.Fatalf("chunk of %d rows, size %d", len(s.Values), chunkSize)
						}
						for _, v := range s.Values {
							rows = append(rows, string(v))
						}
					}
				}
			}
			if !bytes.Equal(pretty, indented.Bytes()) {
				t.Fatalf("pretty\n%s\nindented\n%s", pretty, indented.Bytes())
			}
			joined := strings.Join(rows, "\n")
			if !chunked {
				plain.WriteString(joined)
			} else if sameRows && joined != plain.String() {
				t.Fatalf("chunked rows\n%s\nplain rows\n%s", joined, plain.String())
			}
		}
		renderFuzz(t, Encoding{Format: "csv"}, false, chunkSize, results)
	})
}

func renderFuzz(t *testing.T, enc Encoding, chunked bool, size int, results []*StatementResult) []byte {
	var b bytes.Buffer
	w := NewResponseWriter(&b, enc, chunked, size)
	for _, r := range results {
		if err := w.WriteResult(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fuzzResults turns bytes into a sequence of well-formed results: each byte picks
// the next action (new statement, piece boundary, new series, row, message, error).
func fuzzResults(data []byte) []*StatementResult {
	var out []*StatementResult
	id := 0
	cur := &StatementResult{}
	var ser *ResultSeries
	next := func(i int) byte {
		if i < len(data) {
			return data[i]
		}
		return 0
	}
	for i := 0; i < len(data); i++ {
		b := data[i]
		switch b % 8 {
		case 0: // end statement
			out = append(out, cur)
			id++
			cur, ser = &StatementResult{StatementID: id}, nil
		case 1: // piece boundary
			cur.Partial = true
			if ser != nil {
				ser.Partial = b&8 != 0
			}
			out = append(out, cur)
			cur = &StatementResult{StatementID: id}
			if ser != nil && ser.Partial {
				ser = &ResultSeries{Name: ser.Name, Tags: ser.Tags, Columns: ser.Columns, NoTime: ser.NoTime}
				cur.Series = append(cur.Series, ser)
			} else {
				ser = nil
			}
		case 2, 3: // new series
			ser = &ResultSeries{Name: string(data[i:min(len(data), i+1+int(next(i+1)%3))]), NoTime: b&16 != 0, Columns: []string{"time", "v"}}
			if b&32 != 0 {
				ser.Tags = map[string]string{"k": string(rune(next(i + 1)))}
			}
			cur.Series = append(cur.Series, ser)
		case 4, 5, 6: // row
			if ser == nil {
				ser = &ResultSeries{Name: "m", Columns: []string{"time", "v"}}
				cur.Series = append(cur.Series, ser)
			}
			var v any
			switch next(i+1) % 6 {
			case 0:
				v = float64(int8(next(i+2))) / 3
			case 1:
				v = int64(next(i+2)) << 40
			case 2:
				v = string(data[i:min(len(data), i+3)])
			case 3:
				v = next(i+2)&1 == 0
			case 4:
				v = uint64(next(i + 2))
			}
			r := Row{Time: int64(int8(next(i+2))) * 1e9, Values: []any{v}}
			if ser.NoTime {
				r.Values = append(r.Values, nil)
			}
			ser.Rows = append(ser.Rows, r)
		case 7:
			if b&8 != 0 {
				cur.Err = "error " + strconv.Itoa(i)
			} else {
				cur.Messages = append(cur.Messages, ResponseMessage{Level: "warning", Text: string(data[i:min(len(data), i+2)])})
			}
		}
	}
	return append(out, cur)
}

func benchResults(rows int) *StatementResult {
	s := &ResultSeries{Name: "cpu", Tags: map[string]string{"host": "server01"},
		Columns: []string{"time", "usage_user", "usage_system", "procs"}, Rows: make([]Row, rows)}
	for i := range s.Rows {
		s.Rows[i] = Row{Time: t0 + int64(i)*10e9, Values: []any{float64(i%1000) / 7, 38.06, int64(i)}}
	}
	return &StatementResult{Series: []*ResultSeries{s}}
}

func BenchmarkResponseWriter(b *testing.B) {
	res := benchResults(10000)
	for _, bc := range []struct {
		name    string
		enc     Encoding
		chunked bool
	}{
		{"json", Encoding{}, false},
		{"json_epoch_ms", Encoding{Epoch: "ms"}, false},
		{"json_chunked_1000", Encoding{}, true},
		{"json_pretty", Encoding{Pretty: true}, false},
		{"csv", Encoding{Format: "csv"}, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var n countWriter
			w := NewResponseWriter(&n, bc.enc, bc.chunked, 1000)
			w.WriteResult(res)
			w.Close()
			b.SetBytes(int64(n))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				w := NewResponseWriter(io.Discard, bc.enc, bc.chunked, 1000)
				if err := w.WriteResult(res); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

type writeCounter struct {
	bytes.Buffer
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) { w.writes++; return w.Buffer.Write(p) }

// TestResponseWriter_StreamsCompletedStatements checks that a non-chunked answer
// goes out as statements complete, while an error still retracts the statement
// in progress even after megabytes of output.
func TestResponseWriter_StreamsCompletedStatements(t *testing.T) {
	var w writeCounter
	rw := NewResponseWriter(&w, Encoding{}, false, 0)
	big := benchResults(5000)
	for id := range 3 {
		big.StatementID = id
		if err := rw.WriteResult(big); err != nil {
			t.Fatal(err)
		}
	}
	before := w.writes
	big.StatementID, big.Partial = 3, true
	rw.WriteResult(big)
	rw.WriteResult(&StatementResult{StatementID: 3, Err: "boom"})
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
	if before < 2 {
		t.Errorf("%d writes before the last statement: completed statements were held back", before)
	}
	var doc struct {
		Results []struct {
			StatementID int `json:"statement_id"`
			Series      []struct {
				Values [][]any `json:"values"`
			} `json:"series"`
			Err string `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(w.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Results) != 4 || len(doc.Results[2].Series[0].Values) != 5000 ||
		doc.Results[3].Err != "boom" || doc.Results[3].Series != nil {
		t.Errorf("unexpected answer shape: %d results", len(doc.Results))
	}
}

// TestResponseWriter_LongSeriesPartialUnchunked: non-chunked, a series of more
// than DefaultChunkSize rows says "partial":true, as 1.x's answer does (it keeps
// the flag of the first 10,000-row piece); one of exactly that many does not.
func TestResponseWriter_LongSeriesPartialUnchunked(t *testing.T) {
	for _, n := range []int{DefaultChunkSize, DefaultChunkSize + 1} {
		s := series("cpu", nil, []string{"time", "value"})
		for i := 0; i < n; i++ {
			s.Rows = append(s.Rows, row(int64(i), int64(i)))
		}
		out := render(t, Encoding{}, false, 0, &StatementResult{Series: []*ResultSeries{s}})
		if got, want := strings.Contains(out, `"partial":true`), n > DefaultChunkSize; got != want {
			t.Errorf("%d rows: partial %v, want %v", n, got, want)
		}
		if got := strings.Count(out, `],[`) + 1; got != n {
			t.Errorf("%d rows: rendered %d", n, got)
		}
	}
}

// TestRFC3339NanoUTC checks the arithmetic time formatter against
// time.Time's, byte for byte: the ends of the int64 range, the epoch and
// instants just before it, leap days and century years, whole seconds and
// every length of fraction, and random instants.
func TestRFC3339NanoUTC(t *testing.T) {
	cases := []int64{
		math.MinInt64, math.MinInt64 + 1, math.MaxInt64, math.MaxInt64 - 1, 0, -1, 1, -1e9, 1e9, -1e9 + 1,
		time.Date(2000, 2, 29, 23, 59, 59, 999999999, time.UTC).UnixNano(),
		time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano(),
		time.Date(2100, 2, 28, 12, 0, 0, 100, time.UTC).UnixNano(),
		time.Date(1969, 12, 31, 23, 59, 59, 500000000, time.UTC).UnixNano(),
		time.Date(2016, 1, 1, 20, 16, 0, 0, time.UTC).UnixNano(),
		time.Date(2262, 4, 11, 23, 47, 16, 854775807, time.UTC).UnixNano(),
		time.Date(1677, 9, 21, 0, 12, 43, 145224192, time.UTC).UnixNano(),
	}
	for d := int64(1); d <= 1e9; d *= 10 {
		cases = append(cases, 1451606400*int64(time.Second)+d, -d)
	}
	rng := rand.New(rand.NewSource(7))
	for range 20000 {
		cases = append(cases, int64(rng.Uint64()), rng.Int63n(400*365*86400)*int64(time.Second)-200*365*86400*int64(time.Second))
	}
	for _, c := range cases {
		want := time.Unix(0, c).UTC().AppendFormat(nil, time.RFC3339Nano)
		if got := appendRFC3339NanoUTC(nil, c); string(got) != string(want) {
			t.Fatalf("%d: %s, want %s", c, got, want)
		}
	}
}
