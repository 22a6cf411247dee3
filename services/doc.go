// Package services owns the lifecycle of Strata's background work: block
// merging, retention enforcement and, as they land, continuous queries and
// stream consumers. A Service is a loop that runs until its context ends; a
// Group starts services in order and stops them in reverse, so a service may
// rely on the ones started before it for as long as it runs.
//
// The server builds one Group (cmd/strata/serve.go) and is the only place that
// starts or stops background work. To add a service, implement Service in the
// package that owns the work (services/<name> for work that drives the engine,
// such as continuous queries) and Start it from the server's wiring.
//
// This package imports nothing of Strata's: it knows lifecycles, not engines.
package services
