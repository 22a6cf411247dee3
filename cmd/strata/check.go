package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/strata-db/strata/storage"
)

// checkCommand runs `strata check` (repair false) or `strata repair` on a data
// directory no server is using. check exits 0 when everything verifies and 1 when
// anything is damaged; repair exits 0 when what it found is repaired, 1 when
// something could not be (a damaged index needs a backup).
func checkCommand(args []string, stdout, stderr io.Writer, repair bool) int {
	name := "check"
	if repair {
		name = "repair"
	}
	fs := flag.NewFlagSet("strata "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "", "the data directory of a stopped server")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dataDir == "" || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "usage: strata %s --data-dir DIR\n", name)
		return 2
	}
	run := storage.Check
	if repair {
		run = storage.Repair
	}
	probs, err := run(*dataDir)
	for _, p := range probs {
		fmt.Fprintln(stdout, p)
	}
	if err != nil {
		fmt.Fprintf(stderr, "strata %s: %v\n", name, err)
		return 1
	}
	if len(probs) == 0 {
		fmt.Fprintf(stdout, "%s: no damage found\n", *dataDir)
		return 0
	}
	unrepaired := 0
	for _, p := range probs {
		if p.Dropped == "" && !strings.Contains(p.Detail, "missing segment") {
			unrepaired++
		}
	}
	if !repair {
		fmt.Fprintf(stdout, "%s: %d problems found\n", *dataDir, len(probs))
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d problems, %d not repaired\n", *dataDir, len(probs), unrepaired)
	if unrepaired > 0 {
		return 1
	}
	return 0
}
