package netguard

import (
	"net/netip"
	"strconv"
	"strings"
)

// Public reports whether ip is a public address: one that Classify finds no
// reason to refuse.
func Public(ip netip.Addr) bool { return Classify(ip) == "" }

// Classify returns why ip is not a public address ("loopback", "private",
// "link-local", "unique local", "multicast"…), or "" when it is one. An IPv6
// address that embeds an IPv4 one (IPv4-mapped ::ffff:a.b.c.d,
// IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) is
// classified by the IPv4 address it carries, since that is where a packet to
// it ends up; an IPv6 address outside global unicast (2000::/3) is never
// public. A zone (fe80::1%eth0) does not change the answer.
func Classify(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid"
	}
	ip = ip.WithZone("")
	if ip.Is4In6() {
		if r := classify4(ip.Unmap()); r != "" {
			return "IPv4-mapped " + r
		}
		return ""
	}
	if ip.Is4() {
		return classify4(ip)
	}
	return classify6(ip)
}

// special4 are the IPv4 ranges of IANA's special-purpose address registry
// (RFC 6890 and its updates) that no public web server lives on, with the
// reason each is refused; 240.0.0.0/4 includes the limited broadcast
// address 255.255.255.255.
var special4 = []struct {
	p      netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified (this network)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (CGNAT)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("192.31.196.0/24"), "AS112"},
	{netip.MustParsePrefix("192.52.193.0/24"), "AMT"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("192.175.48.0/24"), "AS112"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
}

func classify4(ip netip.Addr) string {
	for _, s := range special4 {
		if s.p.Contains(ip) {
			return s.reason
		}
	}
	return ""
}

// Prefixes of IPv6 that embed an IPv4 address, and special ranges inside
// global unicast (2000::/3).
var (
	compat6   = netip.MustParsePrefix("::/96")
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
	global6   = netip.MustParsePrefix("2000::/3")
	special6  = []struct {
		p      netip.Prefix
		reason string
	}{
		{netip.MustParsePrefix("2001::/23"), "IETF protocol assignments (Teredo, benchmarking, ORCHID)"},
		{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
		{netip.MustParsePrefix("3fff::/20"), "documentation"},
	}
)

func classify6(ip netip.Addr) string {
	switch {
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case compat6.Contains(ip):
		// ::a.b.c.d, deprecated IPv4-compatible: some stacks still route
		// it to the IPv4 address.
		return "IPv4-compatible " + or(classify4(embedded4(ip, 12)), "(deprecated)")
	case nat64.Contains(ip):
		if r := classify4(embedded4(ip, 12)); r != "" {
			return "NAT64 " + r
		}
		return ""
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast():
		return "multicast"
	case ip.IsPrivate():
		return "unique local"
	case !global6.Contains(ip):
		return "not global unicast"
	case sixToFour.Contains(ip):
		if r := classify4(embedded4(ip, 2)); r != "" {
			return "6to4 " + r
		}
		return ""
	}
	for _, s := range special6 {
		if s.p.Contains(ip) {
			return s.reason
		}
	}
	return ""
}

// embedded4 returns the IPv4 address in the four bytes of ip at offset.
func embedded4(ip netip.Addr, offset int) netip.Addr {
	b := ip.As16()
	return netip.AddrFrom4([4]byte(b[offset : offset+4]))
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ParseIP reads host as an IP address in any spelling a URL host can carry
// and an operating system's resolver or a browser accepts: IPv6 (with or
// without brackets, with a zone), dotted-decimal IPv4, and the inet_aton
// forms, whose parts may be decimal, octal (leading 0) or hexadecimal (0x),
// with the last part filling the remaining bytes: 2130706433,
// 0x7f000001, 0177.0.0.1, 0x7f.1 and 127.1 all mean 127.0.0.1. One trailing
// dot is ignored, as resolvers do. ok is false when host is not an IP
// address in any of these spellings (a host name); canonical is true only
// for the plain forms (four decimal parts without leading zeros, or IPv6).
func ParseIP(host string) (ip netip.Addr, canonical, ok bool) {
	h := host
	if len(h) >= 2 && h[0] == '[' && h[len(h)-1] == ']' {
		h = h[1 : len(h)-1]
	}
	if strings.Contains(h, ":") {
		ip, err := netip.ParseAddr(h)
		return ip, err == nil, err == nil
	}
	h = strings.TrimSuffix(h, ".")
	if ip, err := netip.ParseAddr(h); err == nil && ip.Is4() {
		return ip, true, true
	}
	ip, ok = parseInetAton(h)
	return ip, false, ok
}

// parseInetAton parses the IPv4 forms glibc's inet_aton accepts: one to
// four parts separated by dots, each in base 8, 10 or 16 by its prefix
// (strtoul with base 0), the last part filling the remaining bytes.
func parseInetAton(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, ok := parseAtonPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	last := len(vals) - 1
	for _, v := range vals[:last] {
		if v > 0xff {
			return netip.Addr{}, false
		}
	}
	if vals[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, false
	}
	var n uint64
	for _, v := range vals[:last] {
		n = n<<8 | v
	}
	n = n<<(8*(4-last)) | vals[last]
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

func parseAtonPart(p string) (uint64, bool) {
	base := 10
	digits := p
	switch {
	case len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X"):
		base, digits = 16, p[2:]
	case len(p) > 1 && p[0] == '0':
		base, digits = 8, p[1:]
	}
	if digits == "" {
		return 0, false
	}
	// With an explicit base, ParseUint takes no sign, underscore or
	// digit outside the base, as inet_aton does not.
	v, err := strconv.ParseUint(digits, base, 32)
	return v, err == nil
}

// looksNumeric reports whether a host name's last label is a number
// (decimal digits, or 0x and hexadecimal digits): browsers then parse the
// whole host as an IPv4 address and refuse it when that fails, so such a
// host is never a name.
func looksNumeric(host string) bool {
	host = strings.TrimSuffix(host, ".")
	label := host[strings.LastIndexByte(host, '.')+1:]
	if label == "" {
		return false
	}
	if len(label) > 1 && (label[:2] == "0x" || label[:2] == "0X") {
		label = label[2:]
		if label == "" {
			return true
		}
		return strings.Trim(label, "0123456789abcdefABCDEF") == ""
	}
	return strings.Trim(label, "0123456789") == ""
}
