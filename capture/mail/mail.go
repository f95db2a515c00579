// Package mail is the imap connector kind: a rep's mailbox, synced over
// IMAP (implicit TLS or STARTTLS; the password never crosses an
// unencrypted connection), each message an email activity on the account
// it belongs to.
//
// A sync logs in, and for each configured mailbox SELECTs it read-only,
// compares its UIDVALIDITY with the watermark (a change starts the
// mailbox over from since: Message-ID dedupe keeps that free of
// duplicates), UID SEARCHes the UIDs above the watermark (the first sync
// bounded by since), FETCHes them in batches (BODY.PEEK[] up to a size
// cap, so nothing is marked read), parses each with internal/mailmsg and
// writes it through activity.Service.Upsert, idempotent on source
// email_sync + the normalised Message-ID. The watermark is checkpointed
// after each batch is written, so a run killed anywhere resumes without a
// gap or a duplicate. A backfill (run.Range) searches SINCE/BEFORE the
// range and never moves the watermark.
//
// What a message becomes: direction outbound when its From is at one of
// the org's own_domains (or is the mailbox's own address), else inbound;
// participants are the external addresses of From, To and Cc (colleagues,
// at the own domains, are left out: they are never contacts, and the
// owner is the connector's user), from which activity resolves the account
// and contacts; occurred_at the Date header (else INTERNALDATE); subject;
// body the readable text with quoted replies and signature trimmed;
// metadata {message_id, thread_id (the References root, else In-Reply-To,
// else its own id), in_reply_to, mailbox, attachments [{name, size,
// content_type}]} (attachments are listed, never stored).
//
// Skipped, counted in the worker log and not errors: messages with no
// external address (internal mail), messages whose participants match no
// account (or two equally), messages a never_log address or domain is on
// (From, To or Cc), and under log "replies" the messages outside a
// conversation that got a reply. The "replies" rule exactly: a message is
// logged when it is a reply (it has In-Reply-To or References), or the
// mailbox owner answered it (the \Answered flag), or a reply logged by
// this connector answers it (its Message-ID is the reply's In-Reply-To,
// else the last of its References: looked up in the synced mailboxes
// after the new mail, and kept in the watermark until then, so a restart
// does not lose it). So a thread with a reply is logged whole, from the
// message that started it; a message nobody answered is not.
package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"logbook/activity"
	"logbook/capture"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// Dialer connects to the mail server; *netguard.Guard is the one in
