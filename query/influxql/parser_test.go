package influxql

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestParseStatement_Valid parses each statement, compares its canonical
// form and checks that the canonical form parses back to itself.
func TestParseStatement_Valid(t *testing.T) {
	tests := []struct {
		s    string
		want string // canonical String(); "" means same as s
	}{
		// SELECT basics.
		{s: `SELECT * FROM cpu`},
		{s: `select value from cpu`, want: `SELECT value FROM cpu`},
		{s: `SELECT "usage user", "select" FROM "my db"."rp"."cpu"`, want: `SELECT "usage user", "select" FROM "my db".rp.cpu`},
		{s: `SELECT a::float, b::integer, c::string, d::boolean, e::tag, f::field FROM m`},
		{s: `SELECT *::field FROM m`},
		{s: `SELECT *::tag FROM m`},
		{s: `SELECT time, usage_user AS "u" FROM cpu`, want: `SELECT time, usage_user AS u FROM cpu`},
		{s: `SELECT x AS "select" FROM m`},
		{s: `SELECT a.b FROM m`, want: `SELECT "a.b" FROM m`},
		// Arithmetic and precedence.
		{s: `SELECT a + b * c FROM m`},
		{s: `SELECT (a + b) * c FROM m`},
		{s: `SELECT a - b - c FROM m`},
		{s: `SELECT a - (b - c) FROM m`},
		{s: `SELECT a & b | c ^ d % 2 FROM m`},
		{s: `SELECT -a FROM m`, want: `SELECT -1 * a FROM m`},
		{s: `SELECT a / -b FROM m`, want: `SELECT a / (-1 * b) FROM m`},
		{s: `SELECT -(a + b) FROM m`, want: `SELECT -1 * (a + b) FROM m`},
		{s: `SELECT +a FROM m`, want: `SELECT a FROM m`},
		{s: `SELECT a * -1.5, -9223372036854775808 FROM m`},
		{s: `SELECT 1.0, 2, 0.5, .5, 1. FROM m`, want: `SELECT 1.0, 2, 0.5, 0.5, 1.0 FROM m`},
		// Functions.
		{s: `SELECT mean(value), count(*), max(/re/), percentile(x, 95.5) FROM m`},
		{s: `SELECT count(distinct(host)), distinct(x), DISTINCT y FROM m`, want: `SELECT count(distinct(host)), distinct(x), distinct(y) FROM m`},
		{s: `SELECT top(x, host, 3), bottom(x, 2), sample(x, 5) FROM m`},
		{s: `SELECT non_negative_derivative(max(x), 1s), moving_average(mean(x), 3) FROM m WHERE time > now() - 1h GROUP BY time(10s)`},
		{s: `SELECT holt_winters(first(x), 10, 4), elapsed(x, 1ms), cumulative_sum(x) FROM m`},
		{s: `SELECT f() FROM m`},
		// FROM.
		{s: `SELECT x FROM db.rp.m, db..m, rp.m, /cpu.*/, db.rp./re/, "a.b"`},
		{s: `SELECT x FROM (SELECT mean(x) AS x FROM m GROUP BY time(1m)) WHERE x > 1`},
		{s: `SELECT x FROM /a\/b/`},
		// INTO.
		{s: `SELECT x INTO db.rp.m2 FROM m`},
		{s: `SELECT x INTO db.rp.:MEASUREMENT FROM /.*/ GROUP BY *`},
		{s: `SELECT x INTO "a b" FROM m`},
		// WHERE.
		{s: `SELECT x FROM m WHERE host = 'a' AND (region = 'b' OR region != 'c')`},
		{s: `SELECT x FROM m WHERE a <> 1`, want: `SELECT x FROM m WHERE a != 1`},
		{s: `SELECT x FROM m WHERE a < 1 AND b <= 2 AND c > 3 AND d >= 4 AND e =~ /x/ AND f !~ /y/`},
		{s: `SELECT x FROM m WHERE time >= '2024-01-01T00:00:00Z' AND time < now() - 1h30m`, want: `SELECT x FROM m WHERE time >= '2024-01-01T00:00:00Z' AND time < now() - 90m`},
		{s: `SELECT x FROM m WHERE time >= 1704067200000ms and time <= 1704074399000ms`, want: `SELECT x FROM m WHERE time >= 19723d AND time <= 1704074399s`},
		{s: `SELECT x FROM m WHERE host = $host AND v > $"min v" AND h =~ $re`},
		{s: `SELECT x FROM m WHERE b = true OR b = FALSE`, want: `SELECT x FROM m WHERE b = true OR b = false`},
		{s: `SELECT x FROM m WHERE s = 'it\'s \\ \n'`},
		{s: `SELECT x FROM m WHERE a = 1 -- trailing comment`, want: `SELECT x FROM m WHERE a = 1`},
		{s: "SELECT /* c */ x FROM m", want: `SELECT x FROM m`},
		// GROUP BY, fill, ORDER BY, limits, tz.
		{s: `SELECT mean(x) FROM m GROUP BY time(1h, -10m), host, "region" fill(none)`, want: `SELECT mean(x) FROM m GROUP BY time(1h, -10m), host, region fill(none)`},
		{s: `SELECT mean(x) FROM m GROUP BY time(5m, now()) fill(previous)`},
		{s: `SELECT mean(x) FROM m GROUP BY * fill(linear)`},
		{s: `SELECT mean(x) FROM m GROUP BY /reg/ fill(-1.5)`},
		{s: `SELECT mean(x) FROM m GROUP BY time(1m) fill(0)`},
		{s: `SELECT mean(x) FROM m GROUP BY time(1m) fill(null)`, want: `SELECT mean(x) FROM m GROUP BY time(1m)`},
		{s: `SELECT x FROM m ORDER BY time DESC`},
		{s: `SELECT x FROM m ORDER BY time asc`, want: `SELECT x FROM m ORDER BY time ASC`},
		{s: `SELECT x FROM m ORDER BY DESC`, want: `SELECT x FROM m ORDER BY time DESC`},
		{s: `SELECT x FROM m LIMIT 1 OFFSET 2 SLIMIT 3 SOFFSET 4`},
		{s: `SELECT x FROM m tz('Europe/Berlin')`},
		{s: `SELECT mean("value") FROM "rp"."m" WHERE ("host" = 'a' OR "host" = 'b') AND time >= 1596240000000ms and time <= 1596240300000ms GROUP BY time(10s), "tag" fill(null) ORDER BY time ASC limit 1 slimit 1 tz('Europe/Paris')`,
			want: `SELECT mean(value) FROM rp.m WHERE (host = 'a' OR host = 'b') AND time >= 18475d AND time <= 26604005m GROUP BY time(10s), "tag" ORDER BY time ASC LIMIT 1 SLIMIT 1 tz('Europe/Paris')`},
		// SHOW.
		{s: `SHOW DATABASES`},
		{s: `SHOW measurements`, want: `SHOW MEASUREMENTS`},
		{s: `SHOW MEASUREMENTS ON db WITH MEASUREMENT =~ /(?i)cpu/ WHERE host = 'a' LIMIT 100 OFFSET 5`},
		{s: `SHOW MEASUREMENTS WITH MEASUREMENT = cpu`},
		{s: `SHOW MEASUREMENT CARDINALITY`},
		{s: `SHOW MEASUREMENT EXACT CARDINALITY ON db FROM cpu WHERE host = 'a'`},
		{s: `SHOW SERIES CARDINALITY ON db`},
		{s: `SHOW SERIES EXACT CARDINALITY`},
		{s: `SHOW TAG KEYS ON db FROM cpu WHERE host = 'a' LIMIT 1 OFFSET 2 SLIMIT 3 SOFFSET 4`},
		{s: `SHOW TAG VALUES FROM "cpu" WITH KEY = "host" WHERE "region" = 'us-east'`, want: `SHOW TAG VALUES FROM cpu WITH KEY = host WHERE region = 'us-east'`},
		{s: `SHOW TAG VALUES WITH KEY != host`},
		{s: `SHOW TAG VALUES ON db FROM cpu, mem WITH KEY IN (host, "region") LIMIT 2 OFFSET 1`, want: `SHOW TAG VALUES ON db FROM cpu, mem WITH KEY IN (host, region) LIMIT 2 OFFSET 1`},
		{s: `SHOW TAG VALUES WITH KEY =~ /^serv/`},
		{s: `SHOW TAG VALUES WITH KEY !~ /^serv/`},
		{s: `SHOW FIELD KEYS ON db FROM cpu LIMIT 5`},
		{s: `SHOW TAG KEY CARDINALITY`},
		{s: `SHOW TAG KEY EXACT CARDINALITY ON db FROM /[cg]pu/ WHERE host = 'a'`},
		{s: `SHOW TAG VALUES CARDINALITY WITH KEY = host WHERE region =~ /ca.*/`},
		{s: `SHOW TAG VALUES EXACT CARDINALITY ON db FROM cpu WITH KEY IN (host, region) WHERE region = 'uswest'`},
		{s: `SHOW FIELD KEY CARDINALITY ON db`},
		{s: `SHOW FIELD KEY EXACT CARDINALITY FROM /[cg]pu/`},
		{s: `SHOW SERIES ON db FROM cpu WHERE host = 'a' LIMIT 5 OFFSET 1`},
		{s: `SHOW RETENTION POLICIES on "db"`, want: `SHOW RETENTION POLICIES ON db`},
		{s: `SHOW RETENTION POLICIES`},
		{s: `SHOW USERS`},
		{s: `SHOW CONTINUOUS QUERIES`},
		{s: `SHOW QUERIES`},
		{s: `SHOW STATS`},
		{s: `show stats for 'runtime'`, want: `SHOW STATS FOR 'runtime'`},
		{s: `SHOW DIAGNOSTICS`},
		{s: `SHOW DIAGNOSTICS FOR 'build'`},
		// DDL.
		{s: `CREATE DATABASE "telegraf"`, want: `CREATE DATABASE telegraf`},
		{s: `CREATE DATABASE ""`},
		{s: `CREATE DATABASE db WITH DURATION 1d REPLICATION 1 SHARD DURATION 1h NAME rp`},
		{s: `CREATE DATABASE db WITH DURATION INF`, want: `CREATE DATABASE db WITH DURATION 0s`},
		{s: `CREATE DATABASE db WITH NAME rp`},
		{s: `DROP DATABASE db`},
		{s: `DROP MEASUREMENT "my m"`},
		{s: `DROP SERIES FROM cpu WHERE host = 'a'`},
		{s: `DROP SERIES WHERE host = 'a'`},
		{s: `DROP SERIES FROM cpu`},
		{s: `DELETE FROM m WHERE time < '2024-01-01T00:02:00Z'`},
		{s: `DELETE WHERE host = 'b'`},
		{s: `DELETE FROM m`},
		{s: `CREATE RETENTION POLICY one_day ON db DURATION 1d REPLICATION 1`},
		{s: `CREATE RETENTION POLICY rp ON db DURATION INF REPLICATION 3 SHARD DURATION 1w DEFAULT`},
		{s: `ALTER RETENTION POLICY rp ON db DURATION 3d`},
		{s: `ALTER RETENTION POLICY rp ON db DEFAULT SHARD DURATION 2h REPLICATION 2 DURATION INF`, want: `ALTER RETENTION POLICY rp ON db DURATION INF REPLICATION 2 SHARD DURATION 2h DEFAULT`},
		{s: `DROP RETENTION POLICY rp ON db`},
		{s: `CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT mean(v) INTO m1_mean FROM m1 GROUP BY time(1h), * END`},
		{s: `CREATE CONTINUOUS QUERY cq ON db RESAMPLE EVERY 1m FOR 1h BEGIN SELECT mean(v) INTO db.rp.:MEASUREMENT FROM /.*/ GROUP BY time(30m) END`},
		{s: `CREATE CONTINUOUS QUERY cq ON db RESAMPLE FOR 1h BEGIN SELECT v INTO x FROM m END`},
		{s: `DROP CONTINUOUS QUERY cq ON db`},
		{s: `EXPLAIN SELECT x FROM m`},
		{s: `EXPLAIN ANALYZE SELECT mean(x) FROM m`},
		{s: `KILL QUERY 42`},
		{s: `KILL QUERY 42 ON "host:8088"`},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			st, err := ParseStatement(tt.s)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			want := tt.want
			if want == "" {
				want = tt.s
			}
			got := st.String()
			if got != want {
				t.Fatalf("String():\n got %s\nwant %s", got, want)
			}
			st2, err := ParseStatement(got)
			if err != nil {
				t.Fatalf("reparse of %q: %v", got, err)
			}
			if st2.String() != got {
				t.Fatalf("round trip unstable:\n%s\n%s", got, st2.String())
			}
		})
	}
}

