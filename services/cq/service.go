package cq

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-db/strata/query"
	"github.com/strata-db/strata/query/influxql"
	"github.com/strata-db/strata/storage"
)

// Options configure a Service. Zero values take the defaults per field.
type Options struct {
	// LateHorizon bounds how far back a late change is recomputed, counted
	// from now; 0: the source retention policy's duration (forever for a
	// policy that keeps data forever). It never reaches beyond that duration,
	// so retention's deletes of expired data leave rollups alone. Older changes are counted in
	// strata_cq_late_points_beyond_horizon_total and left alone.
	LateHorizon time.Duration
	// RunInterval is how often the service checks for due queries and dirty
	// windows. Default 1 s, 1.x's continuous_queries.run-interval: a query
	// runs at most that long after its window ends, and late data is folded
	// in within it.
	RunInterval time.Duration
	// Now is the clock (tests inject one). Default time.Now.
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Backoff after a failed run: the first retry soon (a full disk or a query
// over budget may clear any moment), doubling to at most five minutes so a
// query that cannot run costs one attempt per five minutes, not a busy loop.
const (
	minBackoff = time.Second
	maxBackoff = 5 * time.Minute
)

// Service runs the continuous queries of one server. It is a
// storage.TouchObserver (pass it in storage.Options.Observers, so it sees the
// WAL replay), a query.ContinuousQueries (attach it with
// Executor.SetContinuousQueries) and a services.Service (start it in the
// server's services.Group once SetExecutor was called).
type Service struct {
	log         *slog.Logger
	now         func() time.Time
	horizon     time.Duration
	runInterval time.Duration
	m           *metrics

	exec    *query.Executor // set by SetExecutor before Run
	cluster Cluster         // set by SetCluster before Run; nil: one node

	ddlMu sync.Mutex // serialises CREATE and DROP

	mu         sync.Mutex // guards the fields below; never held while running a query, writing or storing
	store      *storage.Engine
	cqs        map[string]*cqState
	byBucket   map[string][]*cqState // "db\x00rp" of a source -> queries reading it
	bucketKeys map[storage.BucketID]bucketKey
	broken     map[string]storage.ContinuousQueryRecord // stored but unparsable: listed, never run
	removed    map[string][2]string                     // dropped since the last checkpoint: (db, name)
	takeSeq    uint64                                   // the last TakeMarks token (cluster.go)
	takeErr    string                                   // the last Cluster.Take failure, logged once
}

// New returns a Service with no queries; Recover (called by storage.Open)
// loads the stored ones.
func New(opts Options) *Service {
	if opts.RunInterval <= 0 {
		opts.RunInterval = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Service{
		log: opts.Logger.With("service", "continuous-queries"), now: opts.Now, horizon: opts.LateHorizon,
		runInterval: opts.RunInterval, m: newMetrics(opts.Registerer),
		cqs: map[string]*cqState{}, byBucket: map[string][]*cqState{}, bucketKeys: map[storage.BucketID]bucketKey{},
		broken: map[string]storage.ContinuousQueryRecord{}, removed: map[string][2]string{},
	}
}

// SetExecutor gives the service the engine it runs queries on.
func (s *Service) SetExecutor(e *query.Executor) { s.exec = e }

func (s *Service) addLocked(def *definition) {
	c := newState(def)
	s.cqs[def.id] = c
	for _, k := range def.reads() {
		s.byBucket[k] = append(s.byBucket[k], c)
	}
}

func (s *Service) removeLocked(id string) {
	c := s.cqs[id]
	delete(s.broken, id)
	if c == nil {
		return
	}
	delete(s.cqs, id)
	for _, k := range c.def.reads() {
		l := s.byBucket[k]
		for i := range l {
			if l[i] == c {
				s.byBucket[k] = append(l[:i:i], l[i+1:]...)
				break
			}
		}
	}
	s.removed[id] = [2]string{c.def.db, c.def.name}
	s.m.forget(c.def)
}

// The DDL methods never hold mu while they call the engine: a write holds
// the engine's commit lock when it calls Touched (which takes mu), and
// storing a definition takes the commit lock. ddlMu serialises them instead.

// CreateContinuousQuery implements query.ContinuousQueries.
func (s *Service) CreateContinuousQuery(stmt *influxql.CreateContinuousQueryStatement) error {
	def, err := newDefinition(stmt)
	if err != nil {
		return err
	}
	s.ddlMu.Lock()
	defer s.ddlMu.Unlock()
	s.mu.Lock()
	store := s.store
	old, broken := s.cqs[def.id], s.broken[def.id].Name != ""
	s.mu.Unlock()
	switch {
	case store == nil:
		return errors.New("continuous queries: service not recovered")
	case old != nil && old.def.text == def.text:
		return nil // 1.x: creating the same query again is not an error
	case old != nil || broken:
		return query.ErrContinuousQueryExists
	}
	if err := store.PutContinuousQuery(storage.ContinuousQueryRecord{Database: def.db, Name: def.name, Query: def.text}); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Old state keys of the name, if any, are deleted at Checkpoint before
	// the new query's are set, so its removal entry stays.
	s.addLocked(def)
	return nil
}

// DropContinuousQuery implements query.ContinuousQueries.
func (s *Service) DropContinuousQuery(db, name string) error {
	s.ddlMu.Lock()
	defer s.ddlMu.Unlock()
	s.mu.Lock()
	id := cqID(db, name)
	exists := s.cqs[id] != nil || s.broken[id].Name != ""
	store := s.store
	s.mu.Unlock()
	if !exists {
		return query.ErrContinuousQueryNotFound
	}
	return s.drop(store, db, name)
}

// drop removes one query durably, then from memory. The caller holds ddlMu.
func (s *Service) drop(store *storage.Engine, db, name string) error {
	if err := store.DeleteContinuousQuery(db, name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked(cqID(db, name))
	s.removed[cqID(db, name)] = [2]string{db, name}
	return nil
}

// DropDatabaseContinuousQueries implements query.ContinuousQueries.
func (s *Service) DropDatabaseContinuousQueries(db string) error {
	s.ddlMu.Lock()
	defer s.ddlMu.Unlock()
	s.mu.Lock()
	var names []string
	for _, c := range s.cqs {
		if c.def.db == db {
			names = append(names, c.def.name)
		}
	}
	for _, r := range s.broken {
		if r.Database == db {
			names = append(names, r.Name)
		}
	}
	store := s.store
	s.mu.Unlock()
	for _, name := range names {
		if err := s.drop(store, db, name); err != nil {
			return err
		}
	}
	return nil
}

// ContinuousQueryStatus implements query.ContinuousQueries.
func (s *Service) ContinuousQueryStatus() []query.ContinuousQueryInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]query.ContinuousQueryInfo, 0, len(s.cqs)+len(s.broken))
	for _, c := range s.cqs {
		out = append(out, query.ContinuousQueryInfo{Database: c.def.db, Name: c.def.name, Query: c.def.text, Err: c.lastErr, RetryAt: c.retryAt})
	}
	for _, r := range s.broken {
		out = append(out, query.ContinuousQueryInfo{Database: r.Database, Name: r.Name, Query: r.Query, Err: "cannot be parsed by this build"})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Database != out[j].Database {
			return out[i].Database < out[j].Database
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Run implements services.Service: it checks for due queries and dirty
// windows every RunInterval until ctx ends. A run in progress finishes its
// current window first; what it did not reach stays marked.
func (s *Service) Run(ctx context.Context) error {
	if s.exec == nil || s.store == nil {
		return errors.New("continuous queries: the service needs storage (Recover) and an executor (SetExecutor)")
	}
	t := time.NewTicker(s.runInterval)
	defer t.Stop()
	for {
		s.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// job is the work taken from one query's marks in one pass.
type job struct {
	c     *cqState
	marks map[string]spans
}

// RunOnce schedules the queries due at the clock's now and recomputes every
// dirty window of the queries not backing off. Tests call it with an
// injected clock instead of waiting for the ticker.
//
// In a node set (SetCluster) only the runner runs; it takes the other nodes'
// marks after scheduling and releases them once every query with marks ran
// (cluster.go).
func (s *Service) RunOnce(ctx context.Context) {
	if s.cluster != nil && !s.cluster.Runner() {
		s.m.runner.Set(0)
		return // the runner takes this node's marks
	}
	now := s.now()
	s.mu.Lock()
	for _, c := range s.cqs {
		if !now.Before(c.retryAt) {
			s.scheduleLocked(c, now)
		}
	}
	s.mu.Unlock()
	var tokens map[string]uint64
	if s.cluster != nil {
		s.m.runner.Set(1)
		var err error
		if tokens, err = s.takePeers(ctx); err != nil {
			// Nothing is computed without every node's marks (the fanned-out
			// SELECT would fail too); the scheduled marks wait here.
			s.m.takeErrors.Inc()
			if s.takeErr != err.Error() {
				s.log.Warn("continuous queries wait: a node did not hand over its marks", "err", err)
			}
			s.takeErr = err.Error()
			return
		}
		s.takeErr = ""
	}
	s.mu.Lock()
	var due []*cqState
	allRun := true // every query with marks runs (for Cluster.Release)
	for _, c := range s.cqs {
		if len(c.dirty) == 0 {
			continue
		}
		if now.Before(c.retryAt) {
			allRun = false
			continue
		}
		due = append(due, c)
	}
	s.mu.Unlock()
	// Finer intervals first: in downsampling tiers (1 h over 1 min) the
	// minute a pass writes is then in place before the hour above reads it.
	sort.Slice(due, func(i, j int) bool {
		a, b := due[i].def, due[j].def
		if a.sched.interval != b.sched.interval {
			return a.sched.interval < b.sched.interval
		}
		return a.id < b.id
	})
	for _, c := range due {
		// A query's marks are taken just before it runs: until then a change
		// its pending scheduled run covers needs no mark of its own.
		s.mu.Lock()
		if s.cqs[c.def.id] != c {
			s.mu.Unlock()
			continue // dropped meanwhile
		}
		j := job{c: c, marks: c.dirty}
		for g, sp := range c.dirty {
			for _, x := range sp {
				c.inflight[g] = c.inflight[g].add(x)
			}
		}
		c.dirty = map[string]spans{}
		s.mu.Unlock()
		if ctx.Err() != nil {
			s.giveBack(j, nil, now)
			allRun = false
			continue
		}
		if !s.runJob(ctx, j, now) {
			allRun = false
		}
	}
	if allRun && len(tokens) > 0 {
		s.cluster.Release(ctx, tokens)
	}
	s.updateLag(now)
}

// scheduleLocked applies 1.x's schedule to c, marking a due run's windows for
// every group. Beyond 1.x: when the service was down or a query fell behind,
// the run starts at the watermark, so no window is skipped (bounded by the
// late horizon).
func (s *Service) scheduleLocked(c *cqState, now time.Time) {
	due, last, r, ok := c.def.sched.next(now, c.lastRun, c.hasRun)
	if !due {
		return
	}
	c.lastRun, c.hasRun = last, true
	if !ok {
		return
	}
	start := r.start
	if c.computed() && c.watermark < start {
		start = c.watermark
		if h := s.horizonOf(c); h > 0 {
			start = max(start, c.def.sched.windowStart(now.UnixNano()-int64(h)))
		}
	}
	if !c.computed() {
		c.since, c.watermark = start, start
	}
	c.mark("", span{start, r.end})
	c.since = min(c.since, start)
	c.watermark = max(c.watermark, r.end)
	c.progressChanged = true
}

// horizonOf is how far back c honors late data.
func (s *Service) horizonOf(c *cqState) time.Duration {
	src := c.def.stmt.Source.Sources[0].(*influxql.Measurement)
	rps, err := s.store.RetentionPolicies(src.Database)
	if err != nil {
		return s.horizon
	}
	for _, rp := range rps {
		if rp.Name == src.RetentionPolicy {
			return effectiveHorizon(s.horizon, rp.Duration)
		}
	}
	return s.horizon
}

// runJob recomputes the marks of one query; on failure what is left goes back
// to the marks and the query backs off. It tells whether every mark was run.
func (s *Service) runJob(ctx context.Context, j job, now time.Time) bool {
	start := time.Now()
	interval := int64(j.c.def.sched.interval)
	var err error
	done := map[string]spans{}
	for _, g := range sortedGroups(j.marks) {
		for _, x := range j.marks[g] {
			if err = s.recompute(ctx, j.c.def, g, x); err != nil {
				break
			}
			done[g] = done[g].add(x)
			n := float64((x.to - x.from) / interval)
			s.m.windows.Add(n)
			if g != "" {
				s.m.lateWindows.Add(n)
			}
		}
		if err != nil {
			break
		}
	}
	s.m.duration.Observe(time.Since(start).Seconds())
	s.giveBack(j, done, now)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := j.c
	if err == nil {
		s.m.runs.WithLabelValues("ok").Inc()
		if c.failures > 0 {
			s.log.Info("continuous query recovered", "db", c.def.db, "name", c.def.name, "after_failures", c.failures)
		}
		c.failures, c.lastErr, c.retryAt = 0, "", time.Time{}
		s.m.backoff.WithLabelValues(c.def.db + "." + c.def.name).Set(0)
		return true
	}
	s.m.runs.WithLabelValues("error").Inc()
	c.failures++
	wait := min(minBackoff<<min(c.failures-1, 20), maxBackoff)
	c.retryAt = now.Add(wait)
	if c.lastErr != err.Error() {
		// Logged when it starts failing or the reason changes, not per retry.
		s.log.Error("continuous query failed; its windows stay marked and it retries", "db", c.def.db, "name", c.def.name, "err", err, "retry_in", wait)
	}
	c.lastErr = err.Error()
	s.m.backoff.WithLabelValues(c.def.db + "." + c.def.name).Set(wait.Seconds())
	return false
}

// giveBack moves a job's inflight marks out: the done ones are gone, the rest
// return to the dirty marks.
func (s *Service) giveBack(j job, done map[string]spans, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := j.c
	for g, sp := range j.marks {
		for _, x := range sp {
			if !covered(done[g], x) {
				c.dirty[g] = c.dirty[g].add(x)
			}
		}
		c.changed[g] = true
	}
	c.inflight = map[string]spans{}
}

func covered(s spans, x span) bool {
	for _, y := range s {
		if y.from <= x.from && x.to <= y.to {
			return true
		}
	}
	return false
}

func sortedGroups(m map[string]spans) []string {
	out := make([]string, 0, len(m))
	for g := range m {
		out = append(out, g)
	}
	sort.Strings(out) // "" (every group) first: a late group's recomputation then follows it
	return out
}

func (s *Service) updateLag(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cqs {
		if c.computed() {
			s.m.lag.WithLabelValues(c.def.db + "." + c.def.name).Set(now.Sub(time.Unix(0, c.watermark)).Seconds())
		}
	}
}
