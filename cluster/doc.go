// Package cluster is the query fan-out of a set of Strata nodes sharing a
// Kafka consumer group (docs/scale-out.md): who the other nodes are (a static
// --peers list, or a Kubernetes headless service's addresses resolved on each
// query), and the HTTP client that sends them a SELECT for partial execution
// (POST /internal/v2/partial, docs/format/node-protocol.md) and decodes their
// answers, and the signature of those requests with the set's shared
// secret (sign.go: the sender signs, the endpoint verifies). It implements
// query.Fanout; the engine never sees HTTP.
package cluster