// TestParseStatement_AST checks the parts of the AST a planner reads.
func TestParseStatement_AST(t *testing.T) {
	st, err := ParseStatement(`SELECT mean("value") AS m, max(x) FROM "db"."rp"."cpu", /mem.*/ WHERE host = 'a' AND time > now() - 1h ` +
		`GROUP BY time(10s, 5s), host, /re/ fill(-2) ORDER BY time DESC LIMIT 3 OFFSET 4 SLIMIT 5 SOFFSET 6 tz('Asia/Kolkata')`)
	if err != nil {
		t.Fatal(err)
	}
	s := st.(*SelectStatement)
	if len(s.Fields) != 2 || s.Fields[0].Alias != "m" {
		t.Fatalf("fields = %v", s.Fields)
	}
	call := s.Fields[0].Expr.(*Call)
	if call.Name != "mean" || !reflect.DeepEqual(call.Args, []Expr{&VarRef{Val: "value"}}) {
		t.Fatalf("call = %#v", call)
	}
	m := s.Sources[0].(*Measurement)
	if *m != (Measurement{Database: "db", RetentionPolicy: "rp", Name: "cpu"}) {
		t.Fatalf("source = %#v", m)
	}
	if re := s.Sources[1].(*Measurement).Regex; re == nil || re.Val.String() != "mem.*" {
		t.Fatalf("regex source = %v", s.Sources[1])
	}
	cond := s.Condition.(*BinaryExpr)
	if cond.Op != AND {
		t.Fatalf("condition op = %s", cond.Op)
	}
	if iv, off, err := s.GroupByTime(time.Unix(0, 0)); iv != 10*time.Second || off != 5*time.Second || err != nil {
		t.Fatalf("GroupByTime = %v %v %v", iv, off, err)
	}
	g := s.GroupByTags()
	if !reflect.DeepEqual(g.Keys, []string{"host"}) || len(g.Regexes) != 1 || g.All {
		t.Fatalf("GroupByTags = %+v", g)
	}
	if s.Fill != NumberFill || s.FillValue != int64(-2) {
		t.Fatalf("fill = %v %v", s.Fill, s.FillValue)
	}
	if s.TimeAscending() || s.Limit != 3 || s.Offset != 4 || s.SLimit != 5 || s.SOffset != 6 {
		t.Fatalf("order/limits = %v %d %d %d %d", s.TimeAscending(), s.Limit, s.Offset, s.SLimit, s.SOffset)
	}
	if s.TimeZone().String() != "Asia/Kolkata" {
		t.Fatalf("tz = %v", s.TimeZone())
	}
	if s.IsRawQuery() {
		t.Fatal("IsRawQuery = true for aggregate query")
	}

	st, err = ParseStatement(`SHOW TAG VALUES ON db FROM cpu WITH KEY IN (host, region) WHERE a = 'b'`)
	if err != nil {
		t.Fatal(err)
	}
	tv := st.(*ShowTagValuesStatement)
	if tv.Database != "db" || tv.Op != IN || !reflect.DeepEqual(tv.TagKeyExpr, &ListLiteral{Vals: []string{"host", "region"}}) || tv.Condition == nil {
		t.Fatalf("show tag values = %#v", tv)
	}

	st, err = ParseStatement(`CREATE DATABASE db WITH DURATION 2d REPLICATION 3 SHARD DURATION 1h NAME rp`)
	if err != nil {
		t.Fatal(err)
	}
	cd := st.(*CreateDatabaseStatement)
	if !cd.RetentionPolicyCreate || *cd.RetentionPolicyDuration != 48*time.Hour || *cd.RetentionPolicyReplication != 3 ||
		cd.RetentionPolicyShardGroupDuration != time.Hour || cd.RetentionPolicyName != "rp" {
		t.Fatalf("create database = %#v", cd)
	}

	st, err = ParseStatement(`CREATE CONTINUOUS QUERY cq ON db RESAMPLE EVERY 1m FOR 1h BEGIN SELECT mean(v) INTO db.rp.:MEASUREMENT FROM /.*/ GROUP BY time(30m) END`)
	if err != nil {
		t.Fatal(err)
	}
	cq := st.(*CreateContinuousQueryStatement)
	if cq.ResampleEvery != time.Minute || cq.ResampleFor != time.Hour || !cq.Source.Target.Measurement.IsTarget {
		t.Fatalf("cq = %#v", cq)
	}

	e, err := ParseExpr(`a + b * c = 1 OR d`)
	if err != nil {
		t.Fatal(err)
	}
	want := &BinaryExpr{Op: OR,
		LHS: &BinaryExpr{Op: EQ,
			LHS: &BinaryExpr{Op: ADD, LHS: &VarRef{Val: "a"}, RHS: &BinaryExpr{Op: MUL, LHS: &VarRef{Val: "b"}, RHS: &VarRef{Val: "c"}}},
			RHS: &IntegerLiteral{Val: 1}},
		RHS: &VarRef{Val: "d"}}
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("ParseExpr precedence: got %s", e)
	}
	e, err = ParseExpr(`host =~ /^a\/b$/`)
	if err != nil {
		t.Fatal(err)
	}
	if re := e.(*BinaryExpr).RHS.(*RegexLiteral).Val; re.String() != regexp.MustCompile(`^a/b$`).String() {
		t.Fatalf("regex = %v", re)
	}
}

