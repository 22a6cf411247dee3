// Package resultcache keeps what aggregate SELECTs computed per window
// (encoded partial states, or rendered rows) between queries, and knows
// exactly when one has gone stale.
//
// Two halves, one file each:
//
//	generations.go  Generations, a storage.TouchObserver: every write, DELETE,
//	                DROP SERIES (and so DROP MEASUREMENT and retention expiry,
//	                which are deletes) bumps a sequence number for the
//	                (bucket, measurement, minute) it touched
//	cache.go        Cache, the states by statement shape, group, call and
//	                window, bounded in bytes (LRU), each window stamped with
//	                the sequence number read before its data was
//
// A cached window is served only if no change with a later sequence number
// touched its bucket, measurement and time span; docs/cache.md proves that
// such a window is identical to a fresh computation. The query package owns
// which statements and windows are cacheable and what a key holds
// (query/cached.go for states, query/rowcache.go for rows); this package
// knows nothing of InfluxQL.
package resultcache
