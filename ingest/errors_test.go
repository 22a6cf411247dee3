package ingest

import (
	"strings"
	"testing"
)

func TestBoundedErrorTexts(t *testing.T) {
	long := strings.Repeat("a", 300)
	for _, tc := range []struct {
		name, raw string
		line      int
		reason    string
		want      string
	}{
		{"short line quoted whole, as 1.x", "  m v=", 3, "missing field value", "unable to parse 'm v=': missing field value"},
		{"long line cut with its number", long, 7, "missing fields",
			"unable to parse '" + long[:maxQuotedLine] + "...' (line 7, 300 bytes): missing fields"},
		{"cut on a rune boundary", strings.Repeat("a", maxQuotedLine-1) + "é" + long, 1, "x",
			"unable to parse '" + strings.Repeat("a", maxQuotedLine-1) + "...' (line 1, 557 bytes): x"},
		{"long reason cut", "m v=1", 1, long, "unable to parse 'm v=1': " + long[:maxQuotedReason] + "..."},
	} {
		if got := unableToParse(tc.raw, tc.line, tc.reason); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
	h := headerError(strings.Repeat("line one\n", 1000))
	if len(h) != maxHeaderError+3 || strings.Contains(h, "\n") {
		t.Errorf("header: %d bytes", len(h))
	}
}
