package resultcache

import (
	"fmt"
	"testing"
)

// TestAdmit: a key is admitted from its second offer with an overlapping
// range, or at once when it has an entry; past maxSeen keys the doorkeeper
// starts afresh.
func TestAdmit(t *testing.T) {
	c := New(NewGenerations(), 1<<20)
	for _, tc := range []struct {
		key    string
		lo, hi int64
		want   bool
	}{
		{"a", 10, 20, false},
		{"a", 20, 30, true}, // overlaps at 20
		{"b", 10, 20, false},
		{"b", 21, 30, false}, // disjoint: remembered anew
		{"b", 5, 21, true},
		{"a", 0, 100, true},
	} {
		if got := c.Admit(tc.key, tc.lo, tc.hi); got != tc.want {
			t.Fatalf("Admit(%q, %d, %d) = %v, want %v", tc.key, tc.lo, tc.hi, got, tc.want)
		}
	}
	if s := c.Stats(); s.Unadmitted != 3 {
		t.Fatalf("Unadmitted = %d, want 3", s.Unadmitted)
	}

	c.Store("stored", []Window{{Start: 0, Value: []byte{1}}})
	if !c.Admit("stored", 1000, 2000) {
		t.Fatal("a key with an entry is not admitted")
	}

	for i := 0; i < maxSeen; i++ {
		c.Admit(fmt.Sprint("filler", i), 0, 0)
	}
	if c.Admit("a", 10, 20) {
		t.Fatal("a key offered before the doorkeeper started afresh is admitted at once")
	}
	if !c.Admit("a", 10, 20) || !c.Admit("stored", 0, 0) {
		t.Fatal("keys are not admitted after starting afresh")
	}
}
