package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrRefused is what every *RefusedError matches with errors.Is.
var ErrRefused = errors.New("netguard: refused")

// RefusedError says why a host or address may not be reached. Its text
// names the address and the reason, for server logs; what a client is told
// should not (it would map the private network for them).
type RefusedError struct {
	// Host is the host as written (a name or an IP address in any
	// spelling).
	Host string
	// Addr is the address refused; invalid when the host itself was (a
	// reserved name, or a name that does not resolve).
	Addr netip.Addr
	// Reason says what is wrong: "loopback", "private", "reserved name"…
	Reason string
	// Err is the resolver's error when the host did not resolve.
	Err error
}

// Error names the host, the address and the reason.
func (e *RefusedError) Error() string {
	s := "netguard: refused " + strconv.Quote(e.Host)
	if e.Addr.IsValid() {
		s += " (" + e.Addr.String() + ")"
	}
	s += ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports that a RefusedError is an ErrRefused.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Unwrap returns the resolver's error, if any.
func (e *RefusedError) Unwrap() error { return e.Err }

// URLError is a URL that is not an acceptable target whatever it resolves
// to: its Msg says why in words fit for the client who sent it.
type URLError struct{ Msg string }

// Error returns "netguard: " and the message.
func (e *URLError) Error() string { return "netguard: " + e.Msg }

// Resolver looks up a host name's addresses. *net.Resolver satisfies it;
// tests pass a fake that answers what they need (and can change its answer
// between the check at creation and the dial, as DNS rebinding does).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options configure a Guard. The zero value refuses every non-public
// address and resolves with net.DefaultResolver.
type Options struct {
	// Allow lists the private networks and host names an operator
	// trusts; see ParseAllowList.
	Allow AllowList
	// Resolver looks up host names; nil is net.DefaultResolver.
	Resolver Resolver
	// Dialer connects; nil is a net.Dialer with a 10 s connect timeout.
	// Its Control is replaced by the guard's.
	Dialer *net.Dialer
}

// Guard decides which hosts outbound requests may reach: public addresses,
// plus what its allow-list trusts. Check a URL when it is stored (CheckURL,
// then CheckResolved) and dial through DialContext, which checks the
// addresses a name resolves to at the moment of connecting, so a name that
// pointed at a public address when checked and at a private one later (DNS
// rebinding) is still refused. A Guard is safe for concurrent use.
type Guard struct {
	allow    AllowList
	resolver Resolver
	// guarded dials checked addresses and checks them again in Control;
	// plain dials allow-listed host names.
	guarded, plain *net.Dialer
}

// New returns a Guard.
func New(o Options) *Guard {
	g := &Guard{allow: o.Allow, resolver: o.Resolver}
	if g.resolver == nil {
		g.resolver = net.DefaultResolver
	}
	base := net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if o.Dialer != nil {
		base = *o.Dialer
	}
	plain, guarded := base, base
	plain.Control, plain.ControlContext = nil, nil
	guarded.Control, guarded.ControlContext = g.Control, nil
	g.plain, g.guarded = &plain, &guarded
	return g
}

// reservedSuffixes are name suffixes that resolve, where they resolve at
// all, inside a private network: RFC 6761's localhost, mDNS's local,
// ICANN's internal, RFC 8375's home.arpa, and the common localdomain.
var reservedSuffixes = []string{"localhost", "local", "internal", "home.arpa", "localdomain"}

// CheckURL checks what can be checked of raw without the network: an
// absolute http or https URL with a host and no user name or password, a
// valid port, and a host that is an allow-listed name, a syntactically
// valid public host name, or a public IP address written in its plain form.
// IP addresses in other spellings (2130706433, 0x7f.1, 127.1) are refused
// whatever they mean; so are names that can only be private (localhost and
// *.localhost, *.local, *.internal, *.home.arpa, *.localdomain, and
// single-label names, which resolve through the local search domains). It
// returns the parsed URL, or a *URLError (malformed) or *RefusedError (a
// target it will not reach).
func (g *Guard) CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || !u.IsAbs() {
		return nil, &URLError{"must be an absolute http or https URL with a host, such as https://example.com/hooks/logbook"}
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return nil, &URLError{"must be an absolute http or https URL with a host, such as https://example.com/hooks/logbook"}
	}
	if u.User != nil {
		return nil, &URLError{"must not carry a user name or password"}
	}
	host := u.Hostname()
	if host == "" {
		return nil, &URLError{"must be an absolute http or https URL with a host, such as https://example.com/hooks/logbook"}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, &URLError{"must have a port from 1 to 65535"}
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, &URLError{"must have a port from 1 to 65535"}
	}
	return u, g.CheckHost(host)
}

