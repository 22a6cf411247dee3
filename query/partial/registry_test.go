package partial

import (
	"errors"
	"strings"
	"testing"

	"github.com/strata-db/strata/query/funcs"
)

// TestRegistryAgrees checks the registry's Mergeable and HeaderStats flags
// against New and AddStats: the planner reads the flags to choose the
// partial-state path, so a function the flags and this package disagree on
// would either lose its fast path or reach New and fail at run time.
func TestRegistryAgrees(t *testing.T) {
	// The literal arguments after the field that make a valid call.
	args := map[string][]any{
		"percentile": {int64(50)}, "top": {int64(2)}, "bottom": {int64(2)}, "sample": {int64(2)},
		"approx_percentile": {int64(99)}, "approx_top_k": {int64(3)}, "approx_count": {"a"},
		"merge_percentile": {int64(99)}, "merge_top_k": {int64(3)}, "merge_count": {"a"},
	}
	names := append(funcs.Names(), "count_distinct")
	seen := map[Kind]bool{}
	for _, name := range names {
		f, ok := funcs.Lookup(name)
		if !ok {
			t.Fatalf("%s: listed but not found", name)
		}
		in := funcs.Float
		if strings.HasPrefix(name, "merge_") {
			in = funcs.String // stored sketches
		}
		st, err := New(name, in, args[name]...)
		if f.Kind != funcs.Aggregate && f.Kind != funcs.Selector {
			if f.Mergeable || f.HeaderStats || err == nil {
				t.Errorf("%s (%s): Mergeable %v, HeaderStats %v, New error %v", name, f.Kind, f.Mergeable, f.HeaderStats, err)
			}
			continue
		}
		if err != nil && !errors.Is(err, ErrNotMergeable) {
			t.Fatalf("%s: New: %v", name, err)
		}
		if f.Mergeable != (err == nil) {
			t.Errorf("%s: registry Mergeable %v, New error %v", name, f.Mergeable, err)
			continue
		}
		if err != nil {
			if f.HeaderStats {
				t.Errorf("%s: HeaderStats without a partial state", name)
			}
			continue
		}
		seen[st.Kind()] = true
		// A one-value block: every state that uses headers at all takes it.
		ok, err = st.AddStats(funcs.Stats{Type: uint8(in), Count: 1, MinTime: 5, MaxTime: 5,
			FMin: 1, FMax: 1, FSum: 1, FFirst: 1, FLast: 1})
		if err != nil {
			t.Fatalf("%s: AddStats: %v", name, err)
		}
		if ok != f.HeaderStats {
			t.Errorf("%s: registry HeaderStats %v, AddStats of a block %v", name, f.HeaderStats, ok)
		}
	}
	for k := range kindNames {
		if !seen[k] {
			t.Errorf("kind %s has no registry entry marked Mergeable", k)
		}
	}
	// top and bottom with tag arguments have no state: the planner checks
	// the arguments, and New must refuse them.
	if _, err := New("top", funcs.Float, "host", int64(2)); !errors.Is(err, ErrNotMergeable) {
		t.Errorf("top with a tag argument: %v, want ErrNotMergeable", err)
	}
}

// TestNewFactory checks that a factory's states are independent and empty,
// and that it refuses what New refuses.
func TestNewFactory(t *testing.T) {
	f, err := NewFactory("percentile", funcs.Integer, int64(50))
	if err != nil {
		t.Fatal(err)
	}
	a, b := f(), f()
	if err := a.AddInts([]int64{1, 2}, []int64{7, 9}); err != nil {
		t.Fatal(err)
	}
	if got := a.Final(0); len(got) != 1 || got[0].Value != int64(7) {
		t.Fatalf("percentile: %v", got)
	}
	if got := b.Final(0); got != nil {
		t.Fatalf("second state not empty: %v", got)
	}
	if _, err := NewFactory("mean", funcs.String); err == nil {
		t.Fatal("mean of strings: no error")
	}
	if _, err := NewFactory("sample", funcs.Float, int64(2)); !errors.Is(err, ErrNotMergeable) {
		t.Fatalf("sample: %v", err)
	}
}
