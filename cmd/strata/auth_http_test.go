package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// authClient sends requests as one user (u/p parameters; "" sends none).
type authClient struct {
	t          *testing.T
	base       string
	user, pass string
}

func (c authClient) do(method, path string, params url.Values, body string) (int, string) {
	c.t.Helper()
	code, b, _ := c.doHeader(method, path, params, body, nil)
	return code, b
}

func (c authClient) doHeader(method, path string, params url.Values, body string, hdr map[string]string) (int, string, http.Header) {
	c.t.Helper()
	p := url.Values{}
	for k, v := range params {
		p[k] = v
	}
	if c.user != "" {
		p.Set("u", c.user)
		p.Set("p", c.pass)
	}
	req, err := http.NewRequest(method, c.base+path+"?"+p.Encode(), strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestPrivilegeMatrix checks every kind of requester against every path that
// reads or changes something, on a real --auth-enabled server.
func TestPrivilegeMatrix(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.authEnabled = true
	s, base := startTestServer(t, cfg)
	defer s.shutdown(10 * time.Second)

	admin := authClient{t, base, "admin", "adm"}
	q := func(c authClient, method, stmt, db string) (int, string) {
		return c.do(method, "/query", url.Values{"q": {stmt}, "db": {db}}, "")
	}
	mustOK := func(code int, body string) {
		t.Helper()
		if code/100 != 2 || strings.Contains(body, `"error"`) {
			t.Fatalf("setup: %d %s", code, body)
		}
	}
	mustOK(q(admin, "POST", "CREATE USER admin WITH PASSWORD 'adm' WITH ALL PRIVILEGES", ""))
	for _, stmt := range []string{
		"CREATE DATABASE db", "CREATE DATABASE other",
		"CREATE USER reader WITH PASSWORD 'r'", "GRANT READ ON db TO reader",
		"CREATE USER writer WITH PASSWORD 'w'", "GRANT WRITE ON db TO writer",
		"CREATE USER allu WITH PASSWORD 'a'", "GRANT ALL ON db TO allu",
		"CREATE USER nopriv WITH PASSWORD 'n'",
	} {
		mustOK(q(admin, "POST", stmt, ""))
	}
	mustOK(admin.do("POST", "/write", url.Values{"db": {"db"}}, "m v=1 1"))
	mustOK(admin.do("POST", "/write", url.Values{"db": {"other"}}, "m v=2 2"))

	clients := map[string]authClient{
		"admin":  admin,
		"reader": {t, base, "reader", "r"},
		"writer": {t, base, "writer", "w"},
		"all":    {t, base, "allu", "a"},
		"nopriv": {t, base, "nopriv", "n"},
		"anon":   {t, base, "", ""},
	}
	const unauth = "unable to parse authentication credentials"
	type want struct {
		status int
		body   string // substring
	}
	ops := []struct {
		name string
		run  func(c authClient) (int, string)
		want map[string]want
	}{
		{"/write", func(c authClient) (int, string) {
			return c.do("POST", "/write", url.Values{"db": {"db"}}, "m v=3 3")
		}, map[string]want{
			"admin": {204, ""}, "writer": {204, ""}, "all": {204, ""},
			"reader": {403, `"reader\" user is not authorized to write to database \"db\""`},
			"nopriv": {403, `not authorized to write`}, "anon": {401, unauth},
		}},
		{"/api/v2/write", func(c authClient) (int, string) {
			return c.do("POST", "/api/v2/write", url.Values{"bucket": {"db"}}, "m v=4 4")
		}, map[string]want{
			"admin": {204, ""}, "writer": {204, ""}, "all": {204, ""},
			"reader": {403, `"code":"forbidden"`}, "nopriv": {403, `not authorized to write`}, "anon": {401, `"code":"unauthorized"`},
		}},
		{"SELECT", func(c authClient) (int, string) { return q(c, "GET", "SELECT v FROM m", "db") }, map[string]want{
			"admin": {200, `"values"`}, "reader": {200, `"values"`}, "all": {200, `"values"`},
			"writer": {403, "writer not authorized to execute statement 'SELECT v FROM m', requires READ on db"},
			"nopriv": {403, "requires READ on db"}, "anon": {401, unauth},
		}},
		{"SELECT INTO", func(c authClient) (int, string) { return q(c, "POST", "SELECT v INTO m2 FROM m", "db") }, map[string]want{
			"admin": {200, `"written"`}, "all": {200, `"written"`},
			"reader": {403, "requires WRITE on db"}, "writer": {403, "requires READ on db"},
			"nopriv": {403, "requires READ on db"}, "anon": {401, unauth},
		}},
		{"SELECT INTO other db", func(c authClient) (int, string) { return q(c, "POST", "SELECT v INTO other..m3 FROM m", "db") }, map[string]want{
			"admin": {200, `"written"`}, "all": {403, "requires WRITE on other"},
			"reader": {403, "requires WRITE on other"}, "writer": {403, "requires READ on db"},
			"nopriv": {403, "requires READ"}, "anon": {401, unauth},
		}},
		{"subquery from another db", func(c authClient) (int, string) {
			return q(c, "GET", "SELECT v FROM (SELECT v FROM other..m)", "db")
		}, map[string]want{
			"admin": {200, `"values"`}, "reader": {403, "requires READ on other"}, "all": {403, "requires READ on other"},
			"writer": {403, "requires READ on other"}, "nopriv": {403, "requires READ on other"}, "anon": {401, unauth},
		}},
		{"SHOW DATABASES", func(c authClient) (int, string) { return q(c, "GET", "SHOW DATABASES", "") }, map[string]want{
			"admin":  {200, `"values":[["db"],["other"]]`},
			"reader": {200, `"values":[["db"]]}`}, "all": {200, `"values":[["db"]]}`},
			"writer": {200, `"columns":["name"]}`}, "nopriv": {200, `"columns":["name"]}`}, "anon": {401, unauth},
		}},
		{"DDL", func(c authClient) (int, string) { return q(c, "POST", "CREATE DATABASE x", "") }, map[string]want{
			"admin":  {200, `{"results":[{"statement_id":0}]}`},
			"reader": {403, "reader not authorized to execute statement 'CREATE DATABASE x', requires admin privilege"},
			"writer": {403, "requires admin privilege"}, "all": {403, "requires admin privilege"},
			"nopriv": {403, "requires admin privilege"}, "anon": {401, unauth},
		}},
		{"user management", func(c authClient) (int, string) {
			return q(c, "POST", "CREATE USER tmp WITH PASSWORD 'secret9'; DROP USER tmp", "")
		}, map[string]want{
			"admin":  {200, `{"results":[{"statement_id":0},{"statement_id":1}]}`},
			"reader": {403, "statement 'CREATE USER tmp WITH PASSWORD [REDACTED]', requires admin privilege"},
			"writer": {403, "requires admin privilege"}, "all": {403, "requires admin privilege"},
			"nopriv": {403, "requires admin privilege"}, "anon": {401, unauth},
		}},
		{"SHOW USERS", func(c authClient) (int, string) { return q(c, "GET", "SHOW USERS", "") }, map[string]want{
			"admin":  {200, `["admin",true],["allu",false]`},
			"reader": {403, "requires admin privilege"}, "writer": {403, "requires admin"}, "all": {403, "requires admin"},
			"nopriv": {403, "requires admin"}, "anon": {401, unauth},
		}},
	}
	for _, op := range ops {
		for who, c := range clients {
			w, ok := op.want[who]
			if !ok {
				t.Fatalf("%s: no expectation for %s", op.name, who)
			}
			code, body := op.run(c)
			if code != w.status || !strings.Contains(body, w.body) {
				t.Errorf("%s as %s: %d %s\n  want %d containing %s", op.name, who, code, strings.TrimSpace(body), w.status, w.body)
			}
			if strings.Contains(body, "secret9") {
				t.Errorf("%s as %s: password echoed: %s", op.name, who, body)
			}
		}
	}

	// Wrong password, the Token form and Basic auth.
	if code, body := (authClient{t, base, "reader", "bad"}).do("GET", "/query", url.Values{"q": {"SHOW DATABASES"}}, ""); code != 401 || !strings.Contains(body, "authorization failed") {
		t.Errorf("wrong password: %d %s", code, body)
	}
	anon := clients["anon"]
	code, body, _ := anon.doHeader("GET", "/query", url.Values{"q": {"SHOW DATABASES"}}, "", map[string]string{"Authorization": "Token reader:r"})
	if code != 200 || !strings.Contains(body, `[["db"]]`) {
		t.Errorf("Token user:password: %d %s", code, body)
	}
	// A password change and a drop take effect at once (the credential cache
	// is invalidated).
	mustOK(q(admin, "POST", "SET PASSWORD FOR reader = 'r2'", ""))
	if code, _ := q(clients["reader"], "GET", "SHOW DATABASES", ""); code != 401 {
		t.Errorf("old password after SET PASSWORD: %d", code)
	}
	if code, _ := q(authClient{t, base, "reader", "r2"}, "GET", "SHOW DATABASES", ""); code != 200 {
		t.Errorf("new password: %d", code)
	}
	mustOK(q(admin, "POST", "DROP USER reader", ""))
	if code, _ := q(authClient{t, base, "reader", "r2"}, "GET", "SHOW DATABASES", ""); code != 401 {
		t.Errorf("dropped user: %d", code)
	}
	// REVOKE clears bits, as 1.x: ALL minus READ leaves WRITE.
	mustOK(q(admin, "POST", "REVOKE READ ON db FROM allu", ""))
	if _, body := q(admin, "GET", "SHOW GRANTS FOR allu", ""); !strings.Contains(body, `[["db","WRITE"]]`) {
		t.Errorf("grants after REVOKE READ from ALL: %s", body)
	}
	// The last admin cannot be removed while auth is on.
	if _, body := q(admin, "POST", "DROP USER admin", ""); !strings.Contains(body, "last admin") {
		t.Errorf("drop last admin: %s", body)
	}
	// Mutations need POST, whoever asks.
	if code, body := q(admin, "GET", "DROP DATABASE other", ""); code != 405 || !strings.Contains(body, "must be sent with POST") {
		t.Errorf("DROP over GET: %d %s", code, body)
	}
	// The users survive a restart.
	s.shutdown(10 * time.Second)
	s2, base2 := startTestServer(t, cfg)
	defer s2.shutdown(10 * time.Second)
	if code, body := q(authClient{t, base2, "allu", "a"}, "GET", "SHOW GRANTS FOR allu", ""); code != 403 || !strings.Contains(body, "requires admin") {
		t.Errorf("after restart, allu: %d %s", code, body)
	}
	if code, body := q(authClient{t, base2, "admin", "adm"}, "GET", "SHOW USERS", ""); code != 200 || !strings.Contains(body, `[["admin",true],["allu",false],["nopriv",false],["writer",false]]`) {
		t.Errorf("after restart, SHOW USERS: %d %s", code, body)
	}
}

// TestFirstAdminRace: of concurrent unauthenticated requests each creating "the
// first admin", exactly one succeeds; the rest are refused, since a user exists
// by the time they run.
func TestFirstAdminRace(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.authEnabled = true
	s, base := startTestServer(t, cfg)
	defer s.shutdown(10 * time.Second)
	const n = 8
	type res struct {
		code int
		body string
	}
	out := make(chan res, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			req, _ := http.NewRequest("POST", base+"/query?"+url.Values{"q": {fmt.Sprintf("CREATE USER a%d WITH PASSWORD 'pw' WITH ALL PRIVILEGES", i)}}.Encode(), nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				out <- res{0, err.Error()}
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			out <- res{resp.StatusCode, string(b)}
		}(i)
	}
	created := 0
	for i := 0; i < n; i++ {
		r := <-out
		switch {
		case r.code == 200 && r.body == "{\"results\":[{\"statement_id\":0}]}\n":
			created++
		case r.code == 401, r.code == 403, r.code == 200 && strings.Contains(r.body, "create admin user first"):
		default:
			t.Errorf("unexpected answer %d %s", r.code, r.body)
		}
	}
	if created != 1 {
		t.Fatalf("%d first admins created", created)
	}
	logins := 0
	for i := 0; i < n; i++ {
		if code, _ := (authClient{t, base, fmt.Sprintf("a%d", i), "pw"}).do("GET", "/query", url.Values{"q": {"SHOW USERS"}}, ""); code == 200 {
			logins++
		}
	}
	if logins != 1 {
		t.Fatalf("%d users can log in", logins)
	}
}
