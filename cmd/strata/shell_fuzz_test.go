package main

import (
	"strings"
	"testing"
)

// FuzzShellContinues feeds arbitrary input to the shell's statement-continuation
// scanner: no panic; text without quotes, parentheses or backslashes never
// continues; trailing blanks never change the answer.
func FuzzShellContinues(f *testing.F) {
	for _, s := range []string{"SELECT mean(v", "SELECT 'a\\'", `SELECT "x`, "SHOW DATABASES \\", "))((", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := continues(s)
		if !strings.ContainsAny(s, `'"()\`) && got {
			t.Fatalf("%q continues without an open quote, parenthesis or backslash", s)
		}
		if continues(s+" \t") != got {
			t.Fatalf("%q: trailing blanks change whether it continues", s)
		}
	})
}
