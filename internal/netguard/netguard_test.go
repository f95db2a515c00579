package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	notPublic := map[string]string{
		"127.0.0.1":       "loopback",
		"127.255.255.254": "loopback",
		"0.0.0.0":         "unspecified (this network)",
		"0.1.2.3":         "unspecified (this network)",
		"10.0.0.1":        "private",
		"10.255.255.255":  "private",
		"172.16.0.1":      "private",
		"172.31.255.255":  "private",
		"192.168.0.1":     "private",
		"192.168.255.255": "private",
		"169.254.169.254": "link-local",
		"169.254.0.1":     "link-local",
		"100.64.0.1":      "shared address space (CGNAT)",
		"100.127.255.255": "shared address space (CGNAT)",
		"192.0.0.170":     "IETF protocol assignments",
		"192.0.2.1":       "documentation",
		"198.51.100.1":    "documentation",
		"203.0.113.9":     "documentation",
		"198.18.0.1":      "benchmarking",
		"198.19.255.255":  "benchmarking",
		"192.88.99.1":     "6to4 relay anycast",
		"224.0.0.1":       "multicast",
		"239.255.255.250": "multicast",
		"240.0.0.1":       "reserved",
		"255.255.255.255": "broadcast",

		"::":                     "unspecified",
		"::1":                    "loopback",
		"::ffff:127.0.0.1":       "IPv4-mapped loopback",
		"::ffff:7f00:1":          "IPv4-mapped loopback",
		"::ffff:169.254.169.254": "IPv4-mapped link-local",
		"::ffff:10.0.0.1":        "IPv4-mapped private",
		"::ffff:0.0.0.0":         "IPv4-mapped unspecified (this network)",
		"::127.0.0.1":            "IPv4-compatible loopback",
		"::10.1.2.3":             "IPv4-compatible private",
		"::8.8.8.8":              "IPv4-compatible (deprecated)",
		"64:ff9b::127.0.0.1":     "NAT64 loopback",
		"64:ff9b::a9fe:a9fe":     "NAT64 link-local",
		"64:ff9b:1::1":           "not global unicast",
		"2002:7f00:1::":          "6to4 loopback",
		"2002:c0a8:101::1":       "6to4 private",
		"2002:a9fe:a9fe::1":      "6to4 link-local",
		"fe80::1":                "link-local",
		"fe80::1%eth0":           "link-local",
		"febf::1":                "link-local",
		"fc00::1":                "unique local",
		"fd12:3456::1":           "unique local",
		"ff02::1":                "multicast",
		"ff0e::1":                "multicast",
		"fec0::1":                "not global unicast",
		"100::1":                 "not global unicast",
		"::ffff:0:7f00:1":        "not global unicast",
		"2001:db8::1":            "documentation",
		"3fff::1":                "documentation",
		"2001::1":                "IETF protocol assignments (Teredo, benchmarking, ORCHID)",
		"2001:2::1":              "IETF protocol assignments (Teredo, benchmarking, ORCHID)",
	}
	for s, want := range notPublic {
		ip := netip.MustParseAddr(s)
		require.Equal(t, want, Classify(ip), s)
		require.False(t, Public(ip), s)
	}
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "93.184.216.34", "172.15.255.255", "172.32.0.1", "100.63.255.255",
		"100.128.0.1", "169.253.255.255", "192.167.255.255", "223.255.255.255", "11.0.0.1",
		"2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"} {
		require.True(t, Public(netip.MustParseAddr(s)), s)
	}
	require.Equal(t, "invalid", Classify(netip.Addr{}))
}

