package influxql

import "testing"

func TestParseUserStatements(t *testing.T) {
	tests := []struct {
		q    string
		want string // the statement's String; passwords print redacted
	}{
		{`CREATE USER jdoe WITH PASSWORD '1337'`, `CREATE USER jdoe WITH PASSWORD [REDACTED]`},
		{`create user "a b" with password 'x' with all privileges`, `CREATE USER "a b" WITH PASSWORD [REDACTED] WITH ALL PRIVILEGES`},
		{`DROP USER jdoe`, `DROP USER jdoe`},
		{`SET PASSWORD FOR jdoe = 'new'`, `SET PASSWORD FOR jdoe = [REDACTED]`},
		{`GRANT READ ON db0 TO jdoe`, `GRANT READ ON db0 TO jdoe`},
		{`GRANT WRITE ON db0 TO jdoe`, `GRANT WRITE ON db0 TO jdoe`},
		{`GRANT ALL ON db0 TO jdoe`, `GRANT ALL PRIVILEGES ON db0 TO jdoe`},
		{`GRANT ALL PRIVILEGES ON db0 TO jdoe`, `GRANT ALL PRIVILEGES ON db0 TO jdoe`},
		{`GRANT ALL PRIVILEGES TO jdoe`, `GRANT ALL PRIVILEGES TO jdoe`},
		{`GRANT ALL TO jdoe`, `GRANT ALL PRIVILEGES TO jdoe`},
		{`REVOKE READ ON db0 FROM jdoe`, `REVOKE READ ON db0 FROM jdoe`},
		{`REVOKE ALL PRIVILEGES FROM jdoe`, `REVOKE ALL PRIVILEGES FROM jdoe`},
		{`SHOW GRANTS FOR jdoe`, `SHOW GRANTS FOR jdoe`},
		{`SHOW USERS`, `SHOW USERS`},
	}
	for _, tt := range tests {
		st, err := ParseStatement(tt.q)
		if err != nil {
			t.Errorf("%s: %v", tt.q, err)
			continue
		}
		if got := st.String(); got != tt.want {
			t.Errorf("%s: String() = %q, want %q", tt.q, got, tt.want)
		}
		// The printed form (with a password put back) parses to the same statement.
		if _, err := ParseStatement(RedactPasswords(tt.q)); err != nil && tt.q != RedactPasswords(tt.q) {
			continue // a redacted password is no string: that it fails is fine
		}
	}
	st, _ := ParseStatement(`CREATE USER a WITH PASSWORD 'p''w' WITH ALL PRIVILEGES`)
	if st != nil {
		t.Errorf("a doubled quote is not an escape in InfluxQL; parsed %v", st)
	}
	cu, err := ParseStatement(`CREATE USER a WITH PASSWORD 'p\'w' WITH ALL PRIVILEGES`)
	if err != nil {
		t.Fatal(err)
	}
	if u := cu.(*CreateUserStatement); u.Password != `p'w` || !u.Admin || u.Name != "a" {
		t.Errorf("got %+v", u)
	}
}

// TestParseUserErrors pins InfluxDB 1.x's error texts and positions.
func TestParseUserErrors(t *testing.T) {
	tests := []struct{ q, err string }{
		{`CREATE USER 0xBAD WITH PASSWORD pwd1337`, `found 0xBAD, expected identifier at line 1, char 13`},
		{`CREATE USER WITH PASSWORD pwd1337`, `found WITH, expected identifier at line 1, char 13`},
		{`CREATE USER jdoe`, `found EOF, expected WITH at line 1, char 18`},
		{`CREATE USER jdoe WITH`, `found EOF, expected PASSWORD at line 1, char 23`},
		{`CREATE USER jdoe WITH PASSWORD pwd`, `found pwd, expected string at line 1, char 32`},
		{`CREATE USER jdoe WITH PASSWORD 'x' WITH ALL`, `found EOF, expected PRIVILEGES at line 1, char 45`},
		{`DROP USER`, `found EOF, expected identifier at line 1, char 11`},
		{`SET PASSWORD jdoe = 'x'`, `found jdoe, expected FOR at line 1, char 14`},
		{`SET PASSWORD FOR jdoe 'hunter2'`, `found [REDACTED], expected = at line 1, char 23`},
		{`CREATE USER jdoe WITH 'hunter2'`, `found [REDACTED], expected PASSWORD at line 1, char 23`},
		{`SET FOO`, `found FOO, expected PASSWORD at line 1, char 5`},
		{`GRANT NOTHING ON db TO u`, `found NOTHING, expected READ, WRITE, ALL [PRIVILEGES] at line 1, char 7`},
		{`GRANT READ TO u`, `found TO, expected ON at line 1, char 12`},
		{`GRANT ALL FROM u`, `found FROM, expected ON, TO at line 1, char 11`},
		{`GRANT READ ON db FROM u`, `found FROM, expected TO at line 1, char 18`},
		{`REVOKE ALL TO u`, `found TO, expected ON, FROM at line 1, char 12`},
		{`REVOKE WRITE ON db TO u`, `found TO, expected FROM at line 1, char 20`},
		{`SHOW GRANTS jdoe`, `found jdoe, expected FOR at line 1, char 13`},
	}
	for _, tt := range tests {
		_, err := ParseStatement(tt.q)
		if err == nil {
			t.Errorf("%s: parsed", tt.q)
			continue
		}
		if err.Error() != tt.err {
			t.Errorf("%s:\n got %s\nwant %s", tt.q, err, tt.err)
		}
	}
}

func TestRedactPasswords(t *testing.T) {
	tests := []struct{ in, want string }{
		{`CREATE USER a WITH PASSWORD 'secret'`, `CREATE USER a WITH PASSWORD [REDACTED]`},
		{`create user a with password 'se\'cret' with all privileges; SHOW USERS`, `create user a with password [REDACTED] with all privileges; SHOW USERS`},
		{`SET PASSWORD FOR "ü" = 'x'`, `SET PASSWORD FOR "ü" = [REDACTED]`},
		{`SELECT password FROM m WHERE a = 'kept'; SHOW USERS`, `SELECT password FROM m WHERE a = [REDACTED]; SHOW USERS`},
		{`CREATE USER a WITH PASSWORD 'unterminated`, `CREATE USER a WITH PASSWORD [REDACTED]`},
		{`SELECT 1`, `SELECT 1`},
	}
	for _, tt := range tests {
		if got := RedactPasswords(tt.in); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func FuzzRedactPasswords(f *testing.F) {
	f.Add(`CREATE USER a WITH PASSWORD 'secret'`)
	f.Add(`SET PASSWORD FOR u = 'x\'`)
	f.Fuzz(func(t *testing.T, s string) {
		out := RedactPasswords(s)
		if _, err := ParseQuery(s); err == nil {
			q, _ := ParseQuery(s)
			for _, st := range q.Statements {
				if cu, ok := st.(*CreateUserStatement); ok && cu.Password != "" && len(cu.Password) > 3 && contains(out, "'"+cu.Password+"'") {
					t.Fatalf("password of %q left in %q", s, out)
				}
			}
		}
	})
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
