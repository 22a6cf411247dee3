package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-db/strata/services/metalog"
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

// startMetaSet starts n nodes sharing the meta topic of a fresh kfake
// cluster (stopped at the end of the test), with authentication as given.
func startMetaSet(t *testing.T, n int, authEnabled bool) (*kfake.Cluster, []string) {
	t.Helper()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "strata-meta"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	var bases []string
	for range n {
		cfg := metaTestConfig(t.TempDir(), kc.ListenAddrs()[0])
		cfg.authEnabled = authEnabled
		s, base := startTestServer(t, cfg)
		t.Cleanup(func() { s.shutdown(10 * time.Second) })
		bases = append(bases, base)
	}
	return kc, bases
}

// TestMetaLogContinuousQueries: CREATE and DROP CONTINUOUS QUERY sent to one
// node are applied on every node; DROP DATABASE takes a database's queries
// with it everywhere.
func TestMetaLogContinuousQueries(t *testing.T) {
	_, bases := startMetaSet(t, 3, false)
	const cq = `CREATE CONTINUOUS QUERY "cq_1h" ON "shared" BEGIN SELECT mean("v") INTO "m_1h" FROM "m" GROUP BY time(1h), * END`
	const listed = `"cq_1h","CREATE CONTINUOUS QUERY cq_1h ON shared BEGIN SELECT mean(v) INTO shared.autogen.m_1h FROM shared.autogen.m GROUP BY time(1h), * END"`
	for i, q := range []string{`CREATE DATABASE "shared"`, cq, cq} { // the same query again: no error
		if r := runQuery(t, bases[0], q); strings.Contains(r.body, "error") {
			t.Fatalf("statement %d: %s", i, r.body)
		}
	}
	// Read-your-writes on node 1, and the others follow.
	if body := runQuery(t, bases[0], `SHOW CONTINUOUS QUERIES`).body; !strings.Contains(body, listed) {
		t.Fatalf("node 1 right after CREATE: %s", body)
	}
	for _, b := range bases[1:] {
		waitShow(t, b, `SHOW CONTINUOUS QUERIES`, listed, false)
	}
	// Another query under the taken name: 1.x's error, from node 3.
	other := strings.Replace(cq, "mean", "max", 1)
	if r := runQuery(t, bases[2], other); !strings.Contains(r.body, "continuous query already exists") {
		t.Fatalf("conflicting CQ on node 3: %s", r.body)
	}
	if r := runQuery(t, bases[1], `DROP CONTINUOUS QUERY "cq_1h" ON "shared"`); strings.Contains(r.body, "error") {
		t.Fatal(r.body)
	}
	for _, b := range bases {
		waitShow(t, b, `SHOW CONTINUOUS QUERIES`, `cq_1h`, true)
	}
	if r := runQuery(t, bases[1], `DROP CONTINUOUS QUERY "cq_1h" ON "shared"`); !strings.Contains(r.body, "continuous query not found") {
		t.Fatalf("dropping a dropped CQ: %s", r.body)
	}
	// DROP DATABASE on node 2 drops the database's queries on every node.
	if r := runQuery(t, bases[0], cq); strings.Contains(r.body, "error") {
		t.Fatal(r.body)
	}
	waitShow(t, bases[2], `SHOW CONTINUOUS QUERIES`, listed, false)
	runQuery(t, bases[1], `DROP DATABASE "shared"`)
	runQuery(t, bases[1], `CREATE DATABASE "shared"`)
	for _, b := range bases {
		waitShow(t, b, `SHOW DATABASES`, `"shared"`, false)
		waitShow(t, b, `SHOW CONTINUOUS QUERIES`, `cq_1h`, true)
	}
}

