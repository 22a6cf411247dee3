package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const corruptBatches, corruptRows = 6, 100 // per round; each batch is one WAL record

// corruptFixture makes a data directory whose WAL holds two segments of
// corruptBatches records each (two server processes, each killed with SIGKILL
// after its writes were acknowledged).
func corruptFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for round := range 2 {
		c := startChild(t, dir)
		if round == 0 {
			if r := runQuery(t, c.base, "CREATE DATABASE df"); r.status != 200 {
				t.Fatalf("create database: %d %s", r.status, r.body)
			}
		}
		cl := &dfClient{t: t, base: c.base, rows: map[int64]bool{}, next: int64(round * corruptBatches * corruptRows)}
		for range corruptBatches {
			if st, _, body, _ := cl.write(corruptRows); st != 204 {
				t.Fatalf("write: %d %s", st, body)
			}
		}
		c.stop(t, syscall.SIGKILL)
	}
	return dir
}

// recordOffsets walks a WAL segment's frames (docs/format/wal.md).
func recordOffsets(t *testing.T, path string) []int64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	for p := int64(8); p+8 <= int64(len(data)); {
		offs = append(offs, p)
		p += 8 + int64(binary.LittleEndian.Uint32(data[p:]))
	}
	return offs
}

func segPath(dir string, id int) string {
	return filepath.Join(dir, "wal", fmt.Sprintf("%020d.wal", id))
}

func flipAt(t *testing.T, path string, off int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[off] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCorruptionTable damages one real file of a data directory per row, then runs
// `strata check`, starts a real server on it and counts what it serves over HTTP,
// and for repairable rows runs `strata repair` and checks again.
func TestCorruptionTable(t *testing.T) {
	total := int64(2 * corruptBatches * corruptRows)
	rows := []struct {
		name   string
		damage func(t *testing.T, dir string)
		check  string // what `strata check` must report
		served int64  // rows the server serves after the damage
		log    string // what the server's log must say
	}{
		{"wal_torn_tail_last_segment", func(t *testing.T, dir string) {
			offs := recordOffsets(t, segPath(dir, 2))
			if err := os.Truncate(segPath(dir, 2), offs[len(offs)-1]+20); err != nil {
				t.Fatal(err)
			}
		}, "truncated record", total - corruptRows, "truncated torn or corrupt tail"},
		{"wal_flipped_payload_last_segment", func(t *testing.T, dir string) {
			offs := recordOffsets(t, segPath(dir, 2))
			flipAt(t, segPath(dir, 2), offs[2]+40)
		}, "record checksum mismatch", total - corruptRows, "skipped damaged bytes"},
		{"wal_flipped_length_middle_segment", func(t *testing.T, dir string) {
			offs := recordOffsets(t, segPath(dir, 1))
			flipAt(t, segPath(dir, 1), offs[3]+1)
		}, "00000000000000000001.wal", total - corruptRows, "skipped damaged bytes"},
		{"wal_flipped_header_middle_segment", func(t *testing.T, dir string) {
			flipAt(t, segPath(dir, 1), 2)
		}, "segment header checksum mismatch", total, "skipped damaged bytes"},
		{"wal_flipped_version_byte_last_segment", func(t *testing.T, dir string) {
			flipAt(t, segPath(dir, 2), 4)
		}, "segment header checksum mismatch", total, "skipped damaged bytes"},
		{"wal_missing_middle_segment", func(t *testing.T, dir string) {
			// Segment 1 holds the series definitions too, so removing it loses
			// them: segment 2's points replay into unknown series.
			if err := os.Remove(segPath(dir, 1)); err != nil {
				t.Fatal(err)
			}
		}, "missing segment", 0, "values of series whose definition was lost"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			dir := corruptFixture(t)
			var out, errb bytes.Buffer
			if code := run([]string{"check", "--data-dir", dir}, &out, &errb); code != 0 {
				t.Fatalf("check of the undamaged fixture: exit %d\n%s%s", code, out.String(), errb.String())
			}
			row.damage(t, dir)
			out.Reset()
			if code := run([]string{"check", "--data-dir", dir}, &out, &errb); code != 1 || !strings.Contains(out.String(), row.check) {
				t.Fatalf("check after damage: exit %d, want 1 and %q\n%s%s", code, row.check, out.String(), errb.String())
			}
			t.Logf("check: %s", strings.TrimSpace(out.String()))

			c := startChild(t, dir)
			cl := &dfClient{t: t, base: c.base}
			if n := cl.count(); n != row.served {
				t.Errorf("server serves %d rows, want %d\n%s", n, row.served, c.log())
			}
			if !strings.Contains(c.log(), row.log) {
				t.Errorf("server log lacks %q\n%s", row.log, c.log())
			}
			if m := do(t, "GET", c.base+"/metrics", nil, nil); !strings.Contains(m.body, "strata_wal_corruptions_total 1") {
				t.Errorf("metrics do not count the damage: %s", grepLines(m.body, "strata_wal_corruptions_total"))
			}
			if err := c.stop(t, syscall.SIGTERM); err != nil {
				t.Fatalf("graceful stop: %v\n%s", err, c.log())
			}
			// The stop flushed the head: the damaged segments are gone, the
			// directory checks clean.
			out.Reset()
			if code := run([]string{"check", "--data-dir", dir}, &out, &errb); code != 0 {
				t.Errorf("check after a restart flushed the damage away: exit %d\n%s", code, out.String())
			}
		})
	}
}

