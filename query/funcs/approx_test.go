package funcs

import (
	"strings"
	"testing"
)

// TestIsApprox: IsApprox names exactly the functions NewApprox builds, so
// the planner's tag check and the constructors cannot drift apart.
func TestIsApprox(t *testing.T) {
	for _, name := range Names() {
		_, err := NewApprox(name, nil)
		builds := err == nil || !strings.HasPrefix(err.Error(), "undefined function")
		if builds != IsApprox(name) {
			t.Errorf("%s: NewApprox builds it %v, IsApprox %v", name, builds, IsApprox(name))
		}
	}
}
