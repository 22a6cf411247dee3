package influxql

import (
	"errors"
	"math"
	"strconv"
	"time"
)

// ErrInvalidDuration is returned for a duration literal that has no digits, an
// unknown unit or that overflows int64 nanoseconds.
var ErrInvalidDuration = errors.New("invalid duration")

// Units of a duration literal. A day is always 24h and a week 7d: InfluxQL
// durations are fixed lengths, not calendar intervals.
const (
	day  = 24 * time.Hour
	week = 7 * day
)

// ParseDuration parses an InfluxQL duration literal: one or more
// <digits><unit> groups with unit ns, u or µ, ms, s, m, h, d or w, e.g.
// "1h30m". Fractions are not allowed.
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, ErrInvalidDuration
	}
	var total int64
	for i := 0; i < len(s); {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return 0, ErrInvalidDuration
		}
		n, err := strconv.ParseInt(s[start:i], 10, 64)
		if err != nil {
			return 0, ErrInvalidDuration
		}
		ustart := i
		for i < len(s) && (s[i] < '0' || s[i] > '9') {
			i++
		}
		var unit int64
		switch s[ustart:i] {
		case "ns":
			unit = 1
		case "u", "µ":
			unit = int64(time.Microsecond)
		case "ms":
			unit = int64(time.Millisecond)
		case "s":
			unit = int64(time.Second)
		case "m":
			unit = int64(time.Minute)
		case "h":
			unit = int64(time.Hour)
		case "d":
			unit = int64(day)
		case "w":
			unit = int64(week)
		default:
			return 0, ErrInvalidDuration
		}
		if n > math.MaxInt64/unit {
			return 0, ErrInvalidDuration
		}
		n *= unit
		if total > math.MaxInt64-n {
			return 0, ErrInvalidDuration
		}
		total += n
	}
	return time.Duration(total), nil
}

// FormatDuration prints d with the largest unit that divides it exactly, the
// canonical form InfluxQL uses (90m, not 1h30m; 0s for zero).
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	units := [...]struct {
		size time.Duration
		name string
	}{
		{week, "w"}, {day, "d"}, {time.Hour, "h"}, {time.Minute, "m"},
		{time.Second, "s"}, {time.Millisecond, "ms"}, {time.Microsecond, "u"},
	}
	for _, u := range units {
		if d%u.size == 0 {
			return strconv.FormatInt(int64(d/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}
