package cq

import (
	"testing"
	"time"
)

// TestSchedule checks 1.x's run times and ranges: each interval, offsets,
// RESAMPLE EVERY and FOR, and a first run. Times are minutes past 10:00.
func TestSchedule(t *testing.T) {
	base := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	at := func(min, sec int) time.Time {
		return base.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second)
	}
	m := func(min int) int64 { return at(min, 0).UnixNano() }
	tests := []struct {
		name      string
		s         schedule
		now, last time.Time
		hasRun    bool
		due, ok   bool
		newLast   time.Time
		r         run
	}{
		{name: "a first run only starts the clock, as in 1.x", s: schedule{interval: 10 * time.Minute},
			now: at(30, 1), due: true, ok: false, newLast: at(30, 0)},
		{name: "not due before one interval", s: schedule{interval: 10 * time.Minute},
			now: at(39, 59), last: at(30, 0), hasRun: true, due: false, newLast: at(30, 0)},
		{name: "due at the interval", s: schedule{interval: 10 * time.Minute},
			now: at(40, 0), last: at(30, 0), hasRun: true, due: true, ok: true, newLast: at(40, 0), r: run{m(30), m(40)}},
		{name: "a late tick still computes the missed window", s: schedule{interval: 10 * time.Minute},
			now: at(55, 0), last: at(30, 0), hasRun: true, due: true, ok: true, newLast: at(50, 0), r: run{m(30), m(50)}},
		{name: "offset shifts the windows", s: schedule{interval: 10 * time.Minute, offset: 3 * time.Minute},
			now: at(43, 0), last: at(33, 0), hasRun: true, due: true, ok: true, newLast: at(43, 0), r: run{m(33), m(43)}},
		{name: "offset: not due at the unshifted boundary", s: schedule{interval: 10 * time.Minute, offset: 3 * time.Minute},
			now: at(40, 0), last: at(33, 0), hasRun: true, due: false, newLast: at(33, 0)},
		{name: "RESAMPLE FOR covers earlier windows again", s: schedule{interval: 10 * time.Minute, forDur: 30 * time.Minute},
			now: at(40, 0), last: at(30, 0), hasRun: true, due: true, ok: true, newLast: at(40, 0), r: run{m(10), m(40)}},
		{name: "RESAMPLE EVERY shorter than the interval recomputes the current window", s: schedule{interval: 10 * time.Minute, every: 5 * time.Minute},
			now: at(35, 0), last: at(30, 0), hasRun: true, due: true, ok: true, newLast: at(35, 0), r: run{m(30), m(40)}},
		{name: "RESAMPLE EVERY: not due before it", s: schedule{interval: 10 * time.Minute, every: 5 * time.Minute},
			now: at(34, 59), last: at(30, 0), hasRun: true, due: false, newLast: at(30, 0)},
		{name: "RESAMPLE EVERY longer than the interval covers every window since", s: schedule{interval: 10 * time.Minute, every: 30 * time.Minute},
			now: at(60, 0), last: at(30, 0), hasRun: true, due: true, ok: true, newLast: at(60, 0), r: run{m(30), m(60)}},
		{name: "RESAMPLE EVERY and FOR", s: schedule{interval: 10 * time.Minute, every: 5 * time.Minute, forDur: 20 * time.Minute},
			now: at(45, 0), last: at(40, 0), hasRun: true, due: true, ok: true, newLast: at(45, 0), r: run{m(30), m(50)}},
		{name: "FOR as long as EVERY, both shorter than the interval", s: schedule{interval: 10 * time.Minute, every: 5 * time.Minute, forDur: 5 * time.Minute},
			now: at(35, 0), last: at(30, 0), hasRun: true, due: true, ok: true, newLast: at(35, 0), r: run{m(30), m(40)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due, newLast, r, ok := tt.s.next(tt.now, tt.last, tt.hasRun)
			if due != tt.due || ok != tt.ok || !newLast.Equal(tt.newLast) || r != tt.r {
				t.Fatalf("next = due %v last %v range [%v, %v) ok %v; want due %v last %v range [%v, %v) ok %v",
					due, newLast.Format("15:04:05"), fmtNS(r.start), fmtNS(r.end), ok,
					tt.due, tt.newLast.Format("15:04:05"), fmtNS(tt.r.start), fmtNS(tt.r.end), tt.ok)
			}
		})
	}
}

func fmtNS(ns int64) string {
	if ns == 0 {
		return "-"
	}
	return time.Unix(0, ns).UTC().Format("15:04:05")
}

func TestWindowStart(t *testing.T) {
	s := schedule{interval: 10 * time.Minute, offset: 3 * time.Minute}
	for _, c := range []struct{ t, want int64 }{
		{int64(13 * time.Minute), int64(13 * time.Minute)},
		{int64(12 * time.Minute), int64(3 * time.Minute)},
		{int64(-1), int64(-7 * time.Minute)},
	} {
		if got := s.windowStart(c.t); got != c.want {
			t.Errorf("windowStart(%d) = %d, want %d", c.t, got, c.want)
		}
	}
}
