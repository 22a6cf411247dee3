package promremote

import (
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

var update = flag.Bool("update", false, "rewrite the golden request under testdata/promremote")

func series(name string, kv ...string) TimeSeries {
	ts := TimeSeries{Labels: []Label{{Name: []byte("__name__"), Value: []byte(name)}}}
	for i := 0; i+1 < len(kv); i += 2 {
		ts.Labels = append(ts.Labels, Label{Name: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	return ts
}

func decodeAll(t testing.TB, msg []byte) ([]TimeSeries, error) {
	var out []TimeSeries
	var ts TimeSeries
	err := Decode(msg, &ts, func(ts *TimeSeries) error {
		c := TimeSeries{Histograms: ts.Histograms}
		for _, l := range ts.Labels {
			c.Labels = append(c.Labels, Label{Name: append([]byte{}, l.Name...), Value: append([]byte{}, l.Value...)})
		}
		c.Samples = append(c.Samples, ts.Samples...)
		out = append(out, c)
		return nil
	})
	return out, err
}

func TestDecodeRoundTrip(t *testing.T) {
	up := series("up", "job", "node", "instance", "a:9100")
	up.Samples = []Sample{{1, 1700000000000}, {0, 1700000015000}, {math.Float64frombits(StaleNaN), 1700000030000}}
	neg := series("temp")
	neg.Samples = []Sample{{-273.15, -5}, {math.Inf(1), 0}}
	cases := []struct {
		name   string
		series []TimeSeries
	}{
		{"empty request", nil},
		{"one series with a stale marker", []TimeSeries{up}},
		{"two series, negative time, infinity", []TimeSeries{up, neg}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := AppendRequest(nil, c.series)
			body := Compress(nil, msg)
			raw, err := Inflate(nil, body, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeAll(t, raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.series) {
				t.Fatalf("got %d series, want %d", len(got), len(c.series))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i].Labels, c.series[i].Labels) {
					t.Errorf("series %d labels %q, want %q", i, got[i].Labels, c.series[i].Labels)
				}
				for j, s := range got[i].Samples {
					w := c.series[i].Samples[j]
					if math.Float64bits(s.Value) != math.Float64bits(w.Value) || s.Timestamp != w.Timestamp {
						t.Errorf("series %d sample %d = %x@%d, want %x@%d", i, j, math.Float64bits(s.Value), s.Timestamp, math.Float64bits(w.Value), w.Timestamp)
					}
				}
			}
		})
	}
}

func TestDecodeSkipsUnknownFieldsAndCountsHistograms(t *testing.T) {
	// metadata (field 3 of WriteRequest), an exemplar (3 of TimeSeries) and a
	// histogram (4) around one label and one sample.
	var s []byte
	s = protowire.AppendTag(s, 3, protowire.BytesType)
	s = protowire.AppendBytes(s, []byte{0x08, 0x01})
	s = protowire.AppendTag(s, timeSeriesHistograms, protowire.BytesType)
	s = protowire.AppendBytes(s, []byte{0x08, 0x02})
	msg := AppendRequest(nil, []TimeSeries{{Labels: []Label{{[]byte("__name__"), []byte("x")}}, Samples: []Sample{{2, 3}}}})
	inner, _ := protowire.ConsumeBytes(msg[1:])
	inner = append(append([]byte{}, inner...), s...)
	var req []byte
	req = protowire.AppendTag(req, 3, protowire.BytesType)
	req = protowire.AppendBytes(req, []byte("metadata"))
	req = protowire.AppendTag(req, writeRequestTimeseries, protowire.BytesType)
	req = protowire.AppendBytes(req, inner)
	got, err := decodeAll(t, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Samples) != 1 || got[0].Histograms != 1 || string(got[0].Labels[0].Value) != "x" {
		t.Fatalf("got %+v", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := AppendRequest(nil, []TimeSeries{series("m")})
	cases := []struct {
		name string
		msg  []byte
	}{
		{"truncated tag", []byte{0x80}},
		{"length past the end", []byte{0x0a, 0x10, 0x01}},
		{"truncated series", good[:len(good)-1]},
		{"bad wire type in sample", protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType),
			protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), []byte{0x0f}))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := decodeAll(t, c.msg); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestInflateLimits(t *testing.T) {
	body := Compress(nil, make([]byte, 1000))
	if _, err := Inflate(nil, body, 999); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if _, err := Inflate(nil, []byte("not snappy at all"), 1<<20); err == nil {
		t.Fatal("garbage inflated")
	}
}

// FuzzDecode feeds arbitrary bytes to the inflater and the decoder: neither may
// panic, and what decodes re-encodes to a request that decodes the same.
func FuzzDecode(f *testing.F) {
	up := series("up", "job", "node")
	up.Samples = []Sample{{1, 1}, {math.Float64frombits(StaleNaN), 2}}
	f.Add(Compress(nil, AppendRequest(nil, []TimeSeries{up, series("m")})))
	f.Add(AppendRequest(nil, []TimeSeries{up}))
	f.Add([]byte{0x0a, 0x10, 0x01})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if raw, err := Inflate(nil, data, 1<<20); err == nil {
			decodeAll(t, raw)
		}
		got, err := decodeAll(t, data)
		if err != nil {
			return
		}
		again, err := decodeAll(t, AppendRequest(nil, got))
		if err != nil {
			t.Fatalf("re-encoded request fails: %v", err)
		}
		if len(again) != len(got) {
			t.Fatalf("re-decoded %d series, want %d", len(again), len(got))
		}
		for i := range got {
			if len(again[i].Labels) != len(got[i].Labels) || len(again[i].Samples) != len(got[i].Samples) {
				t.Fatalf("series %d changed in a round trip", i)
			}
		}
	})
}

// TestGoldenRequest decodes testdata/promremote/write-request.v1.bin, the
// snappy body of docs/format/promremote.md's example, and checks it against
// the values listed there (regenerate with -update).
func TestGoldenRequest(t *testing.T) {
	up := series("up", "instance", "a:9100", "job", "node")
	up.Samples = []Sample{{1, 1700000000000}, {math.Float64frombits(StaleNaN), 1700000015000}}
	body := Compress(nil, AppendRequest(nil, []TimeSeries{up}))
	path := filepath.Join("..", "..", "testdata", "promremote", "write-request.v1.bin")
	if *update {
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := Inflate(nil, golden, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeAll(t, raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Labels) != 3 || string(got[0].Labels[1].Value) != "a:9100" ||
		len(got[0].Samples) != 2 || got[0].Samples[0] != (Sample{1, 1700000000000}) ||
		math.Float64bits(got[0].Samples[1].Value) != StaleNaN || got[0].Samples[1].Timestamp != 1700000015000 {
		t.Fatalf("golden request decodes to %+v", got)
	}
}

// FuzzDecodeReadRequest: no panic on any input, and what decodes re-encodes
// to the same queries.
func FuzzDecodeReadRequest(f *testing.F) {
	f.Add(AppendReadRequest(nil, []Query{{StartMs: 1, EndMs: 2, Matchers: []Matcher{{MatchEqual, "__name__", "up"}, {MatchRegexp, "job", "n.*"}}}}))
	f.Add([]byte{0x0a, 0x02, 0x1a, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		qs, err := DecodeReadRequest(data)
		if err != nil {
			return
		}
		again, err := DecodeReadRequest(AppendReadRequest(nil, qs))
		if err != nil || !reflect.DeepEqual(again, qs) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, qs, again)
		}
	})
}

func TestReadResponseRoundTrip(t *testing.T) {
	up := series("up", "job", "node")
	up.Samples = []Sample{{1, -1}, {math.Float64frombits(StaleNaN), 1 << 40}}
	in := [][]TimeSeries{{up, series("empty")}, nil}
	out, err := DecodeReadResponse(AppendReadResponse(nil, in))
	if err != nil || len(out) != 2 || len(out[0]) != 2 || len(out[1]) != 0 {
		t.Fatalf("%v %+v", err, out)
	}
	if math.Float64bits(out[0][0].Samples[1].Value) != StaleNaN || out[0][0].Samples[0].Timestamp != -1 || string(out[0][0].Labels[1].Value) != "node" {
		t.Fatalf("%+v", out[0][0])
	}
}