// TestMetaLogUsers: users and grants made on one node authenticate and
// authorize on the others; the meta topic carries bcrypt hashes, never a
// password; the first admin is created once even when two nodes are asked
// at once.
func TestMetaLogUsers(t *testing.T) {
	kc, bases := startMetaSet(t, 3, true)
	// Two nodes asked for the first admin at once: one wins, everywhere.
	type res struct {
		code int
		body string
	}
	out := make(chan res, 2)
	for i, b := range bases[:2] {
		go func() {
			code, body := (authClient{t, b, "", ""}).do("POST", "/query", url.Values{"q": {fmt.Sprintf("CREATE USER admin%d WITH PASSWORD 'adm-secret' WITH ALL PRIVILEGES", i)}}, "")
			out <- res{code, body}
		}()
	}
	created := 0
	for range 2 {
		if r := <-out; r.code == 200 && !strings.Contains(r.body, "error") {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d first admins created", created)
	}
	var admin authClient
	for i := range 2 {
		for _, b := range bases {
			waitUntil(t, "the first admin on "+b, 20*time.Second, func() bool {
				users := runQuery(t, b, "SHOW USERS") // unauthenticated: refused once a user exists
				return users.status == 401
			})
		}
		c := authClient{t, bases[2], fmt.Sprintf("admin%d", i), "adm-secret"}
		if code, _ := c.do("GET", "/query", url.Values{"q": {"SHOW USERS"}}, ""); code == 200 {
			admin = c
		}
	}
	if admin.user == "" {
		t.Fatal("no first admin can log in on node 3")
	}
	on := func(i int, c authClient) authClient { c.base = bases[i]; return c }
	must := func(c authClient, q string) string {
		t.Helper()
		code, body := c.do("POST", "/query", url.Values{"q": {q}}, "")
		if code != 200 || strings.Contains(body, "error") {
			t.Fatalf("%s on %s: %d %s", q, c.base, code, body)
		}
		return body
	}
	must(on(1, admin), `CREATE DATABASE "shared"`)
	must(on(1, admin), `CREATE USER "bob" WITH PASSWORD 'bob-pass-1'`)
	must(on(1, admin), `GRANT READ ON "shared" TO "bob"`)
	bob := authClient{t, bases[2], "bob", "bob-pass-1"}
	read := func(c authClient) int {
		code, _ := c.do("GET", "/query", url.Values{"q": {`SELECT * FROM "m"`}, "db": {"shared"}}, "")
		return code
	}
	waitUntil(t, "bob reads on node 3", 20*time.Second, func() bool { return read(bob) == 200 })
	if body := must(on(2, admin), `SHOW GRANTS FOR "bob"`); !strings.Contains(body, `["shared","READ"]`) {
		t.Fatalf("bob's grants on node 3: %s", body)
	}
	// REVOKE on node 3, SET PASSWORD on node 1: both reach node 2.
	must(on(2, admin), `REVOKE READ ON "shared" FROM "bob"`)
	must(on(0, admin), `SET PASSWORD FOR "bob" = 'bob-pass-2'`)
	bob2 := authClient{t, bases[1], "bob", "bob-pass-2"}
	waitUntil(t, "bob's new password on node 2", 20*time.Second, func() bool {
		code, _ := bob2.do("GET", "/query", url.Values{"q": {"SHOW DATABASES"}}, "")
		return code == 200
	})
	if code := read(on(1, bob)); code != 401 {
		t.Fatalf("bob's old password on node 2: %d", code)
	}
	waitUntil(t, "the revoke on node 2", 20*time.Second, func() bool { return read(bob2) == 403 })
	must(on(1, admin), `DROP USER "bob"`)
	for i := range bases {
		waitUntil(t, "bob dropped", 20*time.Second, func() bool { return read(on(i, bob2)) == 401 })
	}
	// The topic holds hashes only.
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()[0]), kgo.ConsumeTopics("strata-meta"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var users, records int
	for records < 8 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			records++
			for _, pw := range []string{"adm-secret", "bob-pass-1", "bob-pass-2"} {
				if bytes.Contains(r.Value, []byte(pw)) {
					t.Errorf("meta record at offset %d carries a password", r.Offset)
				}
			}
			if rec, err := metalog.Decode(r.Value); err == nil && (rec.Op == metalog.OpCreateUser || rec.Op == metalog.OpSetPassword) {
				users++
				if !bytes.HasPrefix(rec.Hash, []byte("$2a$")) {
					t.Errorf("offset %d: %q is no bcrypt hash", r.Offset, rec.Hash)
				}
			}
		})
	}
	if users != 4 { // two first admins (one refused), bob, bob's new password
		t.Fatalf("%d user records among %d", users, records)
	}
}
