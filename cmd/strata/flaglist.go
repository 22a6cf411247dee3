package main

import "strings"

// splitList reads a comma-separated flag value (--kafka-topics a,b,
// --csv-tags host,region): its items trimmed, empty ones dropped.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
