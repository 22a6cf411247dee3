package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of size bytes on a fresh directory, so a test can fill
// a real file system; it skips when that is not possible (not root, no mount).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("disk-full test needs root to mount a small tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a ballast file until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
	if f == nil {
		return
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	// Fill the last partial pages too.
	for _, n := range []int{4096, 512, 1} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
}

// startDFChild starts a server process that is killed if the test ends early, so
// the tmpfs can be unmounted.
func startDFChild(t *testing.T, dir string, extra ...string) *child {
	c := startChild(t, dir, extra...)
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			select {
			case <-c.done:
			case <-time.After(10 * time.Second):
			}
		}
	})
	return c
}

type dfClient struct {
	t    *testing.T
	base string
	next int64 // next timestamp
	rows map[int64]bool
	pad  bool   // add an incompressible string field, so the data fills a disk fast
	srv  *child // if set, a write that gets no answer dumps the server's goroutines
}

// scramble is splitmix64: a cheap, incompressible value derived from x.
func scramble(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// write posts n rows and reports the status, the Retry-After header, the body and
// how long the answer took; acknowledged rows are remembered.
func (c *dfClient) write(n int) (int, string, string, time.Duration) {
	var b strings.Builder
	first := c.next
	for i := 0; i < n; i++ {
		if c.pad {
			fmt.Fprintf(&b, "df,host=h%d v=%di,pad=\"%016x%016x\" %d\n", c.next%4, c.next, scramble(uint64(c.next)), scramble(^uint64(c.next)), c.next)
		} else {
			fmt.Fprintf(&b, "df,host=h%d v=%di %d\n", c.next%4, c.next, c.next)
		}
		c.next++
	}
	start := time.Now()
	client := &http.Client{Timeout: 60 * time.Second}
	resp, err := client.Post(c.base+"/write?db=df", "text/plain", strings.NewReader(b.String()))
	if err != nil {
		if c.srv != nil {
			c.srv.cmd.Process.Signal(syscall.SIGQUIT)
			time.Sleep(time.Second)
			c.t.Fatalf("write: %v\n%s", err, c.srv.log())
		}
		c.t.Fatalf("write: %v", err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	buf := make([]byte, 4096)
	for {
		k, err := resp.Body.Read(buf)
		body.Write(buf[:k])
		if err != nil {
			break
		}
	}
	d := time.Since(start)
	if resp.StatusCode == http.StatusNoContent {
		for ts := first; ts < c.next; ts++ {
			c.rows[ts] = true
		}
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), body.String(), d
}

// checkAll reads every row of df back and checks that each acknowledged row is
// there with its value (the value is the row's timestamp in ns).
func (c *dfClient) checkAll() {
	c.t.Helper()
	r := runQuery(c.t, c.base, "SELECT v FROM df.autogen.df")
	if r.status != 200 {
		c.t.Fatalf("select: %d %.300s", r.status, r.body)
	}
	var out struct {
		Results []struct {
			Error  string `json:"error"`
			Series []struct {
				Values [][]any `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil || len(out.Results) == 0 || out.Results[0].Error != "" {
		c.t.Fatalf("select: %v %.300s", err, r.body)
	}
	got := map[int64]bool{}
	for _, s := range out.Results[0].Series {
		for _, v := range s.Values {
			if f, ok := v[1].(float64); ok {
				got[int64(f)] = true
			}
		}
	}
	for ts := range c.rows {
		if !got[ts] {
			c.t.Fatalf("acknowledged row %d missing", ts)
		}
	}
}

// count asks the server how many rows of df it holds.
func (c *dfClient) count() int64 {
	c.t.Helper()
	r := runQuery(c.t, c.base, "SELECT count(v) FROM df.autogen.df")
	if r.status != 200 {
		c.t.Fatalf("count query: %d %s", r.status, r.body)
	}
	var out struct {
		Results []struct {
			Series []struct {
				Values [][]any `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		c.t.Fatalf("count query: %v: %s", err, r.body)
	}
	if len(out.Results) == 0 || len(out.Results[0].Series) == 0 {
		return 0
	}
	n, _ := out.Results[0].Series[0].Values[0][1].(float64)
	return int64(n)
}

// TestDiskFull runs a real server on a 24 MiB tmpfs, fills it, and checks that
// writes fail fast with 503 and Retry-After, queries and /health keep answering,
// writes succeed again without a restart once space is freed, a graceful stop on a
// full disk exits cleanly, and every acknowledged row survives a restart.
func TestDiskFull(t *testing.T) {
	mnt := mountTmpfs(t, "24m")
	dir := filepath.Join(mnt, "data")
	ballast := filepath.Join(mnt, "ballast")
	c := startDFChild(t, dir)
	cl := &dfClient{t: t, base: c.base, rows: map[int64]bool{}}
	if r := runQuery(t, c.base, "CREATE DATABASE df"); r.status != 200 {
		t.Fatalf("create database: %d %s", r.status, r.body)
	}
	for range 20 {
		if st, _, body, _ := cl.write(500); st != 204 {
			t.Fatalf("write before the disk is full: %d %s", st, body)
		}
	}

	fill(t, ballast)
	var worst time.Duration
	for i := range 20 {
		st, ra, body, d := cl.write(500)
		worst = max(worst, d)
		if i == 0 && st == 204 {
			continue // the first may still fit in the file system's last pages
		}
		if st != 503 || ra == "" || !strings.Contains(body, `"error":"disk full: `) || len(body) > 600 {
			t.Fatalf("write on a full disk: status %d Retry-After %q body %s\n%s", st, ra, body, c.log())
		}
	}
	if worst > 2*time.Second {
		t.Errorf("slowest refused write took %v", worst)
	}
	t.Logf("full disk: 20 writes refused, slowest answer %v", worst)
	// A refused write may already be visible (it was applied before its fsync
	// failed); it is never acknowledged, and a client retries it.
	if n := cl.count(); n < int64(len(cl.rows)) {
		t.Errorf("query on a full disk counts %d rows, %d acknowledged", n, len(cl.rows))
	}
	r := do(t, "GET", c.base+"/health", nil, nil)
	if r.status != 503 || !strings.Contains(r.body, `"status":"fail"`) || !strings.Contains(r.body, "disk full") {
		t.Errorf("/health on a full disk: %d %s", r.status, r.body)
	}

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	for {
		st, _, body, _ := cl.write(500)
		if st == 204 {
			break
		}
		if st != 503 || time.Since(freed) > 10*time.Second {
			t.Fatalf("write after space was freed: %d %s\n%s", st, body, c.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("writes succeed again %v after space was freed", time.Since(freed))
	for range 10 {
		if st, _, body, _ := cl.write(500); st != 204 {
			t.Fatalf("write after recovery: %d %s", st, body)
		}
	}
	if r := do(t, "GET", c.base+"/health", nil, nil); r.status != 200 {
		t.Errorf("/health after recovery: %d %s", r.status, r.body)
	}

	// A graceful stop while the disk is full again exits 0.
	fill(t, ballast)
	cl.write(500) // fails or fits; only acknowledged rows count
	start := time.Now()
	if err := c.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("graceful stop on a full disk: %v\n%s", err, c.log())
	}
	t.Logf("graceful stop on a full disk took %v", time.Since(start))
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}

	c = startDFChild(t, dir)
	cl.base = c.base
	if n := cl.count(); n != int64(len(cl.rows)) {
		t.Fatalf("after restart %d rows, %d acknowledged\n%s", n, len(cl.rows), c.log())
	}
	cl.checkAll()
	t.Logf("%d acknowledged rows all present after restart", len(cl.rows))
	if err := c.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, c.log())
	}
}

// TestDiskFillsUnderLoad lets the server fill a 48 MiB tmpfs with its own data
// (WAL segments and flushed blocks, with a small head so flushes run and fail):
// no write may hang, the refusals are 503 with Retry-After, and after space is
// freed writes succeed again and every acknowledged row survives a restart.
func TestDiskFillsUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a file system")
	}
	mnt := mountTmpfs(t, "48m")
	dir := filepath.Join(mnt, "data")
	ballast := filepath.Join(mnt, "ballast")
	// Reserve 16 MiB to hand back later; the server fills the rest.
	if err := os.WriteFile(ballast, make([]byte, 16<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startDFChild(t, dir, "--head-max-bytes", "4194304")
	cl := &dfClient{t: t, base: c.base, rows: map[int64]bool{}, pad: true, srv: c}
	if r := runQuery(t, c.base, "CREATE DATABASE df"); r.status != 200 {
		t.Fatalf("create database: %d %s", r.status, r.body)
	}
	var worst time.Duration
	refused, ok := 0, 0
	// Alone this fills in about 25 s (241 writes); in the full suite, with the
	// other packages' tests on the same two cores, flushes stall writers up to
	// their 10 s timeout and a clean-clone run got 214 writes in 90 s. The
	// test is about hangs and answers, not speed: every write is bounded by
	// that timeout, checked below.
	const fillLimit = 240 * time.Second
	deadline := time.Now().Add(fillLimit)
	for refused < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("the disk did not fill in %v (%d writes acknowledged)", fillLimit, ok)
		}
		st, ra, body, d := cl.write(5000)
		worst = max(worst, d)
		switch {
		case st == 204:
			ok++
		case st == 503 && ra != "":
			refused++
		default:
			t.Fatalf("write while filling: %d %q %s\n%s", st, ra, body, c.log())
		}
	}
	t.Logf("disk filled after %d acknowledged writes (%d rows); slowest answer %v", ok, len(cl.rows), worst)
	if worst > 15*time.Second {
		t.Errorf("a write took %v: writes must fail within the bound, not hang", worst)
	}
	if n := cl.count(); n < int64(len(cl.rows)) {
		t.Errorf("query on a full disk counts %d rows, %d acknowledged", n, len(cl.rows))
	}

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	// With only the 16 MiB back, recovery took 0.1 s in some runs and never came
	// in others: Pebble retries failed compactions at once, and an L0 compaction
	// needs room of the size of its inputs, so it keeps eating the freed space. An
	// operator frees more than the store holds, as growing the tmpfs does.
	if out, err := exec.Command("mount", "-o", "remount,size=96m", mnt).CombinedOutput(); err != nil {
		t.Fatalf("grow tmpfs: %v %s", err, out)
	}
	freed := time.Now()
	for {
		st, _, body, _ := cl.write(500)
		if st == 204 {
			break
		}
		if st != 503 || time.Since(freed) > 60*time.Second {
			c.cmd.Process.Signal(syscall.SIGQUIT)
			time.Sleep(time.Second)
			t.Fatalf("write after space was freed: %d %s\n%s", st, body, c.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("writes succeed again %v after the ballast was removed and the file system grown to 96 MiB", time.Since(freed))
	start := time.Now()
	if err := c.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, c.log())
	}
	t.Logf("graceful stop took %v", time.Since(start))

	c = startDFChild(t, dir)
	cl.base = c.base
	if n := cl.count(); n < int64(len(cl.rows)) {
		t.Fatalf("after restart %d rows, %d acknowledged\n%s", n, len(cl.rows), c.log())
	}
	cl.checkAll()
	t.Logf("%d acknowledged rows all present after restart", len(cl.rows))
	if err := c.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, c.log())
	}
}
