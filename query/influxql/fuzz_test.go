package influxql

import (
	"strings"
	"testing"
)

// FuzzParseQuery checks that the parser never panics and that whatever
// parses prints a canonical form that parses back to the same text.
func FuzzParseQuery(f *testing.F) {
	seeds := []string{
		``,
		`SELECT * FROM cpu`,
		`SELECT mean("value") FROM "rp"."m" WHERE ("host" = 'a' OR "host" = 'b') AND time >= 1596240000000ms and time <= 1596240300000ms GROUP BY time(10s), "tag" fill(null) ORDER BY time ASC limit 1 slimit 1 tz('Europe/Paris')`,
		`SELECT usage_user + usage_system AS total, usage_user * 2, -x, a / -b FROM cpu WHERE host =~ /^a\/b$/ LIMIT 3`,
		`SELECT count(distinct(x)), top(x, host, 2), percentile(x, 95.5) FROM db..m, /re/, (SELECT max(x) AS x FROM m GROUP BY time(1m))`,
		`SELECT x INTO db.rp.:MEASUREMENT FROM /.*/ GROUP BY *`,
		`SELECT x FROM m WHERE time > now() - 1h30m AND s = 'it\'s' AND v > $p AND $"q r" = 1 -- c`,
		`SELECT /* c */ x::float, *::tag FROM m GROUP BY time(1h, -10m) fill(-1.5) ORDER BY DESC`,
		`SHOW TAG VALUES ON db FROM cpu WITH KEY IN (host, "region") WHERE a = 'b' LIMIT 2 OFFSET 1`,
		`SHOW MEASUREMENTS WITH MEASUREMENT =~ /(?i)M/ LIMIT 100; SHOW SERIES EXACT CARDINALITY`,
		`CREATE DATABASE db WITH DURATION 1d REPLICATION 1 SHARD DURATION 1h NAME rp`,
		`CREATE CONTINUOUS QUERY cq ON db RESAMPLE EVERY 1m FOR 1h BEGIN SELECT mean(v) INTO m1_mean FROM m1 GROUP BY time(1h), * END`,
		`ALTER RETENTION POLICY rp ON db DEFAULT SHARD DURATION 2h REPLICATION 2 DURATION INF`,
		`DELETE FROM m WHERE time < '2024-01-01T00:02:00Z'; DROP SERIES WHERE host = 'a'; KILL QUERY 1`,
		`EXPLAIN ANALYZE SELECT x FROM m`,
		`SELEC * FROM cpu`,
		`SELECT "a\"b" FROM "\\"`,
		`SELECT 1.0, .5, 9223372036854775807, -9223372036854775808 FROM m`,
		`SELECT "DISTINCT"(x) FROM m; CREATE DATABASE db WITH SHARD DURATION 0s`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(s)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("ParseQuery(%q) returned %T, want *ParseError", s, err)
			}
			return
		}
		canon := q.String()
		q2, err := ParseQuery(canon)
		if err != nil {
			t.Fatalf("canonical form of %q does not parse: %q: %v", s, canon, err)
		}
		if again := q2.String(); again != canon {
			t.Fatalf("unstable canonical form of %q:\n%s\n%s", s, canon, again)
		}
		// The analyses must not panic on anything the parser accepts.
		for _, st := range q.Statements {
			if sel, ok := st.(*SelectStatement); ok {
				_, _, _ = TimeCondition(sel.Condition, fuzzNow, sel.Location)
				_, _, _ = sel.GroupByTime(fuzzNow)
				_, _ = SplitPredicates(sel.Condition, func(n string) bool { return strings.HasPrefix(n, "t") })
			}
		}
	})
}
