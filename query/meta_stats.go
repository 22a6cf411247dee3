package query

import (
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/strata-db/strata/query/influxql"
)

// SHOW STATS and SHOW DIAGNOSTICS: the process as InfluxDB 1.x shows it, one
// series per module (FOR 'module' keeps one). Only what Strata really measures
// is reported; modules 1.x has and Strata lacks (shards, subscriptions, the
// write coordinator) are absent rather than shown as zeros.

func (e *Executor) showStats(s *influxql.ShowStatsStatement) (*StatementResult, error) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	all := []*ResultSeries{statsSeries("runtime", nil, []statsValue{
		{"Alloc", int64(ms.Alloc)}, {"Frees", int64(ms.Frees)}, {"HeapAlloc", int64(ms.HeapAlloc)},
		{"HeapIdle", int64(ms.HeapIdle)}, {"HeapInUse", int64(ms.HeapInuse)}, {"HeapObjects", int64(ms.HeapObjects)},
		{"HeapReleased", int64(ms.HeapReleased)}, {"HeapSys", int64(ms.HeapSys)}, {"Lookups", int64(ms.Lookups)},
		{"Mallocs", int64(ms.Mallocs)}, {"NumGC", int64(ms.NumGC)}, {"NumGoroutine", int64(runtime.NumGoroutine())},
		{"PauseTotalNs", int64(ms.PauseTotalNs)}, {"Sys", int64(ms.Sys)}, {"TotalAlloc", int64(ms.TotalAlloc)},
	})}
	active, started := e.queries.counts()
	all = append(all, statsSeries("queryExecutor", nil, []statsValue{
		{"queriesActive", int64(active)}, {"queriesExecuted", int64(started)}, {"queriesFinished", int64(started) - int64(active)},
	}))
	for _, db := range e.store.Databases() {
		bs, err := e.buckets(db)
		if err != nil {
			continue // dropped meanwhile
		}
		var measurements, series int64
		for _, b := range bs {
			names, err := e.store.Measurements(b)
			if err != nil {
				continue
			}
			measurements += int64(len(names))
			for _, m := range names {
				if ids, err := e.store.SeriesIDs(b, m, nil); err == nil {
					series += int64(ids.GetCardinality())
				}
			}
		}
		all = append(all, statsSeries("database", map[string]string{"database": db}, []statsValue{
			{"numMeasurements", measurements}, {"numSeries", series},
		}))
	}
	return moduleResult(all, s.Module), nil
}

func (e *Executor) showDiagnostics(s *influxql.ShowDiagnosticsStatement) (*StatementResult, error) {
	version, commit := "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, kv := range bi.Settings {
			if kv.Key == "vcs.revision" {
				commit = kv.Value
			}
		}
	}
	host, _ := os.Hostname()
	now := time.Now().UTC()
	all := []*ResultSeries{
		statsSeries("build", nil, []statsValue{{"Commit", commit}, {"Version", version}}),
		statsSeries("network", nil, []statsValue{{"hostname", host}}),
		statsSeries("runtime", nil, []statsValue{
			{"GOARCH", runtime.GOARCH}, {"GOMAXPROCS", int64(runtime.GOMAXPROCS(0))}, {"GOOS", runtime.GOOS}, {"version", runtime.Version()},
		}),
		statsSeries("system", nil, []statsValue{
			{"PID", int64(os.Getpid())}, {"currentTime", now.Format(time.RFC3339Nano)},
			{"started", e.started.UTC().Format(time.RFC3339Nano)}, {"uptime", now.Sub(e.started).Truncate(time.Second).String()},
		}),
	}
	return moduleResult(all, s.Module), nil
}

type statsValue struct {
	name string
	v    any
}

func statsSeries(module string, tags map[string]string, vals []statsValue) *ResultSeries {
	ser := &ResultSeries{Name: module, Tags: tags, NoTime: true, Rows: []Row{{Values: make([]any, len(vals))}}}
	for i, v := range vals {
		ser.Columns = append(ser.Columns, v.name)
		ser.Rows[0].Values[i] = v.v
	}
	return ser
}

// moduleResult keeps the series of module ("" for all).
func moduleResult(all []*ResultSeries, module string) *StatementResult {
	res := &StatementResult{}
	for _, s := range all {
		if module == "" || s.Name == module {
			res.Series = append(res.Series, s)
		}
	}
	return res
}
