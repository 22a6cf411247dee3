package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countQuery returns count(v) of series w=<writer> at or before t.
func countQuery(t *testing.T, base string, writer int, upTo int64) int64 {
	t.Helper()
	r := do(t, "GET", base+"/query?db=load&q="+url.QueryEscape(fmt.Sprintf("SELECT count(v) FROM m WHERE w='%d' AND time <= %d", writer, upTo)), nil, nil)
	var body struct {
		Results []queryResult `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || len(body.Results) != 1 {
		t.Fatalf("count: %d %s", r.status, r.body)
	}
	if len(body.Results[0].Series) == 0 {
		return 0
	}
	var n int64
	fmt.Sscan(fmt.Sprint(body.Results[0].Series[0].Values[0][1]), &n)
	return n
}

// TestBackupDuringWritesRestore backs up a server under a write load (with
// flushes during it), restores the backup and checks that every write
// acknowledged before the backup began is there.
func TestBackupDuringWritesRestore(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(filepath.Join(dir, "data"))
	cfg.headMaxBytes = 64 << 10 // flush often: blocks and WAL both carry data
	s, base := startTestServer(t, cfg)
	runQuery(t, base, "CREATE DATABASE load")

	const writers = 4
	var acked [writers]atomic.Int64 // highest timestamp acknowledged per writer (+1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := int64(0); ; seq += 50 {
				select {
				case <-stop:
					return
				default:
				}
				var b strings.Builder
				for i := seq; i < seq+50; i++ {
					fmt.Fprintf(&b, "m,w=%d v=%d %d\n", w, i, i)
				}
				resp, err := http.Post(base+"/write?db=load", "text/plain", strings.NewReader(b.String()))
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 204 {
					t.Errorf("write: %d", resp.StatusCode)
					return
				}
				acked[w].Store(seq + 50)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	var before [writers]int64
	for w := range writers {
		before[w] = acked[w].Load()
	}
	backupDir := filepath.Join(dir, "backup")
	code, stdout, stderr := runCmd(t, "backup", "--url", base, "--quiet", backupDir)
	if code != 0 {
		t.Fatalf("backup: %d %s %s", code, stdout, stderr)
	}
	time.Sleep(100 * time.Millisecond) // writes go on after the backup
	close(stop)
	wg.Wait()
	if err := s.shutdown(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg.dataDir, "backup-checkpoint")); err == nil {
		t.Fatal("the server left its checkpoint behind")
	}
	var total int64
	for w := range writers {
		total += before[w]
	}
	if total < 1000 {
		t.Fatalf("only %d writes acknowledged before the backup: the load did not run", total)
	}

	restored := filepath.Join(dir, "restored")
	if code, stdout, stderr := runCmd(t, "restore", "--data-dir", restored, backupDir); code != 0 {
		t.Fatalf("restore: %d %s %s", code, stdout, stderr)
	}
	if code, stdout, stderr := runCmd(t, "check", "--data-dir", restored); code != 0 {
		t.Fatalf("check of the restored data: %d %s %s", code, stdout, stderr)
	}
	s2, base2 := startTestServer(t, testConfig(restored))
	defer s2.shutdown(5 * time.Second)
	for w := range writers {
		if got := countQuery(t, base2, w, before[w]-1); got != before[w] {
			t.Errorf("writer %d: %d of the %d points acknowledged before the backup are in the restore", w, got, before[w])
		}
	}
	t.Logf("acknowledged before backup: %v; backup: %s", before, strings.TrimSpace(stdout))

	// Restore refuses a non-empty target, a damaged file, an incomplete backup and
	// a newer format.
	if code, _, stderr := runCmd(t, "restore", "--data-dir", restored, backupDir); code != 1 || !strings.Contains(stderr, "is not empty") {
		t.Errorf("restore over data: %d %s", code, stderr)
	}
	m, _ := os.ReadFile(filepath.Join(backupDir, manifestName))
	var man backupManifest
	json.Unmarshal(m, &man)
	victim := filepath.Join(backupDir, filepath.FromSlash(man.Files[len(man.Files)-1].Path))
	orig, _ := os.ReadFile(victim)
	damaged := append([]byte(nil), orig...)
	damaged[len(damaged)/2] ^= 0xff
	os.WriteFile(victim, damaged, 0o644)
	if code, _, stderr := runCmd(t, "restore", "--data-dir", filepath.Join(dir, "r2"), backupDir); code != 1 || !strings.Contains(stderr, "is damaged") {
		t.Errorf("restore of a damaged backup: %d %s", code, stderr)
	}
	os.WriteFile(victim, orig, 0o644)
	newer := strings.Replace(string(m), `"version": 1`, `"version": 2`, 1)
	os.WriteFile(filepath.Join(backupDir, manifestName), []byte(newer), 0o644)
	if code, _, stderr := runCmd(t, "restore", "--data-dir", filepath.Join(dir, "r3"), backupDir); code != 1 || !strings.Contains(stderr, "backup format version 2 is newer than this build reads (1)") {
		t.Errorf("restore of a newer format: %d %s", code, stderr)
	}
	os.Remove(filepath.Join(backupDir, manifestName))
	if code, _, stderr := runCmd(t, "restore", "--data-dir", filepath.Join(dir, "r4"), backupDir); code != 1 || !strings.Contains(stderr, "not a complete backup") {
		t.Errorf("restore without manifest: %d %s", code, stderr)
	}
	for _, d := range []string{"r2", "r3", "r4"} {
		if _, err := os.Stat(filepath.Join(dir, d)); err == nil {
			t.Errorf("a refused restore created %s", d)
		}
	}
}

// TestBackupInterrupted cuts the stream mid-way: the backup fails, the target
// does not appear, and what was received is not restorable.
func TestBackupInterrupted(t *testing.T) {
	dir := t.TempDir()
	s, base := startTestServer(t, testConfig(filepath.Join(dir, "data")))
	defer s.shutdown(5 * time.Second)
	runQuery(t, base, "CREATE DATABASE db")
	var body strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&body, "m,h=%d v=%d %d\n", i%50, i, i)
	}
	do(t, "POST", base+"/write?db=db", []byte(body.String()), nil)
	s.eng.Flush()
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(base + r.URL.Path)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.CopyN(w, resp.Body, 3000)
		panic(http.ErrAbortHandler) // drop the connection
	}))
	defer cut.Close()
	target := filepath.Join(dir, "bk")
	code, _, stderr := runCmd(t, "backup", "--url", cut.URL, "--quiet", target)
	if code != 1 || !strings.Contains(stderr, "the incomplete copy is in") {
		t.Fatalf("cut backup: %d %s", code, stderr)
	}
	if _, err := os.Stat(target); err == nil {
		t.Fatal("an interrupted backup created its target")
	}
	if code, _, stderr := runCmd(t, "restore", "--data-dir", filepath.Join(dir, "r"), target+".partial"); code != 1 || !strings.Contains(stderr, "not a complete backup") {
		t.Fatalf("restore of the partial copy: %d %s", code, stderr)
	}
	// A backup into a directory that holds something is refused before any request.
	os.MkdirAll(filepath.Join(dir, "full"), 0o755)
	os.WriteFile(filepath.Join(dir, "full", "x"), nil, 0o644)
	if code, _, stderr := runCmd(t, "backup", "--url", base, "--quiet", filepath.Join(dir, "full")); code != 1 || !strings.Contains(stderr, "not empty") {
		t.Fatalf("backup into a full dir: %d %s", code, stderr)
	}
}

// goldenBackup is the fixture of docs/format/backup.md, version 1: a backup of
// a small database with points in blocks and points only in the WAL.
const goldenBackup = "../../testdata/backup/v1"

// TestBackupGoldenV1 decodes the version-1 fixture: its manifest, every
// checksum, a restore, and the data a server started on it answers. With
// STRATA_UPDATE_GOLDEN=1 it first writes the fixture anew.
func TestBackupGoldenV1(t *testing.T) {
	want := "cpu,host=a usage=0.5 1000000000\ncpu,host=a usage=0.75 2000000000\ncpu,host=b usage=1.5 1000000000\nmem,host=a used=42i 3000000000\n"
	if os.Getenv("STRATA_UPDATE_GOLDEN") == "1" {
		dir := t.TempDir()
		s, base := startTestServer(t, testConfig(filepath.Join(dir, "data")))
		runQuery(t, base, "CREATE DATABASE golden")
		do(t, "POST", base+"/write?db=golden", []byte("cpu,host=a usage=0.5 1000000000\ncpu,host=b usage=1.5 1000000000"), nil)
		if err := s.eng.Flush(); err != nil { // these are in blocks
			t.Fatal(err)
		}
		do(t, "POST", base+"/write?db=golden", []byte("cpu,host=a usage=0.75 2000000000\nmem,host=a used=42i 3000000000"), nil) // these only in the WAL
		os.RemoveAll(goldenBackup)
		if code, _, stderr := runCmd(t, "backup", "--url", base, "--quiet", goldenBackup); code != 0 {
			t.Fatal(stderr)
		}
		s.shutdown(5 * time.Second)
	}
	m, err := verifyBackup(goldenBackup)
	if err != nil {
		t.Fatal(err)
	}
	if m.Format != "strata-backup" || m.Version != 1 || m.KeyFormat != 1 || len(m.Files) == 0 {
		t.Fatalf("manifest: %+v", m)
	}
	var wal int
	for _, f := range m.Files {
		if strings.HasPrefix(f.Path, "wal/") {
			wal++
		}
	}
	if wal == 0 {
		t.Fatal("the fixture holds no WAL segment: it no longer covers replay")
	}
	data := filepath.Join(t.TempDir(), "data")
	if code, _, stderr := runCmd(t, "restore", "--data-dir", data, goldenBackup); code != 0 {
		t.Fatal(stderr)
	}
	s, base := startTestServer(t, testConfig(data))
	defer s.shutdown(5 * time.Second)
	if _, out, _ := runCmd(t, "export", "--url", base, "--db", "golden"); out != want {
		t.Fatalf("restored fixture:\n%s\nwant:\n%s", out, want)
	}
}

// TestBackupAccess: with auth on only admins back up, and a second backup while
// one runs gets 429 with Retry-After.
func TestBackupAccess(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(filepath.Join(dir, "data"))
	cfg.authEnabled = true
	s, base := startTestServer(t, cfg)
	defer s.shutdown(5 * time.Second)
	runQuery(t, base, "CREATE USER admin WITH PASSWORD 'pw' WITH ALL PRIVILEGES")
	do(t, "POST", base+"/query?u=admin&p=pw", []byte("q="+url.QueryEscape("CREATE USER reader WITH PASSWORD 'r'")), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if code, _, stderr := runCmd(t, "backup", "--url", base, "--quiet", filepath.Join(dir, "none")); code != 1 || !strings.Contains(stderr, "401") {
		t.Errorf("anonymous backup: %d %s", code, stderr)
	}
	if code, _, stderr := runCmd(t, "backup", "--url", base, "--quiet", "--username", "reader", "--password", "r", filepath.Join(dir, "reader")); code != 1 || !strings.Contains(stderr, "admin privilege required") {
		t.Errorf("non-admin backup: %d %s", code, stderr)
	}
	if code, _, stderr := runCmd(t, "backup", "--url", base, "--quiet", "--username", "admin", "--password", "pw", filepath.Join(dir, "admin")); code != 0 {
		t.Errorf("admin backup: %d %s", code, stderr)
	}
	h := newBackupHandler(s.eng, cfg.dataDir, quietLogger())
	h.busy.Store(true) // a backup under way
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/backup", nil))
	if rec.Code != 429 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("concurrent backup: %d %v", rec.Code, rec.Header())
	}
}