// production (public addresses plus CONNECTOR_ALLOW_PRIVATE).
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Deps is what the kind is built from.
type Deps struct {
	Store *store.Store
	Guard Dialer
	// Logger defaults to the run's logger.
	Logger *slog.Logger
	// BatchSize is how many messages one FETCH (and one checkpoint)
	// covers (default 50).
	BatchSize int
	// MaxMessageBytes is how much of one message is fetched (default
	// 25 MiB); a bigger one is read as far as that.
	MaxMessageBytes int64
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Kind returns the imap connector kind.
func Kind(d Deps) capture.Kind {
	if d.BatchSize <= 0 {
		d.BatchSize = 50
	}
	if d.MaxMessageBytes <= 0 {
		d.MaxMessageBytes = 25 << 20
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	k := &kind{deps: d, activities: activity.New(d.Store)}
	return capture.Kind{Check: k.check, Sync: k.sync}
}

type kind struct {
	deps       Deps
	activities *activity.Service
}

// check is the kind's capture.Kind.Check.
func (k *kind) check(cfg, old, secrets json.RawMessage) (json.RawMessage, map[string]string, error) {
	create := old == nil
	var stored json.RawMessage
	if cfg != nil || create {
		if cfg == nil {
			cfg = json.RawMessage(`{}`)
		}
		c, err := checkConfig(cfg, k.deps.Now())
		if err != nil {
			return nil, nil, err
		}
		if stored, err = json.Marshal(c); err != nil {
			return nil, nil, fmt.Errorf("mail: config: %w", err)
		}
	} else {
		stored = old
	}
	sec, err := checkSecrets(secrets, create)
	if err != nil {
		return nil, nil, err
	}
	return stored, sec, nil
}

// state is the watermark: per mailbox, the UIDVALIDITY it was read under
// and the highest UID written; under log "replies", the Message-IDs of
// messages that logged replies answer, still to look up.
type state struct {
	Mailboxes map[string]*boxState `json:"mailboxes"`
	Parents   []string             `json:"parents,omitempty"`
}

type boxState struct {
	UIDValidity uint32 `json:"uidvalidity"`
	LastUID     uint32 `json:"last_uid"`
}

// maxParents bounds the parents kept in the watermark.
const maxParents = 1000

// sync is the kind's capture.Kind.Sync.
func (k *kind) sync(ctx context.Context, run *capture.Run) error {
	var cfg Config
	if err := json.Unmarshal(run.Connector.Config, &cfg); err != nil {
		return fmt.Errorf("the connector's stored config does not read (%v): save it again", err)
	}
	password := run.Secrets["password"]
	if password == "" {
		return errors.New("no password is stored for this mailbox: enter it again")
	}
	err := k.syncMailbox(ctx, run, cfg, password)
	if err != nil && strings.Contains(err.Error(), password) {
		// Never let the password reach the connector's health.
		err = errors.New(strings.ReplaceAll(err.Error(), password, "[password]"))
	}
	return err
}

func (k *kind) syncMailbox(ctx context.Context, run *capture.Run, cfg Config, password string) error {
	log := k.deps.Logger
	if log == nil {
		log = run.Log
	}
	settings, err := k.deps.Store.SettingsGet(ctx, run.Connector.OrgID)
	if err != nil {
		return fmt.Errorf("mail: settings: %w", err)
	}
	var st state
	if len(run.State) > 0 {
		if err := json.Unmarshal(run.State, &st); err != nil {
			st = state{}
		}
	}
	if st.Mailboxes == nil {
		st.Mailboxes = map[string]*boxState{}
	}
	since, _ := time.Parse(time.DateOnly, cfg.Since)
	s := &syncer{
		k: k, run: run, cfg: cfg, log: log, st: &st, since: since,
		own: ownRule(settings.OwnDomains, cfg.Username),
	}
	c, err := k.connect(ctx, cfg, password)
	if err != nil {
		return err
	}
	defer c.close()
	s.c = c

	var errs []error
	for _, box := range cfg.Mailboxes {
		if err := s.mailbox(ctx, box); err != nil {
			if ctx.Err() != nil || c.broken() {
				return errors.Join(append(errs, err)...)
			}
			errs = append(errs, err)
		}
	}
	if err := s.lookUpParents(ctx); err != nil {
		errs = append(errs, err)
	}
	c.logout()
	log.InfoContext(ctx, "imap sync done", slog.String("connector_id", run.Connector.ID),
		slog.Int("fetched", s.counts.fetched), slog.Int("created", s.counts.created),
		slog.Int("unchanged", s.counts.unchanged), slog.Int("skipped_internal", s.counts.internal),
		slog.Int("skipped_no_account", s.counts.noAccount), slog.Int("skipped_never_log", s.counts.neverLog),
		slog.Int("skipped_not_a_reply", s.counts.notReply), slog.Int("skipped_unreadable", s.counts.unreadable),
		slog.Int("skipped_invalid", s.counts.invalid))
	return errors.Join(errs...)
}

// counts are what one run did with the messages it fetched.
type counts struct {
	fetched, created, unchanged, internal, noAccount, neverLog, notReply, unreadable, invalid int
}

// ownRule reports whether an address is a colleague's: at one of the
// org's own domains (or a subdomain), or the mailbox's own address.
func ownRule(domains []string, username string) func(email string) bool {
	self := ""
	if strings.Contains(username, "@") {
		self = crm.NormalizeEmail(username)
	}
	return func(email string) bool {
		if email == self {
			return true
		}
		return domainIn(crm.EmailDomain(email), domains)
	}
}

// domainIn reports whether d is one of domains or under one of them.
func domainIn(d string, domains []string) bool {
	for _, o := range domains {
		if d == o || strings.HasSuffix(d, "."+o) {
			return true
		}
	}
	return false
}
