package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// maxQueryAnswer bounds one /query answer read into memory: lastpoint at scale 1000
// is about 1 MB, high-cpu-all of a day at scale 100 a few MB.
const maxQueryAnswer = 256 << 20

// QueryConfig says where and how often to run the query types.
type QueryConfig struct {
	URL    string
	DB     string
	Runs   int          // queries per type
	Seed   uint64       // drives host sets and windows
	Types  []string     // QueryTypes when nil
	Client *http.Client // NewClient(1) when nil
}

// QueryStats is what running one query type measured. Latency covers every query
// that got an HTTP answer, right or wrong.
type QueryStats struct {
	Type       string        `json:"type"`
	Runs       int           `json:"runs"`
	OK         int           `json:"ok"`
	Failed     int           `json:"failed"` // transport error, HTTP error or an error in the answer
	Wrong      int           `json:"wrong"`  // answered, but not what Expected computes
	Median     time.Duration `json:"-"`
	P99        time.Duration `json:"-"`
	MedianMs   float64       `json:"median_ms"`
	P99Ms      float64       `json:"p99_ms"`
	FirstError string        `json:"first_error,omitempty"`
	Example    string        `json:"example_query"`
}

// PlanQueries draws runs queries of each type. Each type has its own generator, so
// adding or skipping a type leaves the others' queries unchanged.
func PlanQueries(seed uint64, d *Dataset, types []string, runs int) ([][]Query, error) {
	plan := make([][]Query, len(types))
	for ti, typ := range types {
		// The golden-ratio stride gives every type a distant seed.
		gen := NewQueryGen(seed+uint64(ti)*0x9e3779b97f4a7c15, len(d.Hosts), d.Config.Start.UnixNano(), d.EndTime())
		for range runs {
			q, err := gen.Next(typ)
			if err != nil {
				return nil, err
			}
			plan[ti] = append(plan[ti], q)
		}
	}
	return plan, nil
}

// RunQueries runs every query type Runs times, one query at a time, and checks each
// answer. A failing query is counted and reported, never fatal; only a cancelled ctx
// stops the run.
func RunQueries(ctx context.Context, cfg QueryConfig, d *Dataset) ([]QueryStats, error) {
	types := cfg.Types
	if types == nil {
		types = QueryTypes
	}
	client := cfg.Client
	if client == nil {
		client = NewClient(1)
	}
	plan, err := PlanQueries(cfg.Seed, d, types, cfg.Runs)
	if err != nil {
		return nil, err
	}
	var out []QueryStats
	for ti, typ := range types {
		st := QueryStats{Type: typ, Runs: cfg.Runs}
		var lat []time.Duration
		for _, q := range plan[ti] {
			if st.Example == "" {
				st.Example = q.Text
			}
			want, err := Expected(d, q)
			if err != nil {
				return out, err
			}
			got, took, err := runQuery(ctx, client, cfg.URL, cfg.DB, q.Text)
			if ctx.Err() != nil {
				return out, fmt.Errorf("queries interrupted: %w", ctx.Err())
			}
			if took > 0 {
				lat = append(lat, took)
			}
			if err == nil {
				if cerr := Check(q, want, got); cerr != nil {
					st.Wrong++
					if st.FirstError == "" {
						st.FirstError = fmt.Sprintf("wrong answer to %s: %v", q.Text, cerr)
					}
					continue
				}
				st.OK++
				continue
			}
			st.Failed++
			if st.FirstError == "" {
				st.FirstError = err.Error()
			}
		}
		st.Median, st.P99 = percentile(lat, 0.5), percentile(lat, 0.99)
		st.MedianMs, st.P99Ms = ms(st.Median), ms(st.P99)
		out = append(out, st)
	}
	return out, nil
}

// runQuery sends one query as TSBS does (GET /query?db=…&q=…) and returns the
// answer and the time until it was read completely; took is 0 when no HTTP answer
// came.
func runQuery(ctx context.Context, c *http.Client, base, db, text string) (Result, time.Duration, error) {
	u := base + "/query?" + url.Values{"db": {db}, "q": {text}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Result{}, 0, err
	}
	begin := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return Result{}, 0, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxQueryAnswer))
	resp.Body.Close()
	took := time.Since(begin)
	if err != nil {
		return Result{}, took, fmt.Errorf("read answer: %w", err)
	}
	res, derr := DecodeResponse(body)
	if resp.StatusCode != http.StatusOK {
		var qe *QueryError
		if errors.As(derr, &qe) {
			return Result{}, took, fmt.Errorf("%s: %w", resp.Status, qe)
		}
		return Result{}, took, fmt.Errorf("%s: %s", resp.Status, clip(body))
	}
	return res, took, derr
}

// percentile returns the nearest-rank p-quantile (0 when there are no samples).
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	rank := int(math.Ceil(p*float64(len(s)))) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
