// Package testdovecot gives tests the real Dovecot that scripts/services.sh
// runs on loopback for them (Debian's dovecot-imapd, an instance of its
// own): where it listens, its test users, the PEM of its self-signed
// certificate, and helpers that put messages into a mailbox of the test's
// own. Only _test.go files import it.
//
// Each test works in mailboxes it creates with a unique name, so tests
// never see each other's mail; they are deleted after the test. When
// Dovecot is down, tests fail with a message that says how to start it;
// they never skip.
package testdovecot

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Where the test Dovecot listens (scripts/services.sh).
const (
	Host = "127.0.0.1"
	// PortSTARTTLS is IMAP, STARTTLS offered.
	PortSTARTTLS = 10143
	// PortTLS is IMAPS (implicit TLS).
	PortTLS = 10993
	// Dir holds the instance's config, certificate and mail.
	Dir = "/var/lib/logbook-test/dovecot"
	// CertPath is the PEM of its self-signed certificate (for localhost
	// and 127.0.0.1).
	CertPath = Dir + "/cert.pem"
)

// The test users (passwd-file) and their test passwords.
const (
	User          = "rep@logbook.test"
	Password      = "logbook-test-password"
	OtherUser     = "other@logbook.test"
	OtherPassword = "logbook-test-password-2"
)

// CACert returns the PEM of the test Dovecot's certificate.
func CACert(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(CertPath)
	if err != nil {
		t.Fatalf("testdovecot: the test Dovecot's certificate is missing (%v): run scripts/services.sh", err)
	}
	return string(b)
}

// Client returns a client logged in as user over implicit TLS, logged out
// after the test.
func Client(t testing.TB, user, password string) *imapclient.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(CACert(t))) {
		t.Fatalf("testdovecot: %s holds no certificate: run scripts/services.sh", CertPath)
	}
	addr := net.JoinHostPort(Host, strconv.Itoa(PortTLS))
	c, err := imapclient.DialTLS(addr, &imapclient.Options{
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: Host},
		Dialer:    &net.Dialer{Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatalf("testdovecot: the test Dovecot is not reachable at %s: %v (run scripts/services.sh)", addr, err)
	}
	if err := c.Login(user, password).Wait(); err != nil {
		c.Close()
		t.Fatalf("testdovecot: login as %s: %v (run scripts/services.sh)", user, err)
	}
	t.Cleanup(func() {
		_ = c.Logout().Wait()
		c.Close()
	})
	return c
}

// Mailbox creates a mailbox with a name unique to this test (and this
// run), deleted after the test.
func Mailbox(t testing.TB, c *imapclient.Client) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, t.Name())
	if len(name) > 60 {
		name = name[:60]
	}
	name = "t-" + name + "-" + hex.EncodeToString(b)
	Create(t, c, name)
	t.Cleanup(func() { _ = c.Delete(name).Wait() })
	return name
}

// Create creates mailbox name.
func Create(t testing.TB, c *imapclient.Client, name string) {
	t.Helper()
	if err := c.Create(name, nil).Wait(); err != nil {
		t.Fatalf("testdovecot: create mailbox %q: %v", name, err)
	}
}

// Delete deletes mailbox name (its UIDVALIDITY changes when it is made
// again).
func Delete(t testing.TB, c *imapclient.Client, name string) {
	t.Helper()
	if err := c.Delete(name).Wait(); err != nil {
		t.Fatalf("testdovecot: delete mailbox %q: %v", name, err)
	}
}

// Append puts raw (CRLF line ends) into mailbox with flags, received at
// when (zero: now), and returns its UID.
func Append(t testing.TB, c *imapclient.Client, mailbox string, raw []byte, when time.Time, flags ...imap.Flag) imap.UID {
	t.Helper()
	cmd := c.Append(mailbox, int64(len(raw)), &imap.AppendOptions{Flags: flags, Time: when})
	if _, err := cmd.Write(raw); err != nil {
		t.Fatalf("testdovecot: append to %q: %v", mailbox, err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatalf("testdovecot: append to %q: %v", mailbox, err)
	}
	data, err := cmd.Wait()
	if err != nil {
		t.Fatalf("testdovecot: append to %q: %v", mailbox, err)
	}
	return data.UID
}

// Message builds a test message with CRLF line ends: headers in order
// ("Key: value" lines), then the body.
func Message(headers []string, body string) []byte {
	var b strings.Builder
	for _, h := range headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n"))
	return []byte(b.String())
}

// Addr is host:port of the test Dovecot on port.
func Addr(port int) string { return fmt.Sprintf("%s:%d", Host, port) }
