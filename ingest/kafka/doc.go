// Package kafka consumes line protocol from Kafka topics into a database,
// exactly once, as a service of the server (services.Service).
//
// Exactly once: every batch handed to storage carries the next offset of each
// partition it read (storage.Batch.SetOffsets), so the points and the
// position are one atomic WAL record (docs/format/source-offsets.md). When a
// partition is assigned, the consumer seeks to the offset storage holds for it
// (AdjustFetchOffsetsFn), not to the group's committed one; commits to Kafka
// are advisory, for lag tooling. Records below the stored offset are skipped,
// so a duplicate delivery is harmless. Rebalances are blocked while a batch
// is being written (BlockRebalanceOnPoll), so a revoked partition's last
// batch is durable, with its offset, before another member can take it.
// Each batch's offsets also name the stored offsets they continue from, so a
// member the group expired while it wrote cannot apply records its successor
// has stored (storage.OffsetConflictError): it rewinds to the stored offsets.
// Large polls are cut into batches of at most 16 MiB of records. After a
// failed write nothing more is written until a flush makes what was applied
// durable (checkpoint), so a later durable record cannot carry offsets past
// a batch whose WAL record was lost.
// Refused lines go to the dead-letter store with offsets of their own stream
// ("kafka-deadletter/<group>/<topic>"), so they too are kept once.
//
// The guarantee holds per Strata data directory. Members of one group on
// different servers (a cluster, docs/cluster-operations.md) each store the
// partitions they own; Kafka commits carry only offsets a member has stored
// (every few seconds, and exactly when a partition is revoked), and a member
// given a partition whose commit is past its own stored offset starts at the
// commit, so a partition moving between nodes is stored once by the group.
// Servers that each keep a full copy of the data use a group each.
//
// consumer.go holds the service and its poll loop, metrics.go what it
// exports; a new message format goes in a decoder beside decodeLines.
package kafka
