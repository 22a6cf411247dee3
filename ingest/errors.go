package ingest

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/strata-db/strata/ingest/lineprotocol"
)

// Error texts are bounded: a write answers at most maxReportedLineErrors lines,
// each quoting at most a prefix of the offending line, and X-Influxdb-Error
// carries a shorter version still. Quoting lines whole made 100 lines with
// 240 KB tag values a 24 MB response header that clients refuse (Go and Python
// stop at 64 KB per header line).
const (
	// maxQuotedLine is the prefix of an offending line quoted in the body: the
	// measurement and the first tags of any real line, enough to find it.
	maxQuotedLine = 256
	// maxQuotedReason bounds a parser's reason, which may quote a token (a
	// 100 KB number is a token).
	maxQuotedReason = 256
	// maxStoreErrorText bounds a storage rejection (it names a measurement and
	// a field, each up to 64 KB).
	maxStoreErrorText = 1024
	// maxHeaderError bounds X-Influxdb-Error: well under the 8-64 KB per header
	// that HTTP clients and proxies accept, and enough for the first errors.
	maxHeaderError = 2048
)

// truncate cuts s to at most n bytes on a UTF-8 boundary, marking the cut
// with "...", and reports whether it cut.
func truncate(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "...", true
}

// unableToParse is InfluxDB's "unable to parse '<line>': <reason>". A line
// longer than maxQuotedLine is quoted by its prefix, cut with "...", and
// named by its line number in the body (the prefix alone may not find it).
func unableToParse(raw string, line int, reason string) string {
	raw = strings.TrimLeft(raw, " \t") // 1.x quotes the line after its blanks
	reason, _ = truncate(reason, maxQuotedReason)
	if q, cut := truncate(raw, maxQuotedLine); cut {
		return fmt.Sprintf("unable to parse '%s' (line %d, %d bytes): %s", q, line, len(raw), reason)
	}
	return "unable to parse '" + raw + "': " + reason
}

// lineErrorText is the bounded text of a parser error.
func lineErrorText(err error) string {
	var pe *lineprotocol.ParseError
	if errors.As(err, &pe) {
		return unableToParse(pe.Text, pe.Line, pe.Reason)
	}
	s, _ := truncate(err.Error(), maxStoreErrorText)
	return s
}

// storeErrorText is the bounded text of a point the store rejected.
func storeErrorText(err error) string {
	s, _ := truncate(err.Error(), maxStoreErrorText)
	return s
}

// headerError is the one-line, bounded version of msg for X-Influxdb-Error.
func headerError(msg string) string {
	s, _ := truncate(strings.ReplaceAll(msg, "\n", " "), maxHeaderError)
	return s
}
