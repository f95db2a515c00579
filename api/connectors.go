package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"logbook/capture"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// The connectors (issue #14): the mailboxes, calendars and note-takers
// that log activities without anyone typing them. Create, change and
// resync go through capture.Service (Deps.Capture), which checks each
// kind's config and seals the secrets; reads and delete go to the store.
// Secrets are write-only: no answer carries them (crm.Connector has none;
// secrets_set names which are stored).
//
// Every route is admin scope, reads included: a connector's config names
// mail servers, calendar URLs and mailbox users, its logging rules name
// people and domains, and its last error can name them too, which is the
// org's integration set-up (as webhooks are), not the activity record a
// read key is for.

// maxResyncRange is the longest range one resync may backfill.
const maxResyncRange = 366 * 24 * time.Hour

// connectorResync is the body of POST /v1/connectors/{id}/resync.
type connectorResync struct {
	// From is where the backfill starts (inclusive): an RFC 3339 time, or
	// a date (YYYY-MM-DD: that day's start, UTC). Not in the future.
	From string `json:"from" openapi:"schema=DateOrTime"`
	// To is where it ends (exclusive; default now): an RFC 3339 time, or a
	// date (that day is included: the next day's start, UTC).
	To *string `json:"to" openapi:"schema=DateOrTime"`
}

// errConnectorsUnavailable answers the writes of a server built without
// connectors (Deps.Capture nil).
var errConnectorsUnavailable = errStatus(http.StatusServiceUnavailable, "connectors are not available on this server")

// captureError maps what capture answers that is not already a crm error:
// a server without LOGBOOK_SECRET_KEY is a 422 on secrets (the client
// cannot store secrets here; the operator must set the key).
func captureError(err error) error {
	if errors.Is(err, capture.ErrNoSecretKey) {
		return crm.Invalid("secrets", "%s", capture.ErrNoSecretKey.Error())
	}
	return err
}

func (h *handler) connectorList(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	cs, err := h.store.ConnectorList(r.Context(), p.OrgID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, itemsOf[crm.Connector]{Items: cs})
	return nil
}

func (h *handler) connectorCreate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var in crm.ConnectorInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if h.capture == nil {
		return errConnectorsUnavailable
	}
	c, err := h.capture.Create(r.Context(), p.OrgID, in)
	if err != nil {
		return captureError(err)
	}
	w.Header().Set("Location", "/v1/connectors/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (h *handler) connectorGet(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := h.store.ConnectorGet(r.Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.Connector)
	return nil
}

func (h *handler) connectorUpdate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in crm.ConnectorInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if h.capture == nil {
		return errConnectorsUnavailable
	}
	c, err := h.capture.Update(r.Context(), p.OrgID, id, in)
	if err != nil {
		return captureError(err)
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (h *handler) connectorDelete(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.store.ConnectorDelete(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// connectorResyncRange validates a resync body as of now: from not in the
// future, to after from (a date naming today is allowed), the range at
// most maxResyncRange. A zero to means now.
func connectorResyncRange(in connectorResync, now time.Time) (from, to time.Time, err error) {
	var pr crm.Problems
	from = resyncTime(&pr, "from", in.From, false)
	if in.To != nil {
		to = resyncTime(&pr, "to", *in.To, true)
	}
	if pr.Len() == 0 {
		end := to
		if end.IsZero() {
			end = now
		}
		// A date is a whole day: today's date as to ends at tomorrow's start.
		tomorrow := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		switch {
		case from.After(now):
			pr.Add("from", "must not be in the future")
		case !to.IsZero() && to.After(tomorrow):
			pr.Add("to", "must not be in the future")
		case !end.After(from):
			pr.Add("to", "must be after from")
		case end.Sub(from) > maxResyncRange:
			pr.Add("to", "the range must be at most 366 days: resync a long history in several ranges")
		}
	}
	return from, to, pr.Err()
}

// resyncTime parses an RFC 3339 time or a YYYY-MM-DD date; a date is its
// day's start, or with end its next day's start (the day included).
func resyncTime(pr *crm.Problems, field, s string, end bool) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		pr.Add(field, "is required: an RFC 3339 time or a date YYYY-MM-DD")
		return time.Time{}
	}
	if !strings.Contains(s, "T") && !strings.Contains(s, "t") {
		d, ok := crm.CheckDate(pr, field, s)
		if !ok {
			return time.Time{}
		}
		if end {
			return d.Time.UTC().AddDate(0, 0, 1)
		}
		return d.Time.UTC()
	}
	return crm.ParseTime(pr, field, s)
}

func (h *handler) connectorResync(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in connectorResync
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	from, to, err := connectorResyncRange(in, h.now())
	if err != nil {
		return err
	}
	if h.capture == nil {
		return errConnectorsUnavailable
	}
	c, err := h.capture.Resync(r.Context(), p.OrgID, id, from, to)
	var ve *crm.ValidationError
	var ce *crm.ConflictError
	switch {
	case err == nil:
	case errors.Is(err, crm.ErrNotFound), errors.As(err, &ve), errors.As(err, &ce),
		errors.Is(store.Classify(err), store.ErrUnavailable), errors.Is(err, context.Canceled):
		return captureError(err)
	default:
		// What is left is the task queue refusing the backfill (Redis
		// down): nothing was changed, the client may retry.
		h.log.WarnContext(r.Context(), "enqueue connector resync", slog.String("connector_id", id), slog.Any("error", err))
		return errStatus(http.StatusServiceUnavailable, "the task queue cannot take the resync right now; retry later")
	}
	writeJSON(w, http.StatusAccepted, c)
	return nil
}
