// Package compaction owns the background work that rewrites what storage holds:
// today, enforcing retention policies (deleting data older than a bucket's
// duration). It drives the storage engine through the small Store interface it
// declares and never imports the server.
package compaction
