package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-db/strata/bench"
)

// fanoutSet is three nodes of one consumer group sharing a topic, each with
// the others as --peers, and a reference node consuming every partition
// alone (its own group): what one node holding all the data answers.
type fanoutSet struct {
	nodes []*server
	bases []string
	ref   string
	data  *bench.Dataset
	creds url.Values // u and p of an admin of every node, with --auth-enabled
}

// freeAddrs reserves n loopback ports: the nodes must know each other's
// addresses before they start.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// startFanoutSet produces a TSBS cpu data set of hosts hosts over dur,
// one record per line keyed by its series key, to six partitions.
func startFanoutSet(t *testing.T, hosts int, dur time.Duration) *fanoutSet {
	t.Helper()
	return startFanoutSetWith(t, hosts, dur, fanoutSetup{})
}

// fanoutSetup varies the set's nodes (not the reference).
type fanoutSetup struct {
	secretFile string // --cluster-secret-file
	auth       bool   // --auth-enabled, and an admin "admin" on every node
	noCache    bool   // --query-cache-size 0 on every node and the reference (timings)
}

const fanoutAdminPassword = "adm1n-pw"

func startFanoutSetWith(t *testing.T, hosts int, dur time.Duration, setup fanoutSetup) *fanoutSet {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, "cpu"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	broker := c.ListenAddrs()[0]
	gen := bench.DefaultGenConfig()
	gen.Hosts, gen.Duration = hosts, dur
	data, err := bench.Generate(gen)
	if err != nil {
		t.Fatal(err)
	}
	fs := &fanoutSet{data: data}
	addrs := freeAddrs(t, 3)
	cfgOf := func(group string) serveConfig {
		cfg := testConfig(t.TempDir())
		cfg.kafka.brokers, cfg.kafka.topics, cfg.kafka.database, cfg.kafka.group = broker, "cpu", "benchmark", group
		if setup.noCache {
			cfg.queryCache = 0
		}
		return cfg
	}
	for i, a := range addrs {
		cfg := cfgOf("set")
		cfg.httpAddr = a
		var others []string
		for j, b := range addrs {
			if j != i {
				others = append(others, b)
			}
		}
		cfg.peers, cfg.peerTimeout = strings.Join(others, ","), 5*time.Second
		cfg.clusterSecretFile, cfg.authEnabled = setup.secretFile, setup.auth
		s, base := startTestServer(t, cfg)
		t.Cleanup(func() { s.shutdown(10 * time.Second) })
		fs.nodes, fs.bases = append(fs.nodes, s), append(fs.bases, base)
		if setup.auth {
			fs.creds = url.Values{"u": {"admin"}, "p": {fanoutAdminPassword}}
			// Users are each node's own: the first admin of each.
			r := do(t, "POST", base+"/query", []byte("q="+url.QueryEscape("CREATE USER admin WITH PASSWORD '"+fanoutAdminPassword+"' WITH ALL PRIVILEGES")),
				map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
			if r.status != 200 || strings.Contains(r.body, `"error"`) {
				t.Fatalf("first admin: %d %s", r.status, r.body)
			}
		}
	}
	ref, refBase := startTestServer(t, cfgOf("reference"))
	t.Cleanup(func() { ref.shutdown(10 * time.Second) })
	fs.ref = refBase
	// The group settles before anything is produced: a partition that moved
	// after a node stored part of it would be stored twice (the stable
	// membership of restarts is not this test's subject).
	// Each node of the set owns two partitions, the reference all six: a
	// total of twelve is not enough (the first node to join holds all six
	// until the others do, and would then store everything).
	deadline := time.Now().Add(60 * time.Second)
	for {
		var got []int
		settled := true
		for i, b := range append(fs.bases, refBase) {
			st := do(t, "GET", b+"/api/v1/kafka/status?"+fs.creds.Encode(), nil, nil)
			n := strings.Count(st.body, `"partition"`)
			got = append(got, n)
			if want := 2; i == len(fs.bases) && n != 6 || i < len(fs.bases) && n != want {
				settled = false
			}
		}
		if settled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("partitions never assigned two per node, six to the reference: %v", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.DefaultProduceTopic("cpu"),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var rs []*kgo.Record
	for _, body := range data.Bodies {
		for _, line := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
			key := line[:bytes.IndexByte(line, ' ')] // the series key
			rs = append(rs, &kgo.Record{Key: key, Value: line})
		}
	}
	if err := p.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`",%d]]`, data.Lines)
	deadline = time.Now().Add(120 * time.Second)
	for _, b := range append([]string{refBase}, fs.bases...) {
		for {
			r := queryOn(t, b, `SELECT count(usage_user) AS count_usage_user FROM benchmark.autogen.cpu`, fs.creds)
			if strings.Contains(r.body, want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never held %d lines: %s", b, data.Lines, r.body)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return fs
}

// fanoutQueries are the 15 TSBS query types as TSBS sends them, drawn for
// the data set, then the approximate functions, a transformation and SHOW.
func fanoutQueries(t *testing.T, d *bench.Dataset) []string {
	t.Helper()
	g := bench.NewQueryGen(7, len(d.Hosts), d.Time(0), d.EndTime())
	var out []string
	for _, typ := range bench.QueryTypes {
		q, err := g.Next(typ)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, q.Text)
	}
	start, end := time.Unix(0, d.Time(0)).UTC().Format(time.RFC3339), time.Unix(0, d.EndTime()).UTC().Format(time.RFC3339)
	rng := fmt.Sprintf("time >= '%s' and time < '%s'", start, end)
	return append(out,
		"SELECT approx_count_distinct(usage_user), approx_percentile(usage_user, 90) FROM cpu WHERE "+rng+" GROUP BY time(30m)",
		"SELECT approx_median(usage_system) FROM cpu WHERE "+rng+" GROUP BY region",
		"SELECT derivative(mean(usage_user), 1m) FROM cpu WHERE "+rng+" GROUP BY time(10m), hostname SLIMIT 3",
		"SELECT sum(usage_idle), count(usage_idle), min(usage_nice), last(usage_steal) FROM cpu WHERE "+rng+" GROUP BY time(15m) fill(0) LIMIT 4",
		"SELECT percentile(usage_user, 95), stddev(usage_user), spread(usage_user) FROM cpu WHERE "+rng+" GROUP BY datacenter",
		"SELECT integral(usage_user, 1m) FROM cpu WHERE "+rng+" GROUP BY region",
		"SELECT max(usage_user) FROM cpu WHERE "+rng+" GROUP BY * ORDER BY time DESC LIMIT 2 SLIMIT 5 SOFFSET 2",
		// Raw rows: the field condition evaluated on the peers, LIMIT+OFFSET
		// per series pushed down, OFFSET and SLIMIT here.
		"SELECT usage_user, usage_system, hostname FROM cpu WHERE usage_user > 50 AND "+rng+" LIMIT 7 OFFSET 3",
		"SELECT * FROM cpu WHERE usage_idle < 20 AND "+rng+" GROUP BY region ORDER BY time DESC LIMIT 3 OFFSET 1 SLIMIT 2",
		"SELECT usage_user FROM cpu WHERE (usage_user > 95 OR usage_system < 2) AND "+rng+" GROUP BY hostname SLIMIT 4 SOFFSET 1",
		"SELECT usage_user * 2 + usage_nice AS x FROM cpu WHERE hostname =~ /host_1/ AND "+rng+" ORDER BY time DESC LIMIT 20",
		// Aggregates over rows that pass a field condition, with an aux field.
		"SELECT max(usage_user), usage_system FROM cpu WHERE usage_idle < 30 AND "+rng+" GROUP BY region",
		"SELECT count(usage_user), mean(usage_user) FROM cpu WHERE usage_user > 90 AND "+rng+" GROUP BY time(30m) fill(none)",
		"SELECT top(usage_user, hostname, 3) FROM cpu WHERE "+rng,
		// SHOW: the union of every node's listing, sorted and limited here.
		"SHOW MEASUREMENTS", "SHOW TAG KEYS", "SHOW TAG KEYS LIMIT 3 OFFSET 2",
		"SHOW TAG VALUES WITH KEY = hostname", "SHOW TAG VALUES WITH KEY IN (region, rack) LIMIT 5 OFFSET 1",
		"SHOW FIELD KEYS", "SHOW SERIES", "SHOW SERIES WHERE region = 'eu-west-1' LIMIT 2 OFFSET 1",
		"SHOW SERIES CARDINALITY", "SHOW SERIES EXACT CARDINALITY", "SHOW MEASUREMENT CARDINALITY",
		"SHOW TAG KEY CARDINALITY", "SHOW TAG VALUES CARDINALITY WITH KEY = hostname",
		"SHOW FIELD KEY CARDINALITY", "SHOW FIELD KEY CARDINALITY WHERE hostname = 'host_1'",
	)
}

func queryOn(t *testing.T, base, q string, extra url.Values) response {
	t.Helper()
	v := url.Values{"db": {"benchmark"}, "q": {q}}
	for k, vs := range extra {
		v[k] = vs
	}
	return do(t, "GET", base+"/query?"+v.Encode(), nil, nil)
}

// TestFanoutEquivalence: every node of the set answers each query
// byte for byte as the reference node holding all the data.
// STRATA_FANOUT_FULL=1 runs TSBS's scale (100 hosts, 12 hours).
func TestFanoutEquivalence(t *testing.T) {
	hosts, dur := 12, 2*time.Hour
	if os.Getenv("STRATA_FANOUT_FULL") != "" {
		hosts, dur = 100, 12*time.Hour
	}
	fs := startFanoutSet(t, hosts, dur)
	for _, q := range fanoutQueries(t, fs.data) {
		want := queryOn(t, fs.ref, q, nil)
		if want.status != 200 || strings.Contains(want.body, `"error"`) {
			t.Fatalf("reference: %s: %d %s", q, want.status, want.body)
		}
		for i, b := range fs.bases {
			got := queryOn(t, b, q, nil)
			if got.body != want.body {
				t.Errorf("node %d: %s\n got %.600s\nwant %.600s", i, q, got.body, want.body)
			}
		}
	}
}

// TestFanoutPeerDown: with a node stopped, a query fails naming it, or,
// with partial=true, answers from the others with a warning naming it.
func TestFanoutPeerDown(t *testing.T) {
	fs := startFanoutSet(t, 6, time.Hour)
	down := fs.nodes[2].Addr()
	if err := fs.nodes[2].shutdown(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	q := `SELECT count(usage_user) FROM cpu`
	r := queryOn(t, fs.bases[0], q, nil)
	if !strings.Contains(r.body, `"error"`) || !strings.Contains(r.body, "node "+down) {
		t.Fatalf("a peer down must fail the query naming it: %d %s", r.status, r.body)
	}
	for _, q := range []string{q, `SELECT * FROM cpu WHERE usage_user > 90`, `SHOW TAG VALUES WITH KEY = hostname`} {
		r = queryOn(t, fs.bases[0], q, url.Values{"partial": {"true"}})
		if strings.Contains(r.body, `"error"`) || !strings.Contains(r.body, `"level":"warning"`) || !strings.Contains(r.body, "node "+down) ||
			!strings.Contains(r.body, `"partial":true`) || strings.Contains(r.body, fmt.Sprintf(`[0,%d]`, fs.data.Lines)) {
			t.Fatalf("partial=true: %s: %d %s", q, r.status, r.body)
		}
	}
	m := do(t, "GET", fs.bases[0]+"/metrics", nil, nil)
	if !strings.Contains(m.body, fmt.Sprintf(`strata_fanout_peer_errors_total{peer=%q} 4`, down)) {
		t.Errorf("metrics lack the peer's errors:\n%s", grepLines(m.body, "strata_fanout"))
	}
}