// TestRepairWAL damages a WAL segment, repairs it offline and checks that the
// repaired directory checks clean, says what it dropped, and serves the rest.
func TestRepairWAL(t *testing.T) {
	dir := corruptFixture(t)
	offs := recordOffsets(t, segPath(dir, 2))
	flipAt(t, segPath(dir, 2), offs[1]+30)
	var out, errb bytes.Buffer
	if code := run([]string{"repair", "--data-dir", dir}, &out, &errb); code != 0 || !strings.Contains(out.String(), "dropped, copy in") {
		t.Fatalf("repair: exit %d\n%s%s", code, out.String(), errb.String())
	}
	t.Logf("repair: %s", strings.TrimSpace(out.String()))
	out.Reset()
	if code := run([]string{"check", "--data-dir", dir}, &out, &errb); code != 0 {
		t.Fatalf("check after repair: exit %d\n%s", code, out.String())
	}
	c := startChild(t, dir)
	defer c.stop(t, syscall.SIGTERM)
	cl := &dfClient{t: t, base: c.base}
	if n, want := cl.count(), int64(2*corruptBatches*corruptRows-corruptRows); n != want {
		t.Errorf("after repair the server serves %d rows, want %d", n, want)
	}
}

// TestCheckIndexDamage flips a byte in an sstable and in the MANIFEST of a
// flushed directory: check reports it with the file, exit 1.
func TestCheckIndexDamage(t *testing.T) {
	for _, kind := range []string{"sst", "MANIFEST"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			c := startChild(t, dir)
			runQuery(t, c.base, "CREATE DATABASE df")
			cl := &dfClient{t: t, base: c.base, rows: map[int64]bool{}}
			for range 3 {
				cl.write(corruptRows)
			}
			if err := c.stop(t, syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			ents, _ := os.ReadDir(filepath.Join(dir, "index"))
			var target string
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".sst") && kind == "sst" || strings.HasPrefix(e.Name(), "MANIFEST") && kind == "MANIFEST" {
					target = filepath.Join(dir, "index", e.Name())
				}
			}
			if target == "" {
				t.Fatalf("no %s file in %v", kind, ents)
			}
			fi, _ := os.Stat(target)
			flipAt(t, target, fi.Size()/3)
			var out, errb bytes.Buffer
			code := run([]string{"check", "--data-dir", dir}, &out, &errb)
			t.Logf("check: exit %d %s%s", code, strings.TrimSpace(out.String()), errb.String())
			if code != 1 || !strings.Contains(out.String(), filepath.Join(dir, "index")) {
				t.Fatalf("check of a damaged %s: exit %d\n%s%s", kind, code, out.String(), errb.String())
			}
			if kind != "sst" {
				return
			}
			// This directory's only table holds the catalog, so nothing is
			// intact: the server must refuse to start with the damaged table
			// named, and never panic.
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "STRATA_TEST_MAIN="+strings.Join([]string{"serve", "--data-dir", dir, "--http-addr", "127.0.0.1:0"}, "\x1f"))
			out2, err := cmd.CombinedOutput()
			t.Logf("serve on the damaged index: %v: %.300s", err, out2)
			if err == nil || !strings.Contains(string(out2), "checksum mismatch") || strings.Contains(string(out2), "panic:") {
				t.Errorf("serve on a damaged index: %v\n%s", err, out2)
			}
		})
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
