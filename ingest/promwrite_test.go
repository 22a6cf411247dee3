package ingest

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/strata-db/strata/ingest/deadletter"
	"github.com/strata-db/strata/ingest/promremote"
	"github.com/strata-db/strata/storage"
)

// letterSink collects letters, as the dead-letter store would keep them.
type letterSink struct{ letters []deadletter.Letter }

func (s *letterSink) Keep(l []deadletter.Letter, _ []storage.SourceOffset) error {
	s.letters = append(s.letters, l...)
	return nil
}

// FuzzPromWriteHandler sends arbitrary bodies, and mutated snappy-compressed
// requests, through the remote-write handler and storage: it must never panic,
// must answer 204 or 400 (never a 2xx with something dropped), and a 400 for a
// body that decoded must leave a dead letter.
func FuzzPromWriteHandler(f *testing.F) {
	ts := []promremote.TimeSeries{{
		Labels:  []promremote.Label{{Name: []byte("__name__"), Value: []byte("up")}, {Name: []byte("job"), Value: []byte("x")}},
		Samples: []promremote.Sample{{Value: 1, Timestamp: 1}, {Value: 2, Timestamp: 2}},
	}}
	msg := promremote.AppendRequest(nil, ts)
	f.Add(promremote.Compress(nil, msg), false)
	f.Add(msg, true)
	f.Add([]byte{0x0a, 0x03, 0x0a, 0x01, 0x00}, true)
	f.Add([]byte("garbage"), false)
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		if len(data) > 1<<16 {
			return
		}
		body := data
		if compress {
			body = promremote.Compress(nil, data)
		}
		e := openStore(t)
		sink := &letterSink{}
		h := NewHandler(e, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DeadLetters: sink})
		req := httptest.NewRequest(http.MethodPost, "/api/v1/prom/write?db=db", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("Content-Encoding", "snappy")
		rec := httptest.NewRecorder()
		h.ServeProm(rec, req)
		switch rec.Code {
		case http.StatusNoContent:
		case http.StatusBadRequest:
			if len(sink.letters) == 0 {
				t.Fatalf("400 without a dead letter: %s", rec.Body)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
