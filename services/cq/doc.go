// Package cq runs InfluxQL continuous queries: the definitions (stored by the
// storage engine, kind 0x0b in docs/format/keys.md), the 1.x schedule
// (schedule.go), and Strata's addition, dirty marks (tracker.go): a write,
// overwrite, DELETE or DROP SERIES that lands in a window a continuous query
// already computed marks exactly that (query, series group, window) for
// recomputation, durably with the write (storage's touch notifications,
// storage/touch.go). docs/rollups.md is the user's guide.
//
// The Service implements query.ContinuousQueries (the DDL the executor checks)
// and services.Service (the loop the server's services.Group starts and
// stops). Runs go through query.Executor.RunContinuousQuery, the engine's
// SELECT ... INTO, so any SELECT the engine runs rolls up, sketches included.
//
// It also implements query.Rollups (realtime.go): what each query has not
// computed yet, so that a SELECT on a rollup answers those windows from raw
// data (query/rollup.go).
//
// In a node set (SetCluster, cluster.go) one node, the runner Kafka's group
// assignment picks, runs every query over all the data (the fanned-out
// SELECT) and publishes the points through a query.PointSink; the others
// only mark their late data, which the runner takes before each pass.
//
// Where to add things: a new schedule rule in schedule.go (pure, table-tested),
// what a change marks in tracker.go, how a mark is recomputed in run.go.
package cq
