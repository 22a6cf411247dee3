// Package deadletter keeps what ingest refused: every line or sample that did
// not parse or that storage rejected (type conflict, limits), from any ingest
// path, with its raw bytes (truncated past MaxRaw), the reason, the source and
// the time it was received. Letters are ordinary points in the system database
// "_deadletter" (retention policy "autogen", 7 days unless an operator alters
// it), measurement "rejected", so operators read them with InfluxQL:
//
//	SELECT * FROM "_deadletter"."autogen"."rejected" WHERE time > now() - 1h
//
// and the engine's retention bounds their age. A rate budget bounds their
// volume: past it letters are counted in strata_deadletter_dropped_total and
// not stored, so a flood of bad input cannot fill the disk.
//
// The layout of a letter (tags and fields) is documented in
// docs/format/deadletter.md. Writers are the ingest handlers and the Kafka
// consumer; Replay reads letters back for `strata deadletter replay`.
package deadletter
