package services

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Service is background work with a single owner, the Group that runs it.
type Service interface {
	// Name identifies the service in logs and metrics; unique within a Group.
	Name() string
	// Run does the work until ctx ends, then returns. A nil or context error
	// after ctx ends is a clean stop; any other error is logged and counted as
	// a failure, and the service is not restarted: a failed loop needs a fix,
	// not a tight retry.
	Run(ctx context.Context) error
}

// Func adapts a function to a Service.
type Func struct {
	ServiceName string
	Loop        func(ctx context.Context) error
}

// Name implements Service.
func (f Func) Name() string { return f.ServiceName }

// Run implements Service.
func (f Func) Run(ctx context.Context) error { return f.Loop(ctx) }

// Group starts services and stops them in reverse order of their start.
// Its zero value is not usable: build one with NewGroup.
type Group struct {
	log     *slog.Logger
	running *prometheus.GaugeVec
	failed  *prometheus.CounterVec

	mu      sync.Mutex // guards the fields below
	started []*running
	stopped bool
}

type running struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{}
	err    error // set before done is closed
}

// NewGroup returns an empty Group that logs to log and registers its metrics
// (strata_service_running, strata_service_failures_total) with reg, if not nil.
func NewGroup(log *slog.Logger, reg prometheus.Registerer) *Group {
	g := &Group{
		log: log,
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "strata_service_running",
			Help: "1 while the background service is running.",
		}, []string{"service"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_service_failures_total",
			Help: "Background services that stopped with an error.",
		}, []string{"service"}),
	}
	if reg != nil {
		reg.MustRegister(g.running, g.failed)
	}
	return g
}

// Start runs s in its own goroutine until Stop. It fails if the group is
// stopped or a service of that name was started.
func (g *Group) Start(s Service) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return fmt.Errorf("service %s: the group is stopped", s.Name())
	}
	if slices.ContainsFunc(g.started, func(r *running) bool { return r.name == s.Name() }) {
		return fmt.Errorf("service %s: already started", s.Name())
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{name: s.Name(), cancel: cancel, done: make(chan struct{})}
	g.started = append(g.started, r)
	g.running.WithLabelValues(r.name).Set(1)
	go func() {
		defer close(r.done)
		start := time.Now()
		err := s.Run(ctx)
		g.running.WithLabelValues(r.name).Set(0)
		if err != nil && !(ctx.Err() != nil && errors.Is(err, context.Canceled)) {
			r.err = err
			g.failed.WithLabelValues(r.name).Inc()
			g.log.Error("service stopped with an error", "service", r.name, "after", time.Since(start), "err", err)
			return
		}
		if ctx.Err() == nil {
			g.log.Warn("service returned before it was stopped", "service", r.name)
		}
	}()
	g.log.Debug("service started", "service", r.name)
	return nil
}

// Stop stops every service, last started first, waiting for each to return
// before stopping the next, so no service outlives one it depends on. It
// returns the errors the services failed with. Stop is idempotent.
func (g *Group) Stop() error {
	g.mu.Lock()
	g.stopped = true
	started := g.started
	g.started = nil
	g.mu.Unlock()
	var errs []error
	for i := len(started) - 1; i >= 0; i-- {
		r := started[i]
		r.cancel()
		<-r.done
		if r.err != nil {
			errs = append(errs, fmt.Errorf("service %s: %w", r.name, r.err))
		}
		g.log.Debug("service stopped", "service", r.name)
	}
	return errors.Join(errs...)
}
