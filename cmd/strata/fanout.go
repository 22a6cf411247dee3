package main

import (
	"fmt"
	"net"

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
	return cluster.New(cluster.Options{Peers: peers, Timeout: cfg.peerTimeout, Reg: reg, Scheme: schemeOf(cfg)})
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