// TestParseQuery_Invalid checks InfluxDB's exact error texts and positions.
func TestParseQuery_Invalid(t *testing.T) {
	tests := []struct {
		s   string
		err string
	}{
		{`SELEC * FROM cpu`, `found SELEC, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL at line 1, char 1`},
		{`SELECT usage_user FROM cpu LIMIT 1; SELECT FROM`, `found FROM, expected identifier, string, number, bool at line 1, char 44`},
		{`SELECT usage_user FROM cpu ORDER BY usage_user`, `only ORDER BY time supported at this time`},
		{`SELECT x FROM m ORDER BY time, host`, `only ORDER BY time supported at this time`},
		{`CREATE CONTINUOUS QUERY cq_bad ON oracle_scratch BEGIN SELECT mean(v) INTO m1_mean FROM m1 END`, `found m1, expected GROUP BY time(...) at line 1, char 89`},
		{`CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT mean(v) FROM m1 GROUP BY time(1h) END`, `found FROM, expected INTO at line 1, char 55`},
		{"SELECT x\nFROM m\nWHERE", `found EOF, expected identifier, string, number, bool at line 3, char 7`},
		{`SELECT x`, `found EOF, expected FROM at line 1, char 10`},
		{`SELECT x FROM`, `found EOF, expected identifier at line 1, char 15`},
		{`SELECT x FROM m garbage`, `found garbage, expected ; at line 1, char 17`},
		{`SELECT x FROM m LIMIT -1`, `found -, expected integer at line 1, char 23`},
		{`SELECT x FROM m LIMIT 99999999999999999999`, `unable to parse integer at line 1, char 23`},
		{`SELECT mean (x) FROM m`, `found (, expected FROM at line 1, char 13`},
		{`SELECT x FROM m WHERE a = 'open`, `found unterminated string at line 1, char 27`},
		{`SELECT x FROM m WHERE a = 'bad \q'`, `found invalid escape \q at line 1, char 27`},
		{`SELECT x FROM m WHERE a =~ 'x'`, `found x, expected regex at line 1, char 28`},
		{`SELECT x FROM m WHERE a =~ /(/`, "error parsing regexp: missing closing ): `(` at line 1, char 28"},
		{`SELECT x FROM m WHERE a =~ /open`, `found unterminated regex at line 1, char 28`},
		{`SELECT x FROM m WHERE time > now() - 10x`, `invalid duration at line 1, char 38`},
		{`SELECT x FROM m WHERE a = 99999999999999999999`, `unable to parse integer at line 1, char 27`},
		{`SELECT x::nope FROM m`, `found nope, expected float, integer, string, boolean, field, tag at line 1, char 11`},
		{`SELECT *::float FROM m`, `wildcard can only be cast to field or tag at line 1, char 8`},
		{`SELECT f(a b) FROM m`, `found b, expected ,, ) at line 1, char 12`},
		{`SELECT x FROM a.b.c.d`, `too many segments in measurement name at line 1, char 20`},
		{`SELECT x FROM m GROUP BY time(1m) fill()`, `fill requires an argument, e.g.: 0, null, none, previous, linear at line 1, char 40`},
		{`SELECT x FROM m GROUP BY time(1m) fill(bogus)`, `fill requires an argument, e.g.: 0, null, none, previous, linear at line 1, char 40`},
		{`SELECT x FROM m tz('Nowhere/City')`, `unable to find time zone Nowhere/City at line 1, char 20`},
		{`SELECT usage_user FROM cpu LIMIT 1 tz('Nope/Zone')`, `unable to find time zone Nope/Zone at line 1, char 39`},
		{`SELECT x FROM m ORDER BY 1`, `found 1, expected identifier, ASC, DESC at line 1, char 26`},
		{`SELECT name FROM m`, `found name, expected identifier, string, number, bool at line 1, char 8`},
		{`SHOW`, `found EOF, expected CONTINUOUS, DATABASES, DIAGNOSTICS, FIELD, GRANTS, MEASUREMENT, MEASUREMENTS, QUERIES, RETENTION, SERIES, STATS, TAG, USERS at line 1, char 6`},
		{`SHOW STATS FOR runtime`, `found runtime, expected string at line 1, char 16`},
		{`SHOW TAG VALUES FROM cpu`, `found EOF, expected WITH at line 1, char 26`},
		{`SHOW TAG VALUES WITH KEY > x`, `found >, expected =, !=, =~, !~, IN at line 1, char 26`},
		{`SHOW TAG VALUES WITH KEY IN (a b)`, `found b, expected ,, ) at line 1, char 32`},
		{`SHOW MEASUREMENTS WITH MEASUREMENT != x`, `found !=, expected =, =~ at line 1, char 36`},
		{`SHOW TAG FOO`, `found FOO, expected KEYS, VALUES at line 1, char 10`},
		{`SHOW SERIES EXACT`, `found EOF, expected CARDINALITY at line 1, char 19`},
		{`CREATE TABLE x`, `found TABLE, expected CONTINUOUS, DATABASE, USER, RETENTION at line 1, char 8`},
		{`CREATE DATABASE db WITH`, `found EOF, expected DURATION, REPLICATION, SHARD, NAME at line 1, char 25`},
		{`CREATE DATABASE db WITH REPLICATION 0`, `invalid value 0: must be 1 <= n <= 2147483647 at line 1, char 37`},
		{`CREATE RETENTION POLICY rp ON db DURATION 1d`, `found EOF, expected REPLICATION at line 1, char 45`},
		{`CREATE RETENTION POLICY rp ON db DURATION x REPLICATION 1`, `found x, expected duration at line 1, char 43`},
		{`ALTER RETENTION POLICY rp ON db`, `found EOF, expected DURATION, REPLICATION, SHARD, DEFAULT at line 1, char 33`},
		{`ALTER TABLE`, `found TABLE, expected RETENTION at line 1, char 7`},
		{`DROP TABLE x`, `found TABLE, expected CONTINUOUS, DATABASE, MEASUREMENT, RETENTION, SERIES, USER at line 1, char 6`},
		{`DROP SERIES`, `found EOF, expected FROM, WHERE at line 1, char 13`},
		{`DELETE`, `found EOF, expected FROM, WHERE at line 1, char 8`},
		{`DROP DATABASE`, `found EOF, expected identifier at line 1, char 15`},
		{`EXPLAIN SHOW DATABASES`, `found SHOW, expected SELECT at line 1, char 9`},
		{`KILL QUERY x`, `found x, expected integer at line 1, char 12`},
		{`CREATE CONTINUOUS QUERY cq ON db RESAMPLE BEGIN SELECT mean(v) INTO x FROM m GROUP BY time(1m) END`, `found BEGIN, expected EVERY, FOR at line 1, char 43`},
		{`CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT mean(v) INTO x FROM m GROUP BY time(1m)`, `found EOF, expected END at line 1, char 86`},
		{`SELECT x FROM m WHERE a = "unterminated`, `found unterminated string at line 1, char 27`},
		{`SELECT $ FROM m`, `found $, expected identifier, string, number, bool at line 1, char 8`},
		{`SELECT - - 1 FROM m`, `found -, expected identifier, number, duration, ( at line 1, char 10`},
		{"SELECT x FROM m;\n\n  SELEC", `found SELEC, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL at line 3, char 3`},
		{"SELECT 'µµµ' + ", `found EOF, expected identifier, string, number, bool at line 1, char 16`},
		{"SELECT " + strings.Repeat("(", 600) + "x", `query nested too deeply at line 1, char 507`},
		{"SELECT " + strings.Repeat("f(", 600) + "x", `query nested too deeply at line 1, char 1006`},
		{"SELECT x FROM " + strings.Repeat("(SELECT x FROM ", 600) + "m", `query nested too deeply at line 1, char 7493`},
	}
	for i, tt := range tests {
		name := tt.s
		if len(name) > 60 {
			name = strconv.Itoa(i)
		}
		t.Run(name, func(t *testing.T) {
			_, err := ParseQuery(tt.s)
			if err == nil {
				t.Fatalf("ParseQuery(%q) succeeded, want %q", tt.s, tt.err)
			}
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error type %T, want *ParseError", err)
			}
			if err.Error() != tt.err {
				t.Fatalf("ParseQuery(%q) error:\n got %s\nwant %s", tt.s, err, tt.err)
			}
		})
	}
}

func TestParseQuery_Statements(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"", 0, ""},
		{";;", 0, ""},
		{"SHOW DATABASES;", 1, "SHOW DATABASES"},
		{"SHOW DATABASES; SHOW USERS", 2, "SHOW DATABASES;\nSHOW USERS"},
		{";SHOW DATABASES;;SHOW USERS;", 2, "SHOW DATABASES;\nSHOW USERS"},
	}
	for _, tt := range tests {
		q, err := ParseQuery(tt.s)
		if err != nil {
			t.Fatalf("ParseQuery(%q): %v", tt.s, err)
		}
		if len(q.Statements) != tt.n || q.String() != tt.want {
			t.Fatalf("ParseQuery(%q) = %d statements %q, want %d %q", tt.s, len(q.Statements), q.String(), tt.n, tt.want)
		}
	}
	if _, err := ParseStatement("SHOW USERS; SHOW USERS"); err == nil || err.Error() != "found SHOW, expected EOF at line 1, char 13" {
		t.Fatalf("ParseStatement with two statements: %v", err)
	}
	if _, err := ParseExpr("a = 1 b"); err == nil || err.Error() != "found b, expected EOF at line 1, char 7" {
		t.Fatalf("ParseExpr trailing: %v", err)
	}
}
