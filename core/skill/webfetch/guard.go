package webfetch

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// Resolver looks up the addresses of a host name. *net.Resolver satisfies
// it; tests fill it with a fixed map so that a name can point anywhere.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// RefusedError reports a request the skill would not send, either because
// the address it would reach is not public or because the URL is not one it
// fetches. The model should not retry the same URL.
type RefusedError struct {
	// Addr is the refused address; the zero Addr when the refusal is about
	// the URL rather than an address.
	Addr netip.Addr
	// Reason says why, as a sentence fragment.
	Reason string
}

// Error returns the refusal as a sentence.
func (e *RefusedError) Error() string {
	return "refused: " + e.Reason
}

var (
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	sharedNAT   = netip.MustParsePrefix("100.64.0.0/10")
	reserved    = netip.MustParsePrefix("240.0.0.0/4")
	nat64       = netip.MustParsePrefix("64:ff9b::/96")
)

// CheckAddr is the address guard: it returns a *RefusedError when addr is
// loopback, private, link-local (which holds the cloud metadata address
// 169.254.169.254), unspecified, multicast, carrier-grade NAT, reserved or
// broadcast, also when such an IPv4 address is written in an IPv4-mapped or
// NAT64 IPv6 form. It returns nil for a public address.
func CheckAddr(addr netip.Addr) error {
	ip := addr.Unmap()
	if ip.Is6() && nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}

	kind := addrKind(ip)
	if kind == "" {
		return nil
	}

	return &RefusedError{Addr: addr, Reason: fmt.Sprintf("%s is %s address", addr, kind)}
}

// addrKind names the class of a non-public address, with its article, or
// returns "" for a public one.
func addrKind(ip netip.Addr) string {
	switch {
	case !ip.IsValid():
		return "an invalid"
	case ip.IsUnspecified() || thisNetwork.Contains(ip):
		return "an unspecified"
	case ip.IsLoopback():
		return "a loopback"
	case ip.IsPrivate():
		return "a private"
	case ip.IsLinkLocalUnicast():
		return "a link-local"
	case ip.IsMulticast():
		return "a multicast"
	case sharedNAT.Contains(ip):
		return "a carrier-grade NAT"
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "a broadcast"
	case reserved.Contains(ip):
		return "a reserved"
	}

	return ""
}

// dial resolves the host of addr, checks every address it resolves to, and
// then connects to a checked address itself, so that a second DNS answer
// cannot slip another address in between the check and the connection.
func (s *Skill) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("split address %q: %w", addr, err)
	}

	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("parse port %q: %w", portText, err)
	}

	ips, err := s.lookup(ctx, host)
	if err != nil {
		return nil, err
	}

	targets := make([]netip.AddrPort, 0, len(ips))
	for _, ip := range ips {
		target := netip.AddrPortFrom(ip, uint16(port))
		if err := s.check(target); err != nil {
			return nil, err
		}

		targets = append(targets, target)
	}

	var d net.Dialer
	for _, target := range targets {
		conn, dialErr := d.DialContext(ctx, network, target.String())
		if dialErr == nil {
			return conn, nil
		}

		err = dialErr
	}

	return nil, err
}

// lookup returns the addresses of host: the host itself when it is an IP
// literal, otherwise the resolver's answer.
func (s *Skill) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}

	answers, err := s.resolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", host, err)
	}

	if len(answers) == 0 {
		return nil, fmt.Errorf("look up %s: no addresses", host)
	}

	ips := make([]netip.Addr, 0, len(answers))
	for _, a := range answers {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			return nil, fmt.Errorf("look up %s: bad address %v", host, a.IP)
		}

		ips = append(ips, ip.Unmap())
	}

	return ips, nil
}

// check applies the guard the options chose to one address about to be
// dialled.
func (s *Skill) check(target netip.AddrPort) error {
	switch {
	case s.opts.AllowPrivate:
		return nil
	case s.opts.Check != nil:
		return s.opts.Check(target)
	}

	return CheckAddr(target.Addr())
}
