package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"logbook/internal/netguard"
)

// dialTimeout bounds connecting and the TLS handshake.
const dialTimeout = 30 * time.Second

// conn is a logged-in IMAP connection.
type conn struct {
	*imapclient.Client
	host   string
	stop   func() bool
	closed atomic.Bool
}

// connect dials through the guard, secures the connection (implicit TLS,
// or STARTTLS before anything else is said), and logs in. Errors are
// readable and never carry the password.
func (k *kind) connect(ctx context.Context, cfg Config, password string) (*conn, error) {
	addr := net.JoinHostPort(strings.Trim(cfg.Host, "[]"), strconv.Itoa(cfg.Port))
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	raw, err := k.deps.Guard.DialContext(dctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, netguard.ErrRefused) {
			return nil, fmt.Errorf("cannot connect to %s: its address is private or loopback, which connectors may not reach unless the server's operator allows it (CONNECTOR_ALLOW_PRIVATE)", addr)
		}
		return nil, fmt.Errorf("cannot connect to %s: %v", addr, plainNetError(err))
	}
	tlsCfg := &tls.Config{ServerName: strings.Trim(cfg.Host, "[]"), MinVersion: tls.VersionTLS12}
	if cfg.CACert != "" {
		pool, err := certPool(cfg.CACert)
		if err != nil {
			raw.Close()
			return nil, fmt.Errorf("the connector's ca_cert %s", err)
		}
		tlsCfg.RootCAs = pool
	}
	opts := &imapclient.Options{TLSConfig: tlsCfg}
	var c *imapclient.Client
	switch cfg.Security {
	case SecurityStartTLS:
		// NewStartTLS says STARTTLS first and fails unless the connection
		// is then encrypted: the password is never sent in clear.
		stopDial := context.AfterFunc(dctx, func() { raw.Close() })
		c, err = imapclient.NewStartTLS(raw, opts)
		stopDial()
		if err != nil {
			raw.Close()
			return nil, fmt.Errorf("cannot secure the connection to %s with STARTTLS (Logbook never sends the password unencrypted): %s", addr, tlsProblem(err))
		}
	default:
		tc := tls.Client(raw, tlsCfg)
		if err := tc.HandshakeContext(dctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("TLS with %s failed: %s", addr, tlsProblem(err))
		}
		c = imapclient.New(tc, opts)
	}
	cn := &conn{Client: c, host: addr}
	cn.stop = context.AfterFunc(ctx, func() { cn.closed.Store(true); c.Close() })
	gctx, gcancel := context.WithTimeout(ctx, dialTimeout)
	stopGreet := context.AfterFunc(gctx, func() { c.Close() })
	err = c.WaitGreeting()
	stopGreet()
	gcancel()
	if err != nil {
		cn.close()
		return nil, fmt.Errorf("%s did not greet as an IMAP server: %v", addr, err)
	}
	if err := c.Login(cfg.Username, password).Wait(); err != nil {
		cn.close()
		var ie *imap.Error
		if errors.As(err, &ie) {
			return nil, fmt.Errorf("IMAP login refused for %s: %s", cfg.Username, imapErrText(ie))
		}
		return nil, fmt.Errorf("IMAP login for %s on %s failed: %v", cfg.Username, addr, err)
	}
	return cn, nil
}

func (c *conn) close() {
	c.stop()
	c.Close()
}

// broken reports whether the connection is gone (closed by a cancel or
// lost): the mailboxes left cannot be synced on it.
func (c *conn) broken() bool {
	if c.closed.Load() {
		return true
	}
	select {
	case <-c.Closed():
		return true
	default:
		return false
	}
}

func (c *conn) logout() {
	_ = c.Logout().Wait()
}

// imapErrText is a server's refusal as "[CODE] text".
func imapErrText(e *imap.Error) string {
	text := strings.TrimSpace(e.Text)
	if e.Code != "" {
		return fmt.Sprintf("[%s] %s", e.Code, text)
	}
	return text
}

// imapProblem is an IMAP command's failure, readable.
func imapProblem(err error) string {
	var ie *imap.Error
	if errors.As(err, &ie) {
		return imapErrText(ie)
	}
	return plainNetError(err).Error()
}

// tlsProblem says what went wrong securing a connection, with the likely
// fix for an unknown certificate authority.
func tlsProblem(err error) string {
	var ua x509.UnknownAuthorityError
	msg := plainNetError(err).Error()
	if errors.As(err, &ua) || strings.Contains(msg, "certificate signed by unknown authority") {
		return msg + " (a private CA or self-signed server: put its certificate in the connector's ca_cert)"
	}
	var ie *imap.Error
	if errors.As(err, &ie) {
		return "the server refused STARTTLS: " + imapErrText(ie)
	}
	return msg
}

// plainNetError drops the *net.OpError wrapping that repeats addresses.
func plainNetError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}
