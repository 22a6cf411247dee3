package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func metaTestConfig(dir, addr string) serveConfig {
	cfg := testConfig(dir)
	cfg.kafka.brokers, cfg.kafka.metaTopic = addr, "strata-meta"
	return cfg
}

// waitShow polls q on base until its answer contains want (or, with
// absent, no longer does).
func waitShow(t *testing.T, base, q, want string, absent bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		body := runQuery(t, base, q).body
		if strings.Contains(body, want) != absent {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s on %s: %s (want %q present=%v)", q, base, body, want, !absent)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMetaLogDDLOnEveryNode: DDL sent to node 1 is answered after node 1
// applied it from the meta topic (read-your-writes), reaches nodes 2 and 3,
// a node started later, and a node restarted (from its stored offset); with
// Kafka down, DDL fails with an error naming the meta topic.
func TestMetaLogDDLOnEveryNode(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "strata-meta"))
	if err != nil {
		t.Fatal(err)
	}
	addr := kc.ListenAddrs()[0]
	var bases, dirs []string
	var servers []*server
	for range 3 {
		dir := t.TempDir()
		s, base := startTestServer(t, metaTestConfig(dir, addr))
		servers, bases, dirs = append(servers, s), append(bases, base), append(dirs, dir)
	}
	defer func() {
		for _, s := range servers {
			s.shutdown(10 * time.Second)
		}
	}()
	for _, q := range []string{
		`CREATE DATABASE "shared"`,
		`CREATE RETENTION POLICY "week" ON "shared" DURATION 7d REPLICATION 1`,
		`CREATE DATABASE "gone"`,
		`DROP DATABASE "gone"`,
		`ALTER RETENTION POLICY "week" ON "shared" DURATION 14d DEFAULT`,
	} {
		if r := runQuery(t, bases[0], q); r.status != 200 || strings.Contains(r.body, "error") {
			t.Fatalf("%s: %d %s", q, r.status, r.body)
		}
	}
	// Read-your-writes: node 1 shows it at once.
	if body := runQuery(t, bases[0], `SHOW RETENTION POLICIES ON "shared"`).body; !strings.Contains(body, `"week","336h0m0s"`) {
		t.Fatalf("node 1 right after the DDL: %s", body)
	}
	// A conflicting statement gets the engine's error through the topic.
	if r := runQuery(t, bases[0], `CREATE RETENTION POLICY "week" ON "shared" DURATION 1d REPLICATION 1`); !strings.Contains(r.body, "error") {
		t.Fatalf("conflicting policy accepted: %s", r.body)
	}
	later, lbase := startTestServer(t, metaTestConfig(t.TempDir(), addr))
	defer func() { later.shutdown(10 * time.Second) }()
	for _, b := range append(bases[1:], lbase) {
		waitShow(t, b, `SHOW RETENTION POLICIES ON "shared"`, `"week","336h0m0s","24h0m0s",1,true`, false)
		waitShow(t, b, `SHOW DATABASES`, `"gone"`, true)
	}
	// Every node records the offset past the five records (the conflicting
	// statement is refused by the executor before it reaches the topic).
	for _, d := range dirs {
		waitFile(t, filepath.Join(d, "META_OFFSET"), "5\n")
	}
	// Node 3 down while node 1 creates a database: restarted, it replays
	// from its stored offset (6 after the one new record).
	if err := servers[2].shutdown(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if r := runQuery(t, bases[0], `CREATE DATABASE "while_down"`); strings.Contains(r.body, "error") {
		t.Fatal(r.body)
	}
	servers[2], bases[2] = startTestServer(t, metaTestConfig(dirs[2], addr))
	waitShow(t, bases[2], `SHOW DATABASES`, `"while_down"`, false)
	waitFile(t, filepath.Join(dirs[2], "META_OFFSET"), "6\n")
	// Kafka down: a clear error, not a hang.
	kc.Close()
	start := time.Now()
	r := runQuery(t, bases[1], `CREATE DATABASE "nope"`)
	if !strings.Contains(r.body, "meta topic strata-meta") || time.Since(start) > 30*time.Second {
		t.Fatalf("DDL with Kafka down: %s after %v", r.body, time.Since(start))
	}
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if string(b) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %q, want %q", path, b, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