func TestParseIP(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		host      string
		want      string
		canonical bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1.", "127.0.0.1", true},
		{"2130706433", "127.0.0.1", false},
		{"0x7f000001", "127.0.0.1", false},
		{"0X7F000001", "127.0.0.1", false},
		{"017700000001", "127.0.0.1", false},
		{"0177.0.0.1", "127.0.0.1", false},
		{"0177.0.0.01", "127.0.0.1", false},
		{"0x7f.1", "127.0.0.1", false},
		{"0x7f.0.0.0x1", "127.0.0.1", false},
		{"127.1", "127.0.0.1", false},
		{"127.0.1", "127.0.0.1", false},
		{"0", "0.0.0.0", false},
		{"0x0", "0.0.0.0", false},
		{"10.1", "10.0.0.1", false},
		{"192.168.257", "192.168.1.1", false},
		{"169.254.43518", "169.254.169.254", false},
		{"2852039166", "169.254.169.254", false},
		{"0xa9fea9fe", "169.254.169.254", false},
		{"0251.0376.0251.0376", "169.254.169.254", false},
		{"3232235777", "192.168.1.1", false},
		{"010.0.0.1", "8.0.0.1", false},
		{"::1", "::1", true},
		{"[::1]", "::1", true},
		{"::ffff:127.0.0.1", "::ffff:127.0.0.1", true},
		{"0:0:0:0:0:ffff:7f00:1", "::ffff:127.0.0.1", true},
		{"fe80::1%eth0", "fe80::1%eth0", true},
	} {
		ip, canonical, ok := ParseIP(c.host)
		require.True(t, ok, c.host)
		require.Equal(t, c.want, ip.String(), c.host)
		require.Equal(t, c.canonical, canonical, c.host)
	}
	for _, host := range []string{"", "example.com", "localhost", "1.2.3.4.5", "256.0.0.1", "1.256.0.1", "1.2.65536",
		"4294967296", "0x100000000", "08.0.0.1", "0x", "0x.1", "1..2", ".1.2.3", "1.2.3.-4", "+1.2.3.4", "1.2.3.4 ",
		"1_0.0.0.1", "::g", "[::1", "1.2.3.4.."} {
		_, _, ok := ParseIP(host)
		require.False(t, ok, "%q", host)
	}
}

// fakeResolver answers from a map that tests can change between calls, as
// a DNS server that rebinds would.
type fakeResolver struct {
	mu    sync.Mutex
	hosts map[string][]string
}

func (r *fakeResolver) set(host string, addrs ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hosts[host] = addrs
}

func (r *fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	addrs, ok := r.hosts[strings.ToLower(strings.TrimSuffix(host, "."))]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		ip := netip.MustParseAddr(a)
		if network == "ip4" && !ip.Is4() || network == "ip6" && !ip.Is6() {
			continue
		}
		out = append(out, ip)
	}
	return out, nil
}

func newResolver() *fakeResolver {
	return &fakeResolver{hosts: map[string][]string{
		"hooks.example.com":     {"93.184.216.34"},
		"dual.example.com":      {"93.184.216.34", "2606:2800:220:1::1"},
		"localhost":             {"127.0.0.1", "::1"},
		"mixed.example.com":     {"93.184.216.34", "10.0.0.7"},
		"loopback.example.com":  {"127.0.0.1"},
		"metadata.example.com":  {"169.254.169.254"},
		"mapped.example.com":    {"::ffff:127.0.0.1"},
		"private.example.com":   {"192.168.1.20"},
		"hooks.internal":        {"10.1.2.3"},
		"a.corp.example":        {"10.9.9.9"},
		"nat64.example.com":     {"64:ff9b::a00:1"},
		"empty.example.com":     {},
		"public6.example.com":   {"2606:2800:220:1::1"},
		"unspecified.example.t": {"0.0.0.0"},
	}}
}

