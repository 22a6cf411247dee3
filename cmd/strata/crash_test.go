package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strata-db/strata/storage"
)

// child is a strata server running as a separate process (this test binary re-executed
// through TestMain), so a test can kill it with SIGKILL.
type child struct {
	cmd  *exec.Cmd
	base string
	logs *bytes.Buffer
	mu   *sync.Mutex
	done chan error
}

func startChild(t *testing.T, dir string, extra ...string) *child {
	t.Helper()
	args := append([]string{"serve", "--data-dir", dir, "--http-addr", "127.0.0.1:0", "--log-format", "json"}, extra...)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STRATA_TEST_MAIN="+strings.Join(args, "\x1f"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, logs: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			c.mu.Lock()
			c.logs.Write(line)
			c.logs.WriteByte('\n')
			c.mu.Unlock()
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "strata listening" {
				addr <- rec.Addr
			}
		}
		c.done <- cmd.Wait()
	}()
	select {
	case a := <-addr:
		c.base = "http://" + a
	case err := <-c.done:
		t.Fatalf("child exited before listening: %v\n%s", err, c.log())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("child did not start listening in time\n%s", c.log())
	}
	return c
}

func (c *child) log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logs.String()
}

// stop sends sig and waits for the process to exit.
func (c *child) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	c.cmd.Process.Signal(sig)
	select {
	case err := <-c.done:
		return err
	case <-time.After(60 * time.Second):
		c.cmd.Process.Kill()
		t.Fatalf("child did not exit after %v\n%s", sig, c.log())
		return nil
	}
}

// TestCrashLosesNoAcknowledgedWrite kills a loaded server with SIGKILL, restarts it on
// the same directory, and checks that every point whose write was acknowledged is
// stored with its value.
func TestCrashLosesNoAcknowledgedWrite(t *testing.T) {
	load := 1500 * time.Millisecond
	rounds := 2
	if testing.Short() {
		load, rounds = 500*time.Millisecond, 1
	}
	if os.Getenv("STRATA_SOAK") != "" {
		load, rounds = 5*time.Second, 10
	}
	dir := t.TempDir()
	const writers, lines = 4, 500
	acked := make([]map[int64]int64, writers) // writer -> timestamp -> value
	for w := range acked {
		acked[w] = map[int64]int64{}
	}
	next := make([]int64, writers) // next batch number per writer, across rounds

	for round := 0; round < rounds; round++ {
		t0 := time.Now()
		c := startChild(t, dir)
		t.Logf("round %d: child up in %v", round, time.Since(t0))
		if r := runQuery(t, c.base, "CREATE DATABASE crash"); r.status != 200 {
			t.Fatalf("create database: %d %s", r.status, r.body)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		stop := make(chan struct{})
		client := &http.Client{Timeout: 30 * time.Second}
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					batch := next[w]
					next[w]++
					var body bytes.Buffer
					vals := make(map[int64]int64, lines)
					for i := 0; i < lines; i++ {
						ts := batch*lines + int64(i)
						v := ts*7 + int64(round)
						fmt.Fprintf(&body, "crash,writer=w%d,shard=s%d v=%di,f=%d.25 %d\n", w, i%8, v, v, ts)
						vals[ts] = v
					}
					resp, err := client.Post(c.base+"/write?db=crash", "text/plain", &body)
					if err != nil {
						return // the server is gone
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusNoContent {
						t.Errorf("write: status %d", resp.StatusCode)
						return
					}
					mu.Lock()
					for ts, v := range vals {
						acked[w][ts] = v
					}
					mu.Unlock()
				}
			}(w)
		}
		time.Sleep(load)
		if err := c.stop(t, syscall.SIGKILL); err == nil {
			t.Fatal("child exited cleanly after SIGKILL?")
		}
		close(stop)
		wg.Wait()
	}

	// Restart on the crashed directory: it must come up (replaying and repairing the
	// WAL), take a write, and shut down cleanly.
	t0 := time.Now()
	c := startChild(t, dir)
	t.Logf("restart after crash: child up in %v", time.Since(t0))
	if r := do(t, "POST", c.base+"/write?db=crash", []byte("after v=1i 1"), nil); r.status != 204 {
		t.Fatalf("write after crash: %d %s\n%s", r.status, r.body, c.log())
	}
	t0 = time.Now()
	if err := c.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, c.log())
	}
	t.Logf("graceful stop took %v", time.Since(t0))

	eng, err := storage.Open(storage.Options{Dir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	stored := make([]map[int64][2]float64, writers)
	for w := range stored {
		stored[w] = map[int64][2]float64{}
	}
	bk, err := eng.Bucket("crash", "")
	if err != nil {
		t.Fatal(err)
	}
	err = eng.ReadSeries(bk, "crash", nil, math.MinInt64, math.MaxInt64, func(s *storage.SeriesData) error {
		var w int
		for _, tg := range s.Tags {
			if string(tg.Key) == "writer" {
				w, _ = strconv.Atoi(strings.TrimPrefix(string(tg.Value), "w"))
			}
		}
		vi, vf := s.Fields["v"], s.Fields["f"]
		if vi == nil || vf == nil || len(vi.Times) != len(vf.Times) {
			return fmt.Errorf("series %v: fields v/f misaligned", s.Tags)
		}
		for i, ts := range vi.Times {
			stored[w][ts] = [2]float64{float64(vi.Ints[i]), vf.Floats[i]}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for w := range acked {
		for ts, v := range acked[w] {
			got, ok := stored[w][ts]
			if !ok {
				t.Fatalf("acknowledged point writer %d ts %d lost", w, ts)
			}
			if got[0] != float64(v) || got[1] != float64(v)+0.25 {
				t.Fatalf("writer %d ts %d: stored %v, acknowledged %d", w, ts, got, v)
			}
			total++
		}
	}
	if total == 0 {
		t.Fatal("no write was acknowledged before the kill: the test proved nothing")
	}
	t.Logf("%d acknowledged points over %d SIGKILL rounds all present", total, rounds)
}
