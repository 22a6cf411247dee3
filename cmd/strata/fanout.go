package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-db/strata/cluster"
)

// newFanout is the query fan-out of --peers or --peers-dns (nil: neither).
// validateFanout has checked the flags.
func newFanout(cfg serveConfig, reg prometheus.Registerer) *cluster.Client {
	var peers cluster.Peers
	switch {
	case cfg.peers != "":
		static, _ := cluster.ParseStatic(cfg.peers)
		peers = static
	case cfg.peersDNS != "":
		peers = &cluster.DNSPeers{Name: cfg.peersDNS, Port: cfg.peersPort, Self: selfAddrs()}
	default:
		return nil
	}
	return cluster.New(cluster.Options{Peers: peers, Timeout: cfg.peerTimeout, Reg: reg, Scheme: schemeOf(cfg), Secret: cfg.clusterSecret})
}

func schemeOf(cfg serveConfig) string {
	if cfg.tlsCert != "" {
		return "https"
	}
	return "http"
}

// validateFanout checks the fan-out flags before the server starts.
func validateFanout(cfg serveConfig) error {
	if cfg.peers != "" && cfg.peersDNS != "" {
		return fmt.Errorf("--peers and --peers-dns exclude each other")
	}
	if _, err := cluster.ParseStatic(cfg.peers); err != nil {
		return fmt.Errorf("--peers: %v", err)
	}
	if cfg.peerTimeout < 0 {
		return fmt.Errorf("--peer-timeout must not be negative")
	}
	return nil
}

// loadClusterSecret reads --cluster-secret-file into cfg.clusterSecret and
// checks the combination with the peers and authentication: a set whose
// nodes authenticate users must sign its internal requests, or the internal
// endpoint would be a way around the users' privileges.
func loadClusterSecret(cfg *serveConfig, log *slog.Logger) error {
	fanout := cfg.peers != "" || cfg.peersDNS != ""
	if cfg.clusterSecretFile != "" {
		b, err := os.ReadFile(cfg.clusterSecretFile)
		if err != nil {
			return fmt.Errorf("--cluster-secret-file: %w", err)
		}
		// A trailing newline (echo, a Kubernetes Secret written by hand) is
		// not part of the secret.
		b = bytes.TrimRight(b, " \t\r\n")
		if len(b) < cluster.MinSecretLen {
			return fmt.Errorf("--cluster-secret-file %s: %d bytes, want at least %d (e.g. head -c 32 /dev/urandom | base64)", cfg.clusterSecretFile, len(b), cluster.MinSecretLen)
		}
		cfg.clusterSecret = cluster.Secret(b)
		return nil
	}
	switch {
	case fanout && cfg.authEnabled:
		return fmt.Errorf("--auth-enabled with --peers or --peers-dns needs --cluster-secret-file: the nodes' internal requests must be signed, or any client could read every database through POST %s", cluster.Path)
	case fanout:
		log.Warn("query fan-out without --cluster-secret-file: internal requests are not signed, and any client that reaches this node's port can read every database through " + cluster.Path)
	}
	return nil
}

// selfAddrs are this machine's interface addresses, left out of the
// --peers-dns answer (a pod's own A record is in its headless service).
func selfAddrs() map[string]bool {
	out := map[string]bool{}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return out
	}
	for _, a := range addrs {
		if ip, _, err := net.ParseCIDR(a.String()); err == nil {
			out[ip.String()] = true
		}
	}
	return out
}
