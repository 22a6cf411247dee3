package auth

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/strata-db/strata/query/influxql"
)

// memPersister is a Persister in memory.
type memPersister map[string][]byte

func (m memPersister) PutUserRecord(n string, r []byte) error { m[n] = r; return nil }
func (m memPersister) DeleteUserRecord(n string) error        { delete(m, n); return nil }
func (m memPersister) UserRecords() (map[string][]byte, error) {
	out := map[string][]byte{}
	for k, v := range m {
		out[k] = v
	}
	return out, nil
}

func newTestService(t *testing.T, p memPersister, enabled bool) *Service {
	t.Helper()
	s, err := New(p, Options{Enabled: enabled, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestServiceUsers(t *testing.T) {
	p := memPersister{}
	s := newTestService(t, p, true)
	if err := s.CreateUser("bob", "pw", false, true); err != nil {
		t.Fatal(err)
	}
	if s.UserCount() != 1 {
		t.Fatalf("first user not created: %d", s.UserCount())
	}
	if err := s.CreateUser("eve", "pw", true, true); !errors.Is(err, ErrNotFirstUser) {
		t.Fatalf("second onlyFirst create: %v", err)
	}
	if err := s.CreateUser("admin", "s3cret", true, false); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser("admin", "s3cret", true, false); err != nil {
		t.Fatalf("same user again: %v (1.x accepts it)", err)
	}
	if err := s.CreateUser("admin", "other", true, false); !errors.Is(err, ErrUserExists) {
		t.Fatalf("same name, other password: %v", err)
	}
	if err := s.Authenticate("admin", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if err := s.Authenticate("admin", "s3cret"); err != nil { // cached
		t.Fatal(err)
	}
	if err := s.Authenticate("admin", "nope"); !errors.Is(err, ErrAuthFailed) {
		t.Fatal(err)
	}
	if err := s.Authenticate("ghost", "nope"); !errors.Is(err, ErrAuthFailed) {
		t.Fatal(err)
	}
	// A password change invalidates the cached credential at once.
	if err := s.SetPassword("admin", "new"); err != nil {
		t.Fatal(err)
	}
	if err := s.Authenticate("admin", "s3cret"); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("old password after SET PASSWORD: %v", err)
	}
	if err := s.Authenticate("admin", "new"); err != nil {
		t.Fatal(err)
	}
	// The last admin stays while auth is enabled.
	if err := s.DropUser("admin"); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("drop last admin: %v", err)
	}
	if err := s.SetAdmin("admin", false); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("revoke last admin: %v", err)
	}
	if err := s.SetPrivilege("bob", "db", influxql.AllPrivileges); err != nil {
		t.Fatal(err)
	}
	// Everything survives a reload from the records.
	s2 := newTestService(t, p, true)
	if got := s2.Users(); len(got) != 2 || got[0] != (UserInfo{"admin", true}) || got[1] != (UserInfo{"bob", false}) {
		t.Fatalf("reloaded users %+v", got)
	}
	if g, _ := s2.Grants("bob"); len(g) != 1 || g[0] != (Grant{"db", influxql.AllPrivileges}) {
		t.Fatalf("reloaded grants %+v", g)
	}
	if err := s2.Authenticate("admin", "new"); err != nil {
		t.Fatal(err)
	}
	if err := s2.DropUser("bob"); err != nil {
		t.Fatal(err)
	}
	if err := s2.Authenticate("bob", "pw"); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("dropped user: %v", err)
	}
	if err := s2.DropUser("bob"); !errors.Is(err, ErrUserNotFound) {
		t.Fatal(err)
	}
}

