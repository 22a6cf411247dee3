package resultcache

import (
	"fmt"
	"testing"
)

// TestAdmit: a key is admitted from its second offer, or at once when it has
// an entry; past maxSeen keys the doorkeeper starts afresh.
func TestAdmit(t *testing.T) {
	c := New(NewGenerations(), 1<<20)
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{"a", false},
		{"a", true},
		{"b", false},
		{"a", true},
		{"b", true},
	} {
		if got := c.Admit(tc.key); got != tc.want {
			t.Fatalf("Admit(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
	if s := c.Stats(); s.Unadmitted != 2 {
		t.Fatalf("Unadmitted = %d, want 2", s.Unadmitted)
	}

	c.Store("stored", []Window{{Start: 0, Value: []byte{1}}})
	if !c.Admit("stored") {
		t.Fatal("a key with an entry is not admitted")
	}

	for i := 0; i < maxSeen; i++ {
		c.Admit(fmt.Sprint("filler", i))
	}
	if c.Admit("a") {
		t.Fatal("a key offered before the doorkeeper started afresh is admitted at once")
	}
	if !c.Admit("a") || !c.Admit("stored") {
		t.Fatal("keys are not admitted after starting afresh")
	}
}