// TestCheckURLFindingTargets is the finding's list of internal targets
// (and more spellings of them): each is refused, as the URL is checked at
// creation, with the resolver the finding's names would meet.
func TestCheckURLFindingTargets(t *testing.T) {
	t.Parallel()
	g := New(Options{Resolver: newResolver()})
	ctx := context.Background()
	for _, raw := range []string{
		"http://127.0.0.1/", "http://127.0.0.1:6379/", "https://127.0.0.1:8080/hook",
		"http://localhost/", "http://localhost:9000/in", "http://LOCALHOST./", "http://api.localhost/",
		"http://[::1]/", "http://[::1]:5432/", "http://0.0.0.0/", "http://0.0.0.0:8080/",
		"http://[::]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]:80/", "http://[0:0:0:0:0:ffff:127.0.0.1]/",
		"http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/",
		"http://10.0.0.1/", "http://10.255.255.254:9200/", "http://172.16.0.1/", "http://172.31.0.5/",
		"http://192.168.0.1/", "http://192.168.1.1:8443/", "http://100.64.0.1/",
		"http://[fe80::1]/", "http://[fc00::1]/", "http://[fd00::abcd]/", "http://224.0.0.251/", "http://255.255.255.255/",
		"http://[::127.0.0.1]/", "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::1]/",
		"http://2130706433/", "http://0x7f000001/", "http://017700000001/", "http://0177.0.0.1/", "http://0x7f.1/",
		"http://127.1/", "http://0/", "http://2852039166/", "http://0xa9.0xfe.0xa9.0xfe/", "http://%31%32%37.0.0.1/",
		"http://metadata/", "http://redis:6379/", "http://metadata.google.internal/computeMetadata/v1/",
		"http://printer.local/", "http://router.home.arpa/", "http://db.localdomain/",
		"http://loopback.example.com/", "http://metadata.example.com/", "http://mapped.example.com/",
		"http://private.example.com/", "http://mixed.example.com/", "http://nat64.example.com/",
		"http://nonexistent.example.com/", "http://empty.example.com/",
	} {
		u, err := g.CheckURL(raw)
		if err == nil {
			err = g.CheckResolved(ctx, u)
		}
		require.Error(t, err, raw)
		var ue *URLError
		require.True(t, errors.Is(err, ErrRefused) || errors.As(err, &ue), "%s: %v", raw, err)
	}
	for _, raw := range []string{"https://hooks.example.com/logbook", "http://hooks.example.com:8080/x?y=1",
		"HTTPS://Hooks.Example.Com./", "https://dual.example.com/", "https://public6.example.com/", "https://93.184.216.34/",
		"https://[2606:4700:4700::1111]:443/", "http://8.8.8.8:6379/"} {
		u, err := g.CheckURL(raw)
		require.NoError(t, err, raw)
		require.NoError(t, g.CheckResolved(ctx, u), raw)
	}
}

func TestCheckURLSyntax(t *testing.T) {
	t.Parallel()
	g := New(Options{Resolver: newResolver()})
	for raw, want := range map[string]string{
		"":                                   "absolute http or https",
		"hooks.example.com/in":               "absolute http or https",
		"/in":                                "absolute http or https",
		"https://":                           "absolute http or https",
		"https:///in":                        "absolute http or https",
		"mailto:ops@example.com":             "absolute http or https",
		"javascript:alert(1)":                "absolute http or https",
		"ftp://hooks.example.com/":           "absolute http or https",
		"file:///etc/passwd":                 "absolute http or https",
		"gopher://127.0.0.1:6379/_":          "absolute http or https",
		"http://[::1":                        "absolute http or https",
		"https://user:pw@hooks.example.com/": "user name or password",
		"https://user@hooks.example.com/":    "user name or password",
		"https://hooks.example.com:0/":       "port from 1 to 65535",
		"https://hooks.example.com:65536/":   "port from 1 to 65535",
		"https://hooks.example.com:/":        "port from 1 to 65535",
		"http://[fe80::1%25eth0]/":           "IPv6 zone",
		"http://8.8.8.010/":                  "usual form",
		"http://134744072/":                  "usual form",
		"http://1.2.3.4.5/":                  "valid host name",
		"http://example.0x10/":               "valid host name",
		"http://exa_mple..com/":              "valid host name",
		"http://-bad.example.com/":           "valid host name",
		"http://bücher.example/":             "valid host name",
	} {
		_, err := g.CheckURL(raw)
		var ue *URLError
		require.True(t, errors.As(err, &ue), "%q: %v", raw, err)
		require.Contains(t, ue.Msg, want, raw)
	}
}

