package bench

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"sort"
	"strconv"
	"testing"
)

// TestTSBSEntropy measures how many bytes a lossless coder must at least
// store for the integer fields of a TSBS line-protocol file: for each series
// and field, the order-0 empirical entropy of the zigzag deltas between
// consecutive values, n·H(deltas) bits over the n−1 deltas of the day. That is
// the bound a per-block, per-column entropy coder of deltas (what
// storage/block's FSE integer encoding is) cannot beat; the first value of a
// column and the regular timestamps are not counted (they cost a few bytes
// per block). For comparison it also prints the entropy with one delta
// distribution per field over all series (a global table), and the order-1
// entropy (each delta conditioned on the one before), which a context model
// could approach.
//
// It reads the file named by STRATA_TSBS_FILE, generated with
//
//	tsbs_generate_data --use-case=cpu-only --seed=123 --scale=100 \
//	  --timestamp-start=2016-01-01T00:00:00Z --timestamp-end=2016-01-02T00:00:00Z \
//	  --log-interval=10s --format=influx > data.influx
//
// and is skipped without it:
//
//	STRATA_TSBS_FILE=data.influx go test ./bench -run TestTSBSEntropy -v
func TestTSBSEntropy(t *testing.T) {
	path := os.Getenv("STRATA_TSBS_FILE")
	if path == "" {
		t.Skip("STRATA_TSBS_FILE not set")
	}
	cols, err := readIntColumns(path)
	if err != nil {
		t.Fatal(err)
	}
	r := tsbsEntropy(cols)
	t.Logf("%d columns, %d values, %d deltas", r.columns, r.values, r.deltas)
	t.Logf("order-0, per series and field: %.4f bits/delta = %.4f bytes/value", r.perColumn/float64(r.deltas), r.perColumn/8/float64(r.values))
	t.Logf("order-0, per field (all series): %.4f bits/delta = %.4f bytes/value", r.perField/float64(r.deltas), r.perField/8/float64(r.values))
	t.Logf("order-1, per series and field:   %.4f bits/delta = %.4f bytes/value", r.order1/float64(r.deltas), r.order1/8/float64(r.values))
	t.Logf("most frequent deltas: %v", r.top)
	if r.values == 0 || r.perColumn <= 0 {
		t.Fatalf("no integer values in %s", path)
	}
}

// TestEntropyOfKnownColumns checks the entropy arithmetic on columns whose
// answer is known, so TestTSBSEntropy cannot report a wrong figure silently.
func TestEntropyOfKnownColumns(t *testing.T) {
	tests := []struct {
		name      string
		cols      map[colKey][]int64
		perColumn float64 // bits in total
		perField  float64
	}{
		{"constant", map[colKey][]int64{{"a", "f"}: {5, 5, 5, 5, 5}}, 0, 0},
		{"alternating", map[colKey][]int64{{"a", "f"}: {0, 1, 0, 1, 0}}, 4, 4}, // deltas +1,-1 equally likely: 1 bit each
		{"two series, one step each", map[colKey][]int64{
			{"a", "f"}: {0, 1, 2, 3, 4}, // deltas all +1: 0 bits in its own column
			{"b", "f"}: {0, 0, 0, 0, 0}, // all 0: 0 bits
		}, 0, 8}, // pooled: 4 of +1, 4 of 0, 1 bit each
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tsbsEntropy(tc.cols)
			if math.Abs(r.perColumn-tc.perColumn) > 1e-9 || math.Abs(r.perField-tc.perField) > 1e-9 {
				t.Errorf("got per column %v, per field %v bits; want %v, %v", r.perColumn, r.perField, tc.perColumn, tc.perField)
			}
		})
	}
}

type colKey struct{ series, field string }

// readIntColumns reads every integer field of a line-protocol file into one
// column per series and field, in file order (TSBS writes in time order).
func readIntColumns(path string) (map[colKey][]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cols := map[colKey][]int64{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		sp := bytes.IndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		series := string(line[:sp])
		rest := line[sp+1:]
		if e := bytes.LastIndexByte(rest, ' '); e >= 0 {
			rest = rest[:e]
		}
		for len(rest) > 0 {
			kv := rest
			if c := bytes.IndexByte(rest, ','); c >= 0 {
				kv, rest = rest[:c], rest[c+1:]
			} else {
				rest = nil
			}
			eq := bytes.IndexByte(kv, '=')
			if eq < 0 || len(kv) < eq+3 || kv[len(kv)-1] != 'i' {
				continue
			}
			v, err := strconv.ParseInt(string(kv[eq+1:len(kv)-1]), 10, 64)
			if err != nil {
				continue
			}
			k := colKey{series, string(kv[:eq])}
			cols[k] = append(cols[k], v)
		}
	}
	return cols, sc.Err()
}

type entropyReport struct {
	columns, values, deltas int
	perColumn               float64 // bits: Σ over columns of n·H0(deltas)
	perField                float64 // bits: one distribution per field
	order1                  float64 // bits: Σ n·H(delta | previous delta)
	top                     []string
}

// entropyBits is n·H of a histogram: Σ -c·log2(c/n).
func entropyBits[K comparable](h map[K]int) float64 {
	n := 0
	for _, c := range h {
		n += c
	}
	bits := 0.0
	for _, c := range h {
		bits -= float64(c) * math.Log2(float64(c)/float64(n))
	}
	return bits
}

func tsbsEntropy(cols map[colKey][]int64) entropyReport {
	var r entropyReport
	byField := map[string]map[int64]int{}
	all := map[int64]int{}
	for k, vs := range cols {
		r.columns++
		r.values += len(vs)
		h := map[int64]int{}
		pairs := map[[2]int64]int{}
		prevD := int64(math.MinInt64) // no previous delta for the first
		for i := 1; i < len(vs); i++ {
			d := vs[i] - vs[i-1]
			h[d]++
			pairs[[2]int64{prevD, d}]++
			prevD = d
			all[d]++
		}
		r.deltas += len(vs) - 1
		r.perColumn += entropyBits(h)
		// H(D_i | D_{i-1}) · n = H(pairs) − H(previous deltas).
		prev := map[int64]int{}
		for p, c := range pairs {
			prev[p[0]] += c
		}
		r.order1 += entropyBits(pairs) - entropyBits(prev)
		fh := byField[k.field]
		if fh == nil {
			fh = map[int64]int{}
			byField[k.field] = fh
		}
		for d, c := range h {
			fh[d] += c
		}
	}
	for _, fh := range byField {
		r.perField += entropyBits(fh)
	}
	type dc struct {
		d int64
		c int
	}
	var ds []dc
	for d, c := range all {
		ds = append(ds, dc{d, c})
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].c > ds[j].c })
	for i := 0; i < len(ds) && i < 8; i++ {
		r.top = append(r.top, strconv.FormatInt(ds[i].d, 10)+":"+strconv.FormatFloat(float64(ds[i].c)/float64(r.deltas), 'f', 4, 64))
	}
	return r
}
