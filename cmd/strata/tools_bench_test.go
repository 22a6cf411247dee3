package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-db/strata/bench"
)

// TestToolsTSBS measures the tools on the TSBS cpu-only day (100 hosts, 24 h at
// 10 s: 864,000 lines), behind STRATA_TOOLS_BENCH=1 (about a minute):
//
//	STRATA_TOOLS_BENCH=1 go test ./cmd/strata -run TestToolsTSBS -v
//
// It reports strata import's lines/s next to strata bench's raw loader on the
// same data (a ratio from one run: the machine is shared), then the time and
// size of a backup of the loaded server, the export's lines/s, and checks that
// the export re-imports to the same bytes.
func TestToolsTSBS(t *testing.T) {
	if os.Getenv("STRATA_TOOLS_BENCH") != "1" {
		t.Skip("set STRATA_TOOLS_BENCH=1 to measure import, export and backup on the TSBS day")
	}
	dir := t.TempDir()
	gen := bench.DefaultGenConfig()
	d, err := bench.Generate(gen)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "tsbs.lp")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range d.Bodies {
		f.Write(b)
	}
	f.Close()

	// The raw loader: pre-built bodies, 4 writers.
	sRaw, baseRaw := startTestServer(t, testConfig(filepath.Join(dir, "raw")))
	runQuery(t, baseRaw, "CREATE DATABASE benchmark")
	res, err := bench.Load(context.Background(), bench.LoadConfig{URL: baseRaw, DB: "benchmark", Workers: 4}, d)
	if err != nil || res.Failed > 0 {
		t.Fatalf("raw load: %v %+v", err, res)
	}
	rawRate := float64(res.LinesAccepted) / res.Elapsed.Seconds()
	sRaw.shutdown(30 * time.Second)

	// strata import of the same lines from a file, 4 writers.
	s, base := startTestServer(t, testConfig(filepath.Join(dir, "data")))
	defer s.shutdown(30 * time.Second)
	runQuery(t, base, "CREATE DATABASE benchmark")
	start := time.Now()
	code, stdout, stderr := runCmd(t, "import", "--url", base, "--db", "benchmark", "--quiet", "--writers", "4",
		"--state", filepath.Join(dir, "state"), "--rejects", filepath.Join(dir, "rej"), file)
	if code != 0 {
		t.Fatalf("import: %d %s %s", code, stdout, stderr)
	}
	importRate := float64(d.Lines) / time.Since(start).Seconds()
	t.Logf("import: %s", stdout)
	t.Logf("import %.0f lines/s, raw loader %.0f lines/s: import/raw = %.2f", importRate, rawRate, importRate/rawRate)

	start = time.Now()
	code, stdout, stderr = runCmd(t, "backup", "--url", base, "--quiet", filepath.Join(dir, "backup"))
	if code != 0 {
		t.Fatalf("backup: %d %s", code, stderr)
	}
	t.Logf("backup of the unflushed server (%v): %s", time.Since(start).Round(time.Millisecond), stdout)
	if err := s.eng.Flush(); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	code, stdout, stderr = runCmd(t, "backup", "--url", base, "--quiet", filepath.Join(dir, "backup2"))
	if code != 0 {
		t.Fatalf("backup: %d %s", code, stderr)
	}
	t.Logf("backup after a flush (%v): %s", time.Since(start).Round(time.Millisecond), stdout)

	start = time.Now()
	exported := filepath.Join(dir, "export.lp")
	if code, _, stderr := runCmd(t, "export", "--url", base, "--db", "benchmark", "--out", exported); code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	t.Logf("export %.0f lines/s", float64(d.Lines)/time.Since(start).Seconds())

	// Round trip at scale: the export, imported into a fresh server, exports the
	// same bytes.
	s2, base2 := startTestServer(t, testConfig(filepath.Join(dir, "again")))
	defer s2.shutdown(30 * time.Second)
	runQuery(t, base2, "CREATE DATABASE benchmark")
	if code, _, stderr := runCmd(t, "import", "--url", base2, "--db", "benchmark", "--quiet", "--state", filepath.Join(dir, "state2"), exported); code != 0 {
		t.Fatalf("reimport: %s", stderr)
	}
	again := filepath.Join(dir, "again.lp")
	if code, _, stderr := runCmd(t, "export", "--url", base2, "--db", "benchmark", "--out", again); code != 0 {
		t.Fatalf("export again: %s", stderr)
	}
	a, _ := os.ReadFile(exported)
	b, _ := os.ReadFile(again)
	if string(a) != string(b) || len(a) == 0 {
		t.Fatalf("export -> import -> export differs (%d vs %d bytes)", len(a), len(b))
	}
}
