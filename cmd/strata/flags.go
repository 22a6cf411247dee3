// Helpers every subcommand uses for its flags.

package main

import (
	"errors"
	"flag"
	"strings"
)

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

// parseFlags parses a subcommand's flags. ok is false when the command should
// stop with status: 0 after -h (the usage is printed), 2 on a bad flag (fs
// has reported it).
func parseFlags(fs *flag.FlagSet, args []string) (status int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}