// CheckHost is CheckURL's check of a URL's host (without brackets).
func (g *Guard) CheckHost(host string) error {
	if g.allow.hasHost(host) {
		return nil
	}
	if ip, canonical, ok := ParseIP(host); ok {
		if ip.Zone() != "" {
			return &URLError{"must not carry an IPv6 zone"}
		}
		if !canonical {
			return &URLError{"must write an IP address in its usual form (four decimal numbers, such as 203.0.113.7)"}
		}
		return g.CheckAddr(host, ip)
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if looksNumeric(name) || !validName(name) {
		return &URLError{"must have a valid host name or IP address"}
	}
	if !strings.Contains(name, ".") {
		return &RefusedError{Host: host, Reason: "single-label name"}
	}
	for _, s := range reservedSuffixes {
		if name == s || strings.HasSuffix(name, "."+s) {
			return &RefusedError{Host: host, Reason: "reserved name"}
		}
	}
	return nil
}

// validName reports whether name (lower case, without a trailing dot) is a
// host name of ASCII letters, digits, hyphens and underscores, in labels of
// 1 to 63 bytes, 253 in all.
func validName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// CheckAddr returns a *RefusedError unless ip is public or in an allowed
// network. host is what the caller was asked to reach, for the error.
func (g *Guard) CheckAddr(host string, ip netip.Addr) error {
	if g.allow.hasAddr(ip) {
		return nil
	}
	if r := Classify(ip); r != "" {
		return &RefusedError{Host: host, Addr: ip.WithZone(""), Reason: r}
	}
	return nil
}

// CheckResolved looks up u's host (after CheckURL accepted it) and refuses
// it unless every address it resolves to may be reached: a name with one
// private address among public ones is refused, as is one that does not
// resolve. An IP address or an allow-listed name needs no lookup.
func (g *Guard) CheckResolved(ctx context.Context, u *url.URL) error {
	host := u.Hostname()
	if g.allow.hasHost(host) {
		return nil
	}
	if ip, _, ok := ParseIP(host); ok {
		return g.CheckAddr(host, ip)
	}
	_, err := g.lookup(ctx, "ip", host)
	return err
}

// lookup resolves host and checks every address; any refused address, or no
// address at all, refuses the host.
func (g *Guard) lookup(ctx context.Context, network, host string) ([]netip.Addr, error) {
	ips, err := g.resolver.LookupNetIP(ctx, network, host)
	if err != nil {
		return nil, &RefusedError{Host: host, Reason: "does not resolve", Err: err}
	}
	if len(ips) == 0 {
		return nil, &RefusedError{Host: host, Reason: "does not resolve"}
	}
	for _, ip := range ips {
		if err := g.CheckAddr(host, ip); err != nil {
			return nil, err
		}
	}
	return ips, nil
}

// DialContext connects to address (host:port) as net.Dialer.DialContext
// does, for an http.Transport: an allow-listed host name is resolved and
// dialed without checks; any other host is resolved here (an IP address in any spelling is
// read as the address it means), every address is checked, and only then
// are the addresses themselves dialed, one after another until one
// answers, so what is connected to is exactly what was checked. The
// dialer's Control checks each address once more as the socket connects.
// A refusal is a *RefusedError.
func (g *Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("netguard: dial %s: %w", address, err)
	}
	lookupNet := "ip"
	switch network {
	case "tcp4", "udp4":
		lookupNet = "ip4"
	case "tcp6", "udp6":
		lookupNet = "ip6"
	}
	dialer := g.guarded
	var ips []netip.Addr
	switch ip, _, ok := ParseIP(host); {
	case g.allow.hasHost(host):
		dialer = g.plain
		if ips, err = g.resolver.LookupNetIP(ctx, lookupNet, host); err != nil {
			return nil, fmt.Errorf("netguard: dial %s: %w", address, err)
		}
	case ok:
		if err := g.CheckAddr(host, ip); err != nil {
			return nil, err
		}
		ips = []netip.Addr{ip}
	default:
		if ips, err = g.lookup(ctx, lookupNet, host); err != nil {
			return nil, err
		}
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("netguard: dial %s: no address", address)
	}
	var errs []error
	for _, ip := range ips {
		conn, err := dialer.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// Control is a net.Dialer Control function that refuses to connect to an
// address the guard does not allow. It sees only the resolved address, not
// the name, so a dialer that uses it alone refuses allow-listed names that
// resolve to private addresses: DialContext is the whole check.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Host: address, Reason: "not an IP address and port"}
	}
	return g.CheckAddr(address, ap.Addr())
}

// AllowList is what an operator trusts beyond public addresses: networks
// (CIDR prefixes or single addresses) and host names (exact, or *.suffix
// for every name under suffix). The zero value allows nothing.
type AllowList struct {
	prefixes []netip.Prefix
	names    []string
	suffixes []string
}

// ParseAllowList reads a comma-separated list such as
// "10.0.0.0/8,192.168.1.7,hooks.internal,*.corp.example" (spaces around
// entries are ignored; an empty string is the empty list).
func ParseAllowList(s string) (AllowList, error) {
	var a AllowList
	for e := range strings.SplitSeq(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if strings.Contains(e, "/") {
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return AllowList{}, fmt.Errorf("netguard: allow-list entry %q: not a CIDR prefix such as 10.0.0.0/8", e)
			}
			a.prefixes = append(a.prefixes, p.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
			a.prefixes = append(a.prefixes, netip.PrefixFrom(ip.WithZone(""), ip.BitLen()))
			continue
		}
		name := strings.ToLower(strings.TrimSuffix(e, "."))
		wild := strings.HasPrefix(name, "*.")
		if wild {
			name = name[2:]
		}
		if !validName(name) || looksNumeric(name) {
			return AllowList{}, fmt.Errorf("netguard: allow-list entry %q: not a CIDR prefix, an IP address or a host name", e)
		}
		if wild {
			a.suffixes = append(a.suffixes, "."+name)
		} else {
			a.names = append(a.names, name)
		}
	}
	return a, nil
}

// Empty reports whether the list allows nothing.
func (a AllowList) Empty() bool {
	return len(a.prefixes) == 0 && len(a.names) == 0 && len(a.suffixes) == 0
}

func (a AllowList) hasAddr(ip netip.Addr) bool {
	ip = ip.WithZone("")
	for _, p := range a.prefixes {
		if p.Contains(ip) || (ip.Is4In6() && p.Contains(ip.Unmap())) {
			return true
		}
	}
	return false
}

func (a AllowList) hasHost(host string) bool {
	if len(a.names) == 0 && len(a.suffixes) == 0 {
		return false
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, n := range a.names {
		if name == n {
			return true
		}
	}
	for _, s := range a.suffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}
