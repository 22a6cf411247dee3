package ingest

import (
	"errors"
	"time"

	"github.com/strata-db/strata/ingest/deadletter"
	"github.com/strata-db/strata/ingest/lineprotocol"
	"github.com/strata-db/strata/storage"
)

// DeadLetters keeps refused input (package deadletter's Store); offs are the
// source offsets the letters reach, nil for HTTP.
type DeadLetters interface {
	Keep(letters []deadletter.Letter, offs []storage.SourceOffset) error
}

// maxLettersPerRequest bounds the letters one request keeps (and the memory
// they hold until the response): the first thousand of a bad batch tell as much
// as all of them; the dropped count in the answer stays exact.
const maxLettersPerRequest = 1000

// appendLetter adds the refusal of line to letters, copying line, unless the
// request already has maxLettersPerRequest.
func appendLetter(letters []deadletter.Letter, source, db, rp string, line []byte, err error) []deadletter.Letter {
	if len(letters) >= maxLettersPerRequest {
		return letters
	}
	return append(letters, Letter(source, db, rp, line, err, time.Now()))
}

// Letter is the dead letter of line refused with err: a parse error keeps its
// reason without the quoted line (the letter holds the line itself).
func Letter(source, db, rp string, line []byte, err error, received time.Time) deadletter.Letter {
	reason := err.Error()
	var pe *lineprotocol.ParseError
	if errors.As(err, &pe) {
		reason = pe.Reason
	}
	return deadletter.Letter{Source: source, Database: db, RP: rp, Reason: reason,
		Raw: append([]byte(nil), line...), Received: received}
}

// keepLetters stores a request's letters; a failure is logged and counted by
// the store, and does not change the answer (the client has it already).
func (h *Handler) keepLetters(letters []deadletter.Letter) {
	if h.opts.DeadLetters == nil || len(letters) == 0 {
		return
	}
	if err := h.opts.DeadLetters.Keep(letters, nil); err != nil {
		h.log.Warn("dead letters not kept", "letters", len(letters), "err", err)
	}
}
