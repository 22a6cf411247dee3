package main

import (
	"runtime"
	"testing"
	"time"
)

func TestGCFloorPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name  string
		base  int
		floor uint64
		live  uint64
		want  int
	}{
		// 1.5 MiB live: (32-1.5)/1.5 is 2033 %, but at 800 % the runtime's
		// minimum (4 MiB × 8) is already 32 MiB.
		{"small live heap: the scaled minimum caps it", 50, 32 * mib, 3 * mib / 2, 800},
		{"no live heap yet", 50, 32 * mib, 0, 800},
		{"live heap sets the goal", 50, 32 * mib, 8 * mib, 300},
		{"just under the floor with base growth", 50, 32 * mib, 22 * mib, 50},
		{"live heap past the floor", 50, 32 * mib, 40 * mib, 50},
		{"floor below the base's minimum", 200, 4 * mib, 1 * mib, 200},
		{"base above what the floor asks", 400, 32 * mib, 16 * mib, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &gcFloor{base: tc.base, floor: tc.floor}
			if got := g.percentFor(tc.live); got != tc.want {
				t.Errorf("percentFor(%d) = %d, want %d", tc.live, got, tc.want)
			}
		})
	}
}

// TestGCFloorFollowsCollections checks that the finalizer chain re-arms: the
// percent is set again after later collections, and no more once stopped.
func TestGCFloorFollowsCollections(t *testing.T) {
	calls := make(chan int, 64)
	g := &gcFloor{base: 50, floor: 32 << 20, set: func(p int) int { calls <- p; return 0 }}
	g.sample = liveHeapSample()
	g.arm()
	for i := 0; i < 3; i++ {
		deadline := time.After(10 * time.Second)
	wait:
		for {
			runtime.GC()
			select {
			case p := <-calls:
				if p < 50 {
					t.Fatalf("collection %d: percent %d below base", i, p)
				}
				break wait
			case <-deadline:
				t.Fatalf("collection %d: the floor did not adjust", i)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	g.stopped.Store(true)
	for len(calls) > 0 {
		<-calls
	}
	runtime.GC()
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	if len(calls) != 0 {
		t.Errorf("adjusted %d times after stop", len(calls))
	}
}
