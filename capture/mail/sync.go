package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"logbook/capture"
	"logbook/internal/crm"
	"logbook/internal/mailmsg"
	"logbook/internal/store"
)

// syncer is one run's work.
type syncer struct {
	k      *kind
	run    *capture.Run
	cfg    Config
	log    *slog.Logger
	st     *state
	since  time.Time
	own    func(email string) bool
	c      *conn
	counts counts
	// parents is a backfill's list of messages to look up (a backfill
	// never writes the watermark, which holds them otherwise).
	backfillParents []string
}

// fetched is one message as fetched and parsed.
type fetched struct {
	uid      imap.UID
	internal time.Time
	flags    []imap.Flag
	msg      mailmsg.Message
	err      error
}

func (s *syncer) backfill() bool { return s.run.Range != nil }

// mailbox syncs one mailbox: the new UIDs (or a backfill's range), in
// batches, each checkpointed once written.
func (s *syncer) mailbox(ctx context.Context, box string) error {
	sel, err := s.c.Select(box, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return fmt.Errorf("cannot open mailbox %q: %s", box, imapProblem(err))
	}
	criteria := &imap.SearchCriteria{}
	var bs *boxState
	if s.backfill() {
		// IMAP compares dates (in the server's zone): a day either side.
		criteria.Since = day(s.run.Range.From).AddDate(0, 0, -1)
		if !s.run.Range.To.IsZero() {
			criteria.Before = day(s.run.Range.To).AddDate(0, 0, 2)
		}
	} else {
		bs = s.st.Mailboxes[box]
		if bs == nil || bs.UIDValidity != sel.UIDValidity {
			if bs != nil {
				s.log.InfoContext(ctx, "imap mailbox UIDVALIDITY changed: reading it again from since",
					slog.String("connector_id", s.run.Connector.ID), slog.String("mailbox", box))
			}
			bs = &boxState{UIDValidity: sel.UIDValidity}
			s.st.Mailboxes[box] = bs
		}
		if !s.since.IsZero() {
			criteria.Since = s.since
		}
		if bs.LastUID > 0 {
			criteria.UID = []imap.UIDSet{{{Start: imap.UID(bs.LastUID + 1), Stop: 0}}}
		}
	}
	var uids []imap.UID
	if sel.NumMessages > 0 {
		data, err := s.c.UIDSearch(criteria, nil).Wait()
		if err != nil {
			return fmt.Errorf("cannot search mailbox %q: %s", box, imapProblem(err))
		}
		for _, u := range data.AllUIDs() {
			// "n:*" includes the highest UID even when it is below n.
			if bs == nil || uint32(u) > bs.LastUID {
				uids = append(uids, u)
			}
		}
		slices.Sort(uids)
	}
	for len(uids) > 0 {
		n := min(len(uids), s.k.deps.BatchSize)
		batch := uids[:n]
		uids = uids[n:]
		items, err := s.fetch(batch)
		if err != nil {
			return s.fetchProblem(box, err)
		}
		for _, it := range items {
			if err := s.write(ctx, box, it, false); err != nil {
				return err
			}
		}
		if bs != nil {
			bs.LastUID = max(bs.LastUID, uint32(batch[n-1]))
		}
		if err := s.checkpoint(ctx); err != nil {
			return err
		}
	}
	if bs != nil {
		// Record the UIDVALIDITY read (and nothing new) as well.
		return s.checkpoint(ctx)
	}
	return nil
}

// fetchProblem says why a FETCH failed: the server's refusal, or the
// connection lost (whose decoder error would say nothing useful).
func (s *syncer) fetchProblem(box string, err error) error {
	if s.c.broken() {
		return fmt.Errorf("the connection to %s was lost while fetching from mailbox %q", s.c.host, box)
	}
	return fmt.Errorf("cannot fetch messages from mailbox %q: %s", box, imapProblem(err))
}

func (s *syncer) checkpoint(ctx context.Context) error {
	if s.backfill() {
		return s.run.Checkpoint(ctx, nil)
	}
	return s.run.Checkpoint(ctx, s.st)
}

