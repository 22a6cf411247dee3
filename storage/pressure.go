package storage

// Overloaded reports whether a write now would wait for room: the in-memory
// head is past twice its budget while a flush runs (Write stalls), or flushes
// are failing with the head past its budget (Write is about to refuse).
// Consumers that can hold back (Kafka) pause fetching instead of piling up
// records they cannot write yet.
func (e *Engine) Overloaded() bool {
	e.commitMu.Lock() // stalled writers wait on a Cond, not holding it
	defer e.commitMu.Unlock()
	n := e.activeBytes()
	return e.flushing != nil && n >= 2*e.opts.HeadMaxBytes || e.flushFailing != nil && n >= e.opts.HeadMaxBytes
}
