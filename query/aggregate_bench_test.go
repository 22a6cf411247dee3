package query

import (
	"fmt"
	"math/rand"
	"testing"
	"time"
)

// BenchmarkAggregateTSBS is TSBS's cpu table for 100 hosts over twelve hours
// at 10s, one flush per hour, aggregated over all hosts in one group (where
// only splitting a group's series could use more cores; see aggregate.go) and
// by host (100 groups in parallel).
func BenchmarkAggregateTSBS(b *testing.B) {
	env := newSelEnv(b, Limits{})
	rng := rand.New(rand.NewSource(1))
	sec := int64(time.Second)
	for hour := int64(0); hour < 12; hour++ {
		var pts []selPt
		for h := 0; h < 100; h++ {
			tags := map[string]string{"hostname": fmt.Sprintf("host_%d", h), "region": fmt.Sprintf("r%d", h%4)}
			for ts := t0 + hour*selHour; ts < t0+(hour+1)*selHour; ts += 10 * sec {
				pts = append(pts, selPt{m: "cpu", tags: tags, t: ts, fields: map[string]any{
					"usage_user": rng.Float64() * 100, "usage_system": float64(rng.Intn(100))}})
			}
		}
		env.write(b, pts...)
		if err := env.eng.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	where := fmt.Sprintf("time >= %d AND time < %d", t0, t0+12*selHour)
	// By hour, every block lies in one window and answers from its header
	// where the function allows; by 25 minutes most blocks are decoded; by
	// minute and host, 100 groups of 720 windows each.
	for _, w := range []struct {
		name, by string
		rows     int
	}{{"1h", "time(1h)", 12}, {"25m", "time(25m)", 0}, {"1m_host", "time(1m), hostname", -1}} {
		for _, call := range []string{"mean(usage_user)", "max(usage_user)", "count(usage_user)", "median(usage_user)"} {
			q := "SELECT " + call + " FROM cpu WHERE " + where + " GROUP BY " + w.by
			b.Run(w.name+"/"+call, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if ss := env.mustRun(b, q); w.rows >= 0 && (len(ss) != 1 || (w.rows > 0 && len(ss[0].Rows) != w.rows)) {
						b.Fatalf("%s: %v", q, ss)
					}
				}
			})
		}
	}
}
