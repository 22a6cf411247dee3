package console

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestVendoredChecksums holds every third-party file to the SHA-256 its
// VERSION file records, so a vendored library cannot change unnoticed.
func TestVendoredChecksums(t *testing.T) {
	libs, err := fs.Glob(assets, "assets/third_party/*/VERSION")
	if err != nil || len(libs) == 0 {
		t.Fatalf("no vendored libraries found: %v", err)
	}
	for _, v := range libs {
		dir := strings.TrimSuffix(v, "VERSION")
		if _, err := fs.Stat(assets, dir+"LICENSE"); err != nil {
			t.Errorf("%s has no LICENSE", dir)
		}
		f, _ := assets.Open(v)
		sc := bufio.NewScanner(f)
		checked := 0
		for sc.Scan() {
			sum, name, ok := strings.Cut(sc.Text(), "  ")
			if !ok || len(sum) != 64 {
				continue
			}
			b, err := fs.ReadFile(assets, dir+name)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			got := sha256.Sum256(b)
			if hex.EncodeToString(got[:]) != sum {
				t.Errorf("%s%s: SHA-256 %x, VERSION says %s", dir, name, got, sum)
			}
			checked++
		}
		f.Close()
		if checked == 0 {
			t.Errorf("%s lists no checksums", v)
		}
	}
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(New(prometheus.NewRegistry(), t.TempDir()))
	defer srv.Close()
	cases := []struct {
		method, path string
		status       int
		contains     string
	}{
		{"GET", "/", 200, `<script src="/console/app.js">`},
		{"GET", "/console/app.js", 200, "strataConsole"},
		{"GET", "/console/third_party/uplot/uPlot.iife.min.js", 200, "uPlot"},
		{"GET", "/console/words.json", 200, `"SELECT"`},
		{"GET", "/console/", 404, ""},
		{"GET", "/nope", 404, ""},
		{"POST", "/nope", 404, ""},
		{"POST", "/", 405, ""},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body strings.Builder
		bufio.NewReader(resp.Body).WriteTo(&body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(body.String(), c.contains) {
			t.Errorf("%s %s: %d, want %d with %q", c.method, c.path, resp.StatusCode, c.status, c.contains)
		}
		if c.status == 200 && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "connect-src 'self'") {
			t.Errorf("%s: no CSP keeping requests on the server", c.path)
		}
	}
	var w words
	resp, _ := http.Get(srv.URL + "/console/words.json")
	json.NewDecoder(resp.Body).Decode(&w)
	resp.Body.Close()
	if len(w.Keywords) < 50 || len(w.Functions) < 30 {
		t.Fatalf("words: %d keywords, %d functions", len(w.Keywords), len(w.Functions))
	}
}