func TestAllowList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, err := ParseAllowList(" 10.0.0.0/8, 127.0.0.1 ,hooks.internal,*.corp.example,[::1],")
	require.NoError(t, err)
	require.False(t, a.Empty())
	g := New(Options{Allow: a, Resolver: newResolver()})
	for _, raw := range []string{"http://10.1.2.3/", "http://127.0.0.1:9000/", "http://[::ffff:10.0.0.1]/", "http://[::1]:80/",
		"http://hooks.internal/", "http://HOOKS.INTERNAL./x", "http://a.corp.example/", "http://hooks.example.com/"} {
		u, err := g.CheckURL(raw)
		require.NoError(t, err, raw)
		require.NoError(t, g.CheckResolved(ctx, u), raw)
	}
	for _, raw := range []string{"http://127.0.0.2/", "http://192.168.1.1/", "http://corp.example/", "http://other.internal/",
		"http://169.254.169.254/", "http://localhost/"} {
		u, err := g.CheckURL(raw)
		if err == nil {
			err = g.CheckResolved(ctx, u)
		}
		require.ErrorIs(t, err, ErrRefused, raw)
	}

	empty, err := ParseAllowList("")
	require.NoError(t, err)
	require.True(t, empty.Empty())
	for _, bad := range []string{"10.0.0.0/33", "not a host", "1.2.3.4.5", "*.", "10.0.0.0/8,,bad_name!"} {
		_, err := ParseAllowList(bad)
		require.Error(t, err, bad)
	}
}

// TestDialRebinding shows the check at dial time: a name that resolved to
// a public address when the URL was checked and to loopback when the
// request is sent is refused before any connection is made, and the
// receiver listening on loopback sees nothing; an allow-listed receiver is
// reached.
func TestDialRebinding(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var mu sync.Mutex
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	res := newResolver()
	res.set("rebind.example.com", "93.184.216.34")
	g := New(Options{Resolver: res})
	u, err := g.CheckURL(fmt.Sprintf("http://rebind.example.com:%d/hook", port))
	require.NoError(t, err)
	require.NoError(t, g.CheckResolved(ctx, u), "public when checked")

	res.set("rebind.example.com", "127.0.0.1")
	client := &http.Client{Transport: &http.Transport{DialContext: g.DialContext}}
	for _, target := range []string{u.String(), srv.URL, fmt.Sprintf("http://2130706433:%d/", port),
		fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", port), fmt.Sprintf("http://0x7f.1:%d/", port),
		fmt.Sprintf("http://localhost:%d/", port), fmt.Sprintf("http://127.1:%d/", port)} {
		_, err := client.Get(target)
		require.ErrorIs(t, err, ErrRefused, target)
	}
	mu.Lock()
	require.Zero(t, hits, "nothing reached the loopback receiver")
	mu.Unlock()

	allow, err := ParseAllowList("127.0.0.1/32")
	require.NoError(t, err)
	trusted := &http.Client{Transport: &http.Transport{DialContext: New(Options{Allow: allow, Resolver: res}).DialContext}}
	for _, target := range []string{u.String(), srv.URL} {
		r, err := trusted.Get(target)
		require.NoError(t, err, target)
		require.NoError(t, r.Body.Close())
	}
	mu.Lock()
	require.Equal(t, 2, hits)
	mu.Unlock()
}

func TestControl(t *testing.T) {
	t.Parallel()
	g := New(Options{})
	for _, addr := range []string{"127.0.0.1:80", "[::1]:443", "[::ffff:10.0.0.1]:80", "169.254.169.254:80", "0.0.0.0:8080", "nonsense"} {
		require.ErrorIs(t, g.Control("tcp", addr, nil), ErrRefused, addr)
	}
	require.NoError(t, g.Control("tcp4", "93.184.216.34:443", nil))
	require.NoError(t, g.Control("tcp6", "[2606:4700:4700::1111]:443", nil))

	// A dialer that uses Control alone refuses loopback even when asked
	// by address.
	d := net.Dialer{Control: g.Control}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	_, err = d.Dial("tcp", ln.Addr().String())
	require.ErrorIs(t, err, ErrRefused)
}

// TestRefusedErrorText checks that the error names the address and the
// reason (for server logs) and that it wraps the resolver's error.
func TestRefusedErrorText(t *testing.T) {
	t.Parallel()
	g := New(Options{Resolver: newResolver()})
	u, err := url.Parse("http://metadata.example.com/")
	require.NoError(t, err)
	err = g.CheckResolved(context.Background(), u)
	require.EqualError(t, err, `netguard: refused "metadata.example.com" (169.254.169.254): link-local`)
	u.Host = "nonexistent.example.com"
	err = g.CheckResolved(context.Background(), u)
	var dnsErr *net.DNSError
	require.ErrorAs(t, err, &dnsErr)
	require.ErrorIs(t, err, ErrRefused)
}
