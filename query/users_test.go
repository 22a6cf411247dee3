package query

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/strata-db/strata/auth"
	"github.com/strata-db/strata/query/influxql"
)

// fakeUsers records what the user statements asked for.
type fakeUsers struct {
	calls []string
	priv  influxql.Privilege
}

func (f *fakeUsers) log(format string, a ...any) error {
	f.calls = append(f.calls, fmt.Sprintf(format, a...))
	return nil
}
func (f *fakeUsers) CreateUser(n, p string, admin, first bool) error {
	return f.log("create %s %s %v %v", n, p, admin, first)
}
func (f *fakeUsers) DropUser(n string) error         { return f.log("drop %s", n) }
func (f *fakeUsers) SetPassword(n, p string) error   { return f.log("password %s %s", n, p) }
func (f *fakeUsers) SetAdmin(n string, a bool) error { return f.log("admin %s %v", n, a) }
func (f *fakeUsers) SetPrivilege(u, db string, p influxql.Privilege) error {
	return f.log("priv %s %s %s", u, db, p)
}
func (f *fakeUsers) Privilege(u, db string) (influxql.Privilege, error) { return f.priv, nil }
func (f *fakeUsers) DropDatabasePrivileges(db string) error             { return f.log("dropdb %s", db) }
func (f *fakeUsers) Users() []auth.UserInfo                             { return []auth.UserInfo{{Name: "a", Admin: true}} }
func (f *fakeUsers) Grants(u string) ([]auth.Grant, error) {
	return []auth.Grant{{Database: "db", Privilege: influxql.WritePrivilege}}, nil
}

// denyAfter allows the first n statements, then refuses.
type denyAfter struct{ n int }

func (d *denyAfter) AuthorizeStatement(st influxql.Statement, db string) error {
	if d.n <= 0 {
		return errors.New("u not authorized to execute statement '" + st.String() + "', requires admin privilege")
	}
	d.n--
	return nil
}
func (d *denyAfter) AuthorizeDatabase(p influxql.Privilege, db string) bool { return db == "oracle" }
func (d *denyAfter) Bootstrap() bool                                        { return false }

func runAll(t *testing.T, ex *Executor, text string, opts ExecOptions) []*StatementResult {
	t.Helper()
	q, err := influxql.ParseQuery(text)
	if err != nil {
		t.Fatal(err)
	}
	var c Collector
	if err := ex.Execute(context.Background(), q, opts, &c); err != nil {
		t.Fatal(err)
	}
	return c.Results
}

func TestUserStatements(t *testing.T) {
	_, ex := metaFixture(t)
	u := &fakeUsers{priv: influxql.AllPrivileges}
	ex.SetUsers(u)
	res := runAll(t, ex, `CREATE USER a WITH PASSWORD 'pw' WITH ALL PRIVILEGES; GRANT READ ON db TO a; REVOKE READ ON db FROM a;
		REVOKE ALL ON db FROM a; GRANT ALL TO a; REVOKE ALL PRIVILEGES FROM a; SET PASSWORD FOR a = 'x'; DROP USER a`, ExecOptions{})
	for _, r := range res {
		if r.Err != "" {
			t.Fatalf("statement %d: %s", r.StatementID, r.Err)
		}
	}
	want := "create a pw true false|priv a db READ|priv a db WRITE|priv a db NO PRIVILEGES|admin a true|admin a false|password a x|drop a"
	if got := strings.Join(u.calls, "|"); got != want {
		t.Errorf("calls\n got %s\nwant %s", got, want)
	}
	res = runAll(t, ex, `SHOW USERS; SHOW GRANTS FOR a`, ExecOptions{})
	if v := res[0].Series[0].Rows[0].Values; v[0] != "a" || v[1] != true {
		t.Errorf("SHOW USERS %v", v)
	}
	if v := res[1].Series[0].Rows[0].Values; v[0] != "db" || v[1] != "WRITE" {
		t.Errorf("SHOW GRANTS %v", v)
	}
}

// TestStatementAuthorization: the executor asks before every statement, so a
// privilege lost mid-query stops the statements after it, and SHOW DATABASES
// lists only what the requester may read.
func TestStatementAuthorization(t *testing.T) {
	_, ex := metaFixture(t)
	res := runAll(t, ex, `SHOW DATABASES; CREATE DATABASE nope; SHOW DATABASES`, ExecOptions{Auth: &denyAfter{n: 1}})
	if len(res) != 2 {
		t.Fatalf("results %+v", res)
	}
	if rows := res[0].Series[0].Rows; len(rows) != 1 || rows[0].Values[0] != "oracle" {
		t.Errorf("SHOW DATABASES rows %v", rows)
	}
	if want := "error authorizing query: u not authorized to execute statement 'CREATE DATABASE nope', requires admin privilege"; res[1].Err != want {
		t.Errorf("got %q", res[1].Err)
	}
	for _, db := range ex.store.Databases() {
		if db == "nope" {
			t.Error("the refused statement ran")
		}
	}
}

// TestShowQueriesRedacts: the text SHOW QUERIES prints is the parsed query's,
// passwords replaced.
func TestShowQueriesRedacts(t *testing.T) {
	_, ex := metaFixture(t)
	ex.SetUsers(&fakeUsers{})
	res := runAll(t, ex, `CREATE USER a WITH PASSWORD 'hunter2'; SHOW QUERIES`, ExecOptions{})
	text := res[1].Series[0].Rows[0].Values[1].(string)
	if strings.Contains(text, "hunter2") || !strings.Contains(text, "[REDACTED]") {
		t.Errorf("SHOW QUERIES shows %q", text)
	}
}

func TestIsMutation(t *testing.T) {
	for q, want := range map[string]bool{
		`SELECT * FROM m`: false, `SELECT * INTO x FROM m`: true, `SHOW DATABASES`: false, `SHOW GRANTS FOR a`: false,
		`SHOW USERS`: false, `DELETE FROM m`: true, `DROP SERIES FROM m`: true, `CREATE USER a WITH PASSWORD 'x'`: true,
		`GRANT READ ON d TO a`: true, `REVOKE ALL FROM a`: true, `SET PASSWORD FOR a = 'x'`: true, `KILL QUERY 1`: true,
		`EXPLAIN SELECT * INTO x FROM m`: false, `EXPLAIN ANALYZE SELECT * INTO x FROM m`: true,
		`ALTER RETENTION POLICY r ON d DEFAULT`: true, `SHOW QUERIES`: false,
	} {
		st, err := influxql.ParseStatement(q)
		if err != nil {
			t.Fatal(q, err)
		}
		if got := IsMutation(st); got != want {
			t.Errorf("%s: %v", q, got)
		}
	}
}