// fetch fetches and parses the messages of uids, in UID order.
func (s *syncer) fetch(uids []imap.UID) ([]fetched, error) {
	limit := s.k.deps.MaxMessageBytes
	opts := &imap.FetchOptions{
		UID: true, Flags: true, InternalDate: true, RFC822Size: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: limit}}},
	}
	cmd := s.c.Fetch(imap.UIDSetNum(uids...), opts)
	var out []fetched
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		var it fetched
		var raw []byte
		var size int64
		var readErr error
		for {
			item := msg.Next()
			if item == nil {
				break
			}
			switch v := item.(type) {
			case imapclient.FetchItemDataUID:
				it.uid = v.UID
			case imapclient.FetchItemDataFlags:
				it.flags = v.Flags
			case imapclient.FetchItemDataInternalDate:
				it.internal = v.Time
			case imapclient.FetchItemDataRFC822Size:
				size = v.Size
			case imapclient.FetchItemDataBodySection:
				if v.Literal != nil {
					raw, readErr = io.ReadAll(io.LimitReader(v.Literal, limit))
				}
			}
		}
		if it.uid == 0 || !slices.Contains(uids, it.uid) {
			continue // a flag change the server volunteered
		}
		switch {
		case readErr != nil:
			it.err = readErr
		case raw == nil:
			it.err = errors.New("the server sent no body")
		default:
			it.msg, it.err = mailmsg.Parse(raw)
			if size > limit {
				it.msg.Truncated = true
			}
		}
		out = append(out, it)
	}
	if err := cmd.Close(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b fetched) int { return int(a.uid) - int(b.uid) })
	return out, nil
}

// meta is an email activity's metadata.
type meta struct {
	MessageID   string               `json:"message_id"`
	ThreadID    string               `json:"thread_id"`
	InReplyTo   *string              `json:"in_reply_to"`
	Mailbox     string               `json:"mailbox"`
	Attachments []mailmsg.Attachment `json:"attachments"`
	Truncated   bool                 `json:"truncated,omitempty"`
}

// write logs one message by the rules (see the package doc); force skips
// the "replies" check (a parent a logged reply answers).
func (s *syncer) write(ctx context.Context, box string, it fetched, force bool) error {
	s.counts.fetched++
	if it.err != nil {
		s.counts.unreadable++
		s.log.WarnContext(ctx, "imap message unreadable", slog.String("connector_id", s.run.Connector.ID),
			slog.String("mailbox", box), slog.Uint64("uid", uint64(it.uid)), slog.Any("error", it.err))
		return nil
	}
	m := it.msg
	all := append(append([]mailmsg.Address{m.From}, m.To...), m.Cc...)
	for _, a := range all {
		if s.neverLog(a.Email) {
			s.counts.neverLog++
			return nil
		}
	}
	isReply := m.InReplyTo != "" || len(m.References) > 0
	if s.cfg.Log == LogReplies && !force && !isReply && !slices.Contains(it.flags, imap.FlagAnswered) {
		s.counts.notReply++
		return nil
	}
	var participants []crm.Participant
	for _, a := range all {
		if a.Email == "" || s.own(a.Email) || !validEmail(a.Email) ||
			slices.ContainsFunc(participants, func(p crm.Participant) bool { return p.Email == a.Email }) {
			continue
		}
		if len(participants) == crm.MaxContactIDs {
			break
		}
		participants = append(participants, crm.Participant{Name: crm.ClipText(a.Name, crm.MaxName), Email: a.Email})
	}
	if len(participants) == 0 {
		s.counts.internal++
		return nil
	}
	dir := crm.DirectionInbound
	if m.From.Email != "" && s.own(m.From.Email) {
		dir = crm.DirectionOutbound
	}
	at := m.Date
	if at.IsZero() || at.Year() < crm.MinYear || at.Year() > crm.MaxYear {
		at = it.internal
	}
	if at.IsZero() {
		at = s.k.deps.Now()
	}
	id := m.MessageID
	if id == "" {
		id = mailmsg.SyntheticID(m)
	}
	id = shortID(id)
	thread := id
	switch {
	case len(m.References) > 0:
		thread = shortID(m.References[0])
	case m.InReplyTo != "":
		thread = shortID(m.InReplyTo)
	}
	md := meta{MessageID: id, ThreadID: thread, Mailbox: box, Attachments: m.Attachments, Truncated: m.Truncated}
	if md.Attachments == nil {
		md.Attachments = []mailmsg.Attachment{}
	}
	if m.InReplyTo != "" {
		r := shortID(m.InReplyTo)
		md.InReplyTo = &r
	}
	mdJSON, err := json.Marshal(md)
	if err != nil {
		return fmt.Errorf("mail: metadata: %w", err)
	}
	in := crm.ActivityInput{
		Type:         crm.Some(crm.ActivityEmail),
		Direction:    crm.Some(dir),
		Participants: crm.Some(participants),
		OccurredAt:   crm.Some(at.UTC().Format(time.RFC3339)),
		Source:       crm.Some(crm.SourceEmailSync),
		ExternalID:   crm.Some(id),
		Metadata:     crm.Some(json.RawMessage(mdJSON)),
	}
	if s.run.Connector.UserID != nil {
		in.OwnerID = crm.Some(*s.run.Connector.UserID)
	}
	if subj := crm.ClipText(m.Subject, crm.MaxSubject); subj != "" {
		in.Subject = crm.Some(subj)
	}
	if body := crm.ClipText(mailmsg.Trim(m.Text), crm.MaxBody); body != "" {
		in.Body = crm.Some(body)
	}
	_, res, deliveries, err := s.k.activities.Upsert(ctx, s.run.Connector.OrgID, in)
	if err == nil {
		s.run.Deliver(deliveries)
	}
	if err != nil {
		var ve *crm.ValidationError
		if !errors.As(err, &ve) {
			return fmt.Errorf("mail: write activity: %w", err)
		}
		var fields []string
		for _, f := range ve.Fields {
			switch f.Field {
			case "participants":
				s.counts.noAccount++
				return nil
			case "owner_id":
				return errors.New("the connector's user no longer exists: set its user_id to the mailbox owner")
			}
			fields = append(fields, f.Field)
		}
		s.counts.invalid++
		s.log.WarnContext(ctx, "imap message not logged", slog.String("connector_id", s.run.Connector.ID),
			slog.String("mailbox", box), slog.Uint64("uid", uint64(it.uid)), slog.Any("fields", fields))
		return nil
	}
	if res == store.UpsertCreated {
		s.counts.created++
		s.run.Captured(1, at)
	} else {
		s.counts.unchanged++
	}
	if s.cfg.Log == LogReplies && isReply {
		parent := m.InReplyTo
		if parent == "" {
			parent = m.References[len(m.References)-1]
		}
		s.addParent(shortID(parent))
	}
	return nil
}

