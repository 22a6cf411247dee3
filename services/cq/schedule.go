package cq

import "time"

// schedule is when a continuous query runs and what it computes, as InfluxDB
// 1.x's continuous querier decides it (services/continuous_querier in 1.x):
// a query runs every RESAMPLE EVERY (default: its GROUP BY interval), and
// each run computes the windows of the last RESAMPLE FOR (default: one
// interval, or EVERY when that is longer) that have ended by the end of the
// run's interval. GROUP BY offsets shift every boundary.
type schedule struct {
	interval, offset time.Duration // GROUP BY time(interval, offset), offset in [0, interval)
	every, forDur    time.Duration // RESAMPLE EVERY / FOR; 0: not given
}

// run is one scheduled run: the half-open range of window starts [start, end).
type run struct {
	start, end int64 // ns
}

// next decides whether a query that last ran at lastRun (hasRun false: never)
// runs at now. It returns the new last-run time (1.x moves it whenever the
// query is due, even if the range turns out empty) and the range to compute.
func (s schedule) next(now, lastRun time.Time, hasRun bool) (due bool, newLast time.Time, r run, ok bool) {
	every := s.interval
	if s.every != 0 {
		every = s.every
	}
	nextRun := now
	if hasRun {
		nextRun = lastRun.Add(every)
		if nextRun.After(now) {
			return false, lastRun, run{}, false
		}
	}
	newLast = truncate(now.Add(-s.offset), every).Add(s.offset)
	forDur := s.interval
	if s.forDur != 0 {
		forDur = s.forDur
	} else if s.interval < every {
		forDur = every
	}
	if s.interval < every {
		every = s.interval
	}
	start := truncate(nextRun.Add(s.interval-forDur-s.offset-1), s.interval).Add(s.offset)
	end := truncate(now.Add(s.interval-every-s.offset), s.interval).Add(s.offset)
	if !end.After(start) {
		return true, newLast, run{}, false
	}
	return true, newLast, run{start: start.UnixNano(), end: end.UnixNano()}, true
}

// truncate rounds t down to a multiple of d since the Unix epoch, which is
// where GROUP BY time() windows start. (1.x's time.Truncate counts from year 1;
// the two agree for every interval that divides a day, and for longer ones
// only the epoch keeps the run's range on the SELECT's window boundaries.)
func truncate(t time.Time, d time.Duration) time.Time {
	return time.Unix(0, floor(t.UnixNano(), int64(d))).UTC()
}

// floor rounds ns down to a multiple of d (d > 0), also for negative ns.
func floor(ns, d int64) int64 {
	r := ns % d
	if r < 0 {
		r += d
	}
	return ns - r
}

// windowStart is the start of the GROUP BY window holding t.
func (s schedule) windowStart(t int64) int64 {
	return floor(t-int64(s.offset), int64(s.interval)) + int64(s.offset)
}
