package cluster

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
)

// Peers names the other nodes of the set.
type Peers interface {
	Resolve(ctx context.Context) ([]string, error) // host:port of each
}

// StaticPeers is a fixed list, from --peers.
type StaticPeers []string

// ParseStatic reads a comma-separated list of host:port.
func ParseStatic(list string) (StaticPeers, error) {
	var out StaticPeers
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(p); err != nil {
			return nil, fmt.Errorf("peer %q: %w", p, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func (s StaticPeers) Resolve(context.Context) ([]string, error) { return s, nil }

// DNSPeers resolves a name to the addresses of the set's nodes on every
// query: a Kubernetes headless service has one A record per ready pod, so a
// node that joins or leaves is seen at the next query. Self, the addresses
// of this node, are left out.
type DNSPeers struct {
	Name string // the service name, or name:port
	Port string // when Name has no port
	Self map[string]bool
	// Lookup is net.DefaultResolver.LookupHost unless set (tests).
	Lookup func(ctx context.Context, host string) ([]string, error)
}

func (d *DNSPeers) Resolve(ctx context.Context) ([]string, error) {
	host, port := d.Name, d.Port
	if h, p, err := net.SplitHostPort(d.Name); err == nil {
		host, port = h, p
	}
	if port == "" {
		return nil, fmt.Errorf("--peers-dns %s: no port (give name:port or --peers-port)", d.Name)
	}
	lookup := d.Lookup
	if lookup == nil {
		lookup = net.DefaultResolver.LookupHost
	}
	addrs, err := lookup(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("resolving peers %s: %w", host, err)
	}
	sort.Strings(addrs)
	var out []string
	for _, a := range addrs {
		hp := net.JoinHostPort(a, port)
		if !d.Self[hp] && !d.Self[a] {
			out = append(out, hp)
		}
	}
	return out, nil
}
