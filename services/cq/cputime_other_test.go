//go:build !unix

package cq

import "time"

// cpuTime falls back to the wall clock where getrusage is missing: the
// values/cpu-s figure is then the wall-clock one.
func cpuTime() time.Duration { return time.Duration(time.Now().UnixNano()) }
