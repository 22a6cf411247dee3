package services

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// loop is a Service that records when it starts and stops.
func loop(name string, events *[]string, mu *sync.Mutex, fail error) Service {
	return Func{ServiceName: name, Loop: func(ctx context.Context) error {
		mu.Lock()
		*events = append(*events, "start "+name)
		mu.Unlock()
		<-ctx.Done()
		mu.Lock()
		*events = append(*events, "stop "+name)
		mu.Unlock()
		if fail != nil {
			return fail
		}
		return ctx.Err()
	}}
}

func TestGroupStopsInReverseOrder(t *testing.T) {
	var mu sync.Mutex
	var events []string
	g := NewGroup(quiet(), nil)
	for _, name := range []string{"a", "b", "c"} {
		if err := g.Start(loop(name, &events, &mu, nil)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(events) == 3 })
	if err := g.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	got := strings.Join(events[3:], ",")
	if got != "stop c,stop b,stop a" {
		t.Fatalf("stop order %q, want c, b, a", got)
	}
	if err := g.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestGroupReportsFailures(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := NewGroup(quiet(), reg)
	var mu sync.Mutex
	var events []string
	boom := errors.New("boom")
	if err := g.Start(loop("bad", &events, &mu, boom)); err != nil {
		t.Fatal(err)
	}
	if err := g.Start(loop("bad", &events, &mu, nil)); err == nil {
		t.Fatal("a second service of the same name started")
	}
	err := g.Stop()
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "service bad") {
		t.Fatalf("Stop = %v, want the service's error named", err)
	}
	if n := testutil.ToFloat64(g.failed.WithLabelValues("bad")); n != 1 {
		t.Fatalf("failures = %v, want 1", n)
	}
	if n := testutil.ToFloat64(g.running.WithLabelValues("bad")); n != 0 {
		t.Fatalf("running = %v after stop, want 0", n)
	}
	if err := g.Start(loop("late", &events, &mu, nil)); err == nil {
		t.Fatal("Start after Stop succeeded")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