func (s *syncer) addParent(id string) {
	list := &s.st.Parents
	if s.backfill() {
		list = &s.backfillParents
	}
	if slices.Contains(*list, id) {
		return
	}
	*list = append(*list, id)
	if len(*list) > maxParents {
		*list = (*list)[len(*list)-maxParents:]
	}
}

// lookUpParents looks up, in every synced mailbox, the messages that logged
// replies answer, and logs them ("replies" only). A parent not found is
// dropped; one that is itself a reply adds its own parent, up to a few
// rounds.
func (s *syncer) lookUpParents(ctx context.Context) error {
	list := &s.st.Parents
	if s.backfill() {
		list = &s.backfillParents
	}
	if len(*list) == 0 {
		return nil
	}
	done := map[string]bool{}
	for round := 0; round < 5 && len(*list) > 0; round++ {
		want := slices.Clone(*list)
		*list = nil
		for _, id := range want {
			done[id] = true
		}
		for _, box := range s.cfg.Mailboxes {
			if err := s.findParents(ctx, box, want); err != nil {
				*list = append(want, *list...)
				return err
			}
		}
		*list = slices.DeleteFunc(*list, func(id string) bool { return done[id] })
	}
	*list = nil
	return s.checkpoint(ctx)
}

func (s *syncer) findParents(ctx context.Context, box string, ids []string) error {
	sel, err := s.c.Select(box, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return fmt.Errorf("cannot open mailbox %q: %s", box, imapProblem(err))
	}
	if sel.NumMessages == 0 {
		return nil
	}
	for chunk := range slices.Chunk(ids, 10) {
		var crit imap.SearchCriteria
		for i, id := range chunk {
			h := imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: "<" + id + ">"}}}
			if i == 0 {
				crit = h
			} else {
				crit = imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{crit, h}}}
			}
		}
		data, err := s.c.UIDSearch(&crit, nil).Wait()
		if err != nil {
			return fmt.Errorf("cannot search mailbox %q: %s", box, imapProblem(err))
		}
		uids := data.AllUIDs()
		if len(uids) == 0 {
			continue
		}
		items, err := s.fetch(uids)
		if err != nil {
			return s.fetchProblem(box, err)
		}
		for _, it := range items {
			// HEADER search matches substrings: keep exact matches only.
			if it.err != nil || !slices.Contains(chunk, shortID(it.msg.MessageID)) {
				continue
			}
			if err := s.write(ctx, box, it, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// neverLog reports whether the config's never_log names email or its
// domain (or a parent domain).
func (s *syncer) neverLog(email string) bool {
	if email == "" {
		return false
	}
	d := crm.EmailDomain(email)
	for _, n := range s.cfg.NeverLog {
		if n == email || (!strings.Contains(n, "@") && (d == n || strings.HasSuffix(d, "."+n))) {
			return true
		}
	}
	return false
}

// shortID keeps a message identifier within an external_id's limit: a
// longer one is replaced by its hash.
func shortID(id string) string {
	if len(id) <= crm.MaxExternalID {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256-" + hex.EncodeToString(sum[:20]) + "@logbook.invalid"
}

func validEmail(e string) bool {
	var p crm.Problems
	crm.CheckEmail(&p, "email", e)
	return p.Len() == 0
}

// day is t's date at midnight UTC.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