func TestCacheBounded(t *testing.T) {
	s, err := New(memPersister{}, Options{BcryptCost: bcrypt.MinCost, CacheSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		name := string(rune('a' + i))
		s.CreateUser(name, "pw", false, false)
		if err := s.Authenticate(name, "pw"); err != nil {
			t.Fatal(err)
		}
		if len(s.cache) > 4 {
			t.Fatalf("cache holds %d > 4", len(s.cache))
		}
	}
}

func TestPrincipal(t *testing.T) {
	s := newTestService(t, memPersister{}, true)
	s.CreateUser("admin", "pw", true, false)
	s.CreateUser("r", "pw", false, false)
	s.SetPrivilege("r", "db", influxql.ReadPrivilege)
	s.SetPrivilege("r", "other", influxql.WritePrivilege)
	admin := &Principal{svc: s, name: "admin"}
	r := &Principal{svc: s, name: "r"}
	boot := &Principal{svc: s, bootstrap: true}
	tests := []struct {
		p    *Principal
		q    string
		want string // "" allowed, else a substring of the error
	}{
		{admin, `DROP DATABASE db`, ""},
		{r, `SELECT * FROM m`, ""},
		{r, `SELECT * FROM other..m`, "requires READ on other"},
		{r, `SELECT * FROM (SELECT * FROM other..m)`, "requires READ on other"},
		{r, `SELECT * INTO m2 FROM m`, "requires WRITE on db"},
		{r, `SELECT * INTO other..m2 FROM m`, ""},
		{r, `SHOW DATABASES`, ""},
		{r, `SHOW MEASUREMENTS ON other`, "requires READ on other"},
		{r, `DELETE FROM m`, "requires WRITE on db"},
		{r, `CREATE DATABASE x`, "r not authorized to execute statement 'CREATE DATABASE x', requires admin privilege"},
		{r, `CREATE USER x WITH PASSWORD 'hunter2'`, "statement 'CREATE USER x WITH PASSWORD [REDACTED]', requires admin"},
		{r, `SHOW USERS`, "requires admin"},
		{boot, `CREATE USER a WITH PASSWORD 'x' WITH ALL PRIVILEGES`, ""},
		{boot, `CREATE USER a WITH PASSWORD 'x'`, "create admin user first"},
		{boot, `CREATE USER a WITH PASSWORD 'x' WITH ALL PRIVILEGES; DROP DATABASE db`, "create admin user first"},
		{boot, `SHOW DATABASES`, "create admin user first"},
	}
	for _, tt := range tests {
		q, err := influxql.ParseQuery(tt.q)
		if err != nil {
			t.Fatal(err)
		}
		err = tt.p.AuthorizeQuery(q, "db")
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s as %q: %v", tt.q, tt.p.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s as %q: %v, want %q", tt.q, tt.p.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("password in %v", err)
		}
	}
	if !r.AuthorizeWrite("other") || r.AuthorizeWrite("db") {
		t.Error("write privileges")
	}
}

// TestServiceHashes: the meta topic's path, where a node applies a hash made
// by another: the password then authenticates, the same record applied
// twice is a no-op, and what is not a bcrypt hash is refused.
func TestServiceHashes(t *testing.T) {
	s := newTestService(t, memPersister{}, true)
	h1, err := s.HashPassword("one")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := s.HashPassword("two")
	for i, c := range []struct {
		do   func() error
		want error // nil: success; errAny: some error
	}{
		{func() error { return s.CreateUserHash("a", h1, true, true) }, nil},
		{func() error { return s.CreateUserHash("a", h1, true, true) }, nil}, // applied again
		{func() error { return s.CreateUserHash("a", h2, true, false) }, ErrUserExists},
		{func() error { return s.CreateUserHash("a", h1, false, false) }, ErrUserExists},
		{func() error { return s.CreateUserHash("b", h2, false, true) }, ErrNotFirstUser},
		{func() error { return s.CreateUserHash("b", []byte("two"), false, false) }, errAny},
		{func() error { return s.CreateUserHash("", h2, false, false) }, ErrUsernameRequired},
		{func() error { return s.Authenticate("a", "one") }, nil},
		{func() error { return s.SetPasswordHash("a", h2) }, nil},
		{func() error { return s.Authenticate("a", "one") }, ErrAuthFailed},
		{func() error { return s.Authenticate("a", "two") }, nil},
		{func() error { return s.SetPasswordHash("nobody", h2) }, ErrUserNotFound},
		{func() error { return s.SetPasswordHash("a", []byte("plain")) }, errAny},
	} {
		err := c.do()
		switch {
		case c.want == errAny && err == nil, c.want != errAny && !errors.Is(err, c.want):
			t.Fatalf("step %d: %v, want %v", i, err, c.want)
		}
	}
	if !s.HasUser("a", "two", true) || s.HasUser("a", "two", false) || s.HasUser("a", "one", true) {
		t.Fatal("HasUser")
	}
}

var errAny = errors.New("any error")

// TestVouched: a user another node authenticated gets this node's own
// privileges, looked up at each check; an unknown user gets none.
func TestVouched(t *testing.T) {
	s := newTestService(t, memPersister{}, true)
	s.CreateUser("admin", "pw", true, false)
	s.CreateUser("r", "pw", false, false)
	s.SetPrivilege("r", "db", influxql.ReadPrivilege)
	for _, name := range []string{"", "nobody"} {
		if p, ok := s.Vouched(name); ok || p != nil {
			t.Errorf("Vouched(%q) = %v, %v: want unknown", name, p, ok)
		}
	}
	p, ok := s.Vouched("r")
	if !ok || p.Name() != "r" || p.Bootstrap() {
		t.Fatalf("Vouched(r) = %+v, %v", p, ok)
	}
	if !p.AuthorizeDatabase(influxql.ReadPrivilege, "db") || p.AuthorizeDatabase(influxql.ReadPrivilege, "other") {
		t.Error("r's grants: READ on db only")
	}
	s.SetPrivilege("r", "db", influxql.NoPrivileges)
	if p.AuthorizeDatabase(influxql.ReadPrivilege, "db") {
		t.Error("a REVOKE applies to a vouched principal at its next check")
	}
}
