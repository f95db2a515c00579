// Package netguard keeps Logbook's outbound requests (webhook deliveries)
// off private networks. Classify says whether an IP address is public,
// reading every IPv6 form that carries an IPv4 address as that address;
// ParseIP reads a host in every spelling a URL can carry (2130706433,
// 0177.0.0.1, 0x7f.1, 127.1, [::ffff:127.0.0.1]) as the address it means;
// a Guard checks a URL when it is stored and every address it dials at the
// moment of connecting, with an allow-list of networks and host names an
// operator trusts. Stdlib only.
package netguard
