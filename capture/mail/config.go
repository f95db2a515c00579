package mail

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"logbook/internal/crm"
)

// Config is an imap connector's config, as the API and the web UI write
// it (field names are fixed).
type Config struct {
	Host string `json:"host"`
	// Port defaults to 993 for tls, 143 for starttls.
	Port int `json:"port"`
	// Security is "tls" (implicit TLS, the default) or "starttls". There
	// is no plain option: the password never crosses an unencrypted
	// connection.
	Security string `json:"security"`
	Username string `json:"username"`
	// Mailboxes are the folders synced (default ["INBOX"]; add the Sent
	// folder to log outbound mail).
	Mailboxes []string `json:"mailboxes"`
	// Since bounds the first sync (YYYY-MM-DD; default 30 days before the
	// connector is created).
	Since string `json:"since"`
	// Log is "all" (the default) or "replies": see package doc.
	Log string `json:"log"`
	// NeverLog lists addresses and domains whose messages are never
	// logged (a domain covers its subdomains).
	NeverLog []string `json:"never_log"`
	// CACert is a PEM certificate to trust besides the system's roots (a
	// private CA or a self-signed server).
	CACert string `json:"ca_cert,omitempty"`
}

// Config values.
const (
	SecurityTLS      = "tls"
	SecurityStartTLS = "starttls"
	LogAll           = "all"
	LogReplies       = "replies"

	maxMailboxes = 20
	maxNeverLog  = 500
	maxCACert    = 64 << 10
	// DefaultSinceDays is how far back a first sync reaches when the
	// config sets no since.
	DefaultSinceDays = 30
)

var hostRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,62})?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62})?)*\.?$`)

// check validates the config contract and fills the defaults; now is when
// "30 days ago" is measured from.
func checkConfig(raw json.RawMessage, now time.Time) (Config, error) {
	var c Config
	var p crm.Problems
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, crm.Invalid("config", "must be an object with host, port, security, username, mailboxes, since, log, never_log and ca_cert (%s)", jsonProblem(err))
	}
	c.Host = strings.TrimSpace(c.Host)
	switch {
	case c.Host == "":
		p.Add("config.host", "is required (the IMAP server, such as imap.example.com)")
	case !validHost(c.Host):
		p.Add("config.host", "must be a host name or an IP address, without scheme or port")
	}
	c.Security = strings.ToLower(strings.TrimSpace(c.Security))
	switch c.Security {
	case "":
		c.Security = SecurityTLS
	case SecurityTLS, SecurityStartTLS:
	default:
		p.Add("config.security", `must be "tls" or "starttls" (the password is never sent unencrypted)`)
	}
	if c.Port == 0 {
		c.Port = 993
		if c.Security == SecurityStartTLS {
			c.Port = 143
		}
	}
	if c.Port < 1 || c.Port > 65535 {
		p.Add("config.port", "must be between 1 and 65535")
	}
	c.Username = strings.TrimSpace(c.Username)
	crm.CheckText(&p, "config.username", c.Username, crm.MaxEmail, true)
	if len(c.Mailboxes) == 0 {
		c.Mailboxes = []string{"INBOX"}
	}
	if len(c.Mailboxes) > maxMailboxes {
		p.Add("config.mailboxes", "must list at most %d mailboxes", maxMailboxes)
	}
	boxes := make([]string, 0, len(c.Mailboxes))
	for i, b := range c.Mailboxes {
		field := fmt.Sprintf("config.mailboxes[%d]", i)
		b = strings.TrimSpace(b)
		if strings.IndexFunc(b, unicode.IsControl) >= 0 {
			p.Add(field, "must not contain control characters")
			continue
		}
		crm.CheckText(&p, field, b, crm.MaxName, true)
		if strings.EqualFold(b, "INBOX") {
			b = "INBOX"
		}
		if b != "" && !containsFold(boxes, b) {
			boxes = append(boxes, b)
		}
	}
	c.Mailboxes = boxes
	if c.Since == "" {
		c.Since = now.UTC().AddDate(0, 0, -DefaultSinceDays).Format(time.DateOnly)
	} else if d, err := time.Parse(time.DateOnly, c.Since); err != nil || d.Year() < crm.MinYear {
		p.Add("config.since", "must be a date such as 2026-01-31")
	}
	c.Log = strings.ToLower(strings.TrimSpace(c.Log))
	switch c.Log {
	case "":
		c.Log = LogAll
	case LogAll, LogReplies:
	default:
		p.Add("config.log", `must be "all" or "replies"`)
	}
	if len(c.NeverLog) > maxNeverLog {
		p.Add("config.never_log", "must list at most %d addresses or domains", maxNeverLog)
	}
	never := make([]string, 0, len(c.NeverLog))
	for i, e := range c.NeverLog {
		field := fmt.Sprintf("config.never_log[%d]", i)
		e = strings.TrimSpace(e)
		if strings.Contains(e, "@") {
			before := p.Len()
			crm.CheckEmail(&p, field, e)
			if p.Len() == before {
				never = appendNew(never, crm.NormalizeEmail(e))
			}
			continue
		}
		// CheckDomains names the item field+"[0]"; fixDomainFields
		// renames it.
		if d := crm.CheckDomains(&p, field, []string{e}); len(d) == 1 {
			never = appendNew(never, d[0])
		}
	}
	c.NeverLog = never
	c.CACert = strings.TrimSpace(c.CACert)
	if c.CACert != "" {
		if len(c.CACert) > maxCACert {
			p.Add("config.ca_cert", "must be at most %d bytes", maxCACert)
		} else if _, err := certPool(c.CACert); err != nil {
			p.Add("config.ca_cert", "%s", err.Error())
		}
	}
	if err := p.Err(); err != nil {
		return Config{}, fixDomainFields(err)
	}
	return c, nil
}

// fixDomainFields renames CheckDomains' "config.never_log[i][0]" fields.
func fixDomainFields(err error) error {
	if ve, ok := err.(*crm.ValidationError); ok {
		for i := range ve.Fields {
			ve.Fields[i].Field = strings.TrimSuffix(ve.Fields[i].Field, "[0]")
		}
	}
	return err
}

func validHost(h string) bool {
	if len(h) > 253 {
		return false
	}
	if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return true
	}
	return hostRE.MatchString(h)
}

func containsFold(l []string, s string) bool {
	for _, x := range l {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func appendNew(l []string, s string) []string {
	for _, x := range l {
		if x == s {
			return l
		}
	}
	return append(l, s)
}

// certPool reads a PEM bundle of certificates into a pool on top of the
// system's roots.
func certPool(pemText string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	rest := []byte(pemText)
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("must hold only PEM certificates (found a %q block)", b.Type)
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("holds a certificate that does not parse: %v", err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 || len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("must be a PEM certificate (-----BEGIN CERTIFICATE----- …)")
	}
	return pool, nil
}

// checkSecrets reads the secrets of a create (old nil) or an update.
func checkSecrets(raw json.RawMessage, create bool) (map[string]string, error) {
	if raw == nil {
		if create {
			return nil, crm.Invalid("secrets.password", "is required (the mailbox password or an app password)")
		}
		return nil, nil
	}
	var s map[string]any
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, crm.Invalid("secrets", `must be an object such as {"password": "…"}`)
	}
	var p crm.Problems
	for k := range s {
		if k != "password" {
			p.Add("secrets."+k, "is not a secret of an imap connector (only password)")
		}
	}
	pw, ok := s["password"].(string)
	switch {
	case !ok || pw == "":
		p.Add("secrets.password", "is required (the mailbox password or an app password)")
	case !utf8.ValidString(pw) || strings.ContainsAny(pw, "\x00\r\n"):
		p.Add("secrets.password", "must be text without line breaks")
	case len(pw) > 1024:
		p.Add("secrets.password", "must be at most 1024 bytes")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return map[string]string{"password": pw}, nil
}

func jsonProblem(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "json: ")
	if len(msg) > 120 {
		msg = msg[:120] + "…"
	}
	return msg
}
