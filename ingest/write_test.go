package ingest

import (
	"bytes"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strata-db/strata/ingest/lineprotocol"
	"github.com/strata-db/strata/storage"
)

func openStore(t testing.TB) *storage.Engine {
	t.Helper()
	e, err := storage.Open(storage.Options{Dir: t.TempDir(), NoSync: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	if err := e.CreateDatabase("db", nil); err != nil {
		t.Fatal(err)
	}
	return e
}

func post(h *Handler, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/write?db=db", bytes.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeV1(rec, req)
	return rec
}

// countStored counts the values stored in every measurement.
func countStored(t testing.TB, e *storage.Engine) int {
	b, err := e.Bucket("db", "")
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := e.Measurements(b)
	n := 0
	for _, m := range ms {
		e.ReadSeries(b, m, nil, math.MinInt64, math.MaxInt64, func(s *storage.SeriesData) error {
			for _, c := range s.Fields {
				n += c.Len()
			}
			return nil
		})
	}
	return n
}

// FuzzWriteHandler sends arbitrary bodies through the whole write path (handler,
// parser, storage): it must never panic, must answer 204 or 400, and must store
// exactly what the parser accepts, no more.
func FuzzWriteHandler(f *testing.F) {
	for _, seed := range []string{
		"m,t=a v=1 1\nm v=2 2",
		"m v=1,s=\"x\",b=t,i=3i,u=4u 5\nbad\n",
		"m v=1 1\nm v=\"conflict\" 2\n",
		"# comment\n\nm,t=a\\ b v=-1.5e3 -5\r\n",
		"m time=1 1\nm,time=x v=1 1\n",
		strings.Repeat("m,h=x v=1 1\n", 50),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 1<<16 {
			return
		}
		e := openStore(t)
		h := NewHandler(e, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		rec := post(h, body)
		if rec.Code != http.StatusNoContent && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		// The store may hold fewer values than the parser accepted (type conflicts,
		// duplicates collapse) but never more.
		p := lineprotocol.NewParser()
		p.Reset(body, lineprotocol.Nanosecond, 0)
		accepted := 0
		for {
			pt, err := p.Next()
			if err == io.EOF {
				break
			}
			if err == nil {
				accepted += len(pt.Fields)
			}
		}
		if got := countStored(t, e); got > accepted {
			t.Fatalf("stored %d values, the parser accepted only %d", got, accepted)
		}
		if rec.Code == http.StatusNoContent && accepted == 0 && len(bytes.TrimSpace(body)) > 0 && !onlyComments(body) {
			t.Fatalf("204 for a body without a valid point: %q", body)
		}
	})
}

func onlyComments(b []byte) bool {
	for _, l := range bytes.Split(b, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' {
			return false
		}
	}
	return true
}

// BenchmarkWriteHandler measures the write path below HTTP: parse, validate,
// WAL (no fsync), head — for 5,000-line TSBS-shaped batches.
func BenchmarkWriteHandler(b *testing.B) {
	e := openStore(b)
	h := NewHandler(e, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var body bytes.Buffer
	for i := 0; i < 5000; i++ {
		body.WriteString("cpu,hostname=host_")
		body.WriteString(string(rune('a' + i%26)))
		body.WriteString(",region=eu-west-1,datacenter=eu-west-1a,rack=87,os=Ubuntu16.10,arch=x86,team=NYC,service=9,service_version=1,service_environment=staging usage_user=58.1,usage_system=2.2,usage_idle=24.75,usage_nice=61.23,usage_iowait=22.37,usage_irq=63.57,usage_softirq=6.11,usage_steal=44.86,usage_guest=80.74,usage_guest_nice=38.93 ")
		body.WriteString(strings.TrimSpace(strings.Repeat(" ", 0)))
		body.WriteString("14516064")
		body.WriteString(string(rune('0' + i%10)))
		body.WriteString("0000000000\n")
	}
	data := body.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if rec := post(h, data); rec.Code != http.StatusNoContent {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(b.N*50000)/b.Elapsed().Seconds(), "values/s")
}
