// Package metalog keeps the meta state of a Strata node set (databases,
// retention policies, continuous queries, users and privileges) the same on
// every node by a Kafka topic, never by a consensus protocol of Strata's own.
//
// A node that receives a DDL statement publishes it as a record to the meta
// topic (one partition: one total order) and answers once it has applied
// that record from the topic itself (read-your-writes). Every node consumes
// the topic from the offset it last applied, kept in <data-dir>/META_OFFSET,
// and applies each record in order. Applying is idempotent (creating what
// exists with the same settings, dropping what is gone, are no-ops), so a
// crash between applying a record and recording its offset re-applies one
// record harmlessly. The record format is docs/format/meta-log.md.
//
// record.go holds the format, service.go the consumer and the publishing
// Store wrapper.
package metalog
