package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// maxTranscriptBody bounds a posted transcript. A four-hour meeting as
// word-level JSON (the largest format) is ~6 MB; the word limit in
// internal/transcript is what really caps a transcript's length.
const maxTranscriptBody = activity.MaxTranscriptBytes

// transcriptAccepted is the answer to a posted transcript.
type transcriptAccepted struct {
	ID         string               `json:"id"`
	ActivityID string               `json:"activity_id"`
	Status     crm.TranscriptStatus `json:"status"`
	StatusURL  string               `json:"status_url"`
}

// transcriptCreate reads, parses and stores a posted transcript within the
// transcript budget (transcriptGate): a body declared over the limit is 413
// before anything is read, and no more than the budget's bodies are in
// memory at once, whatever their number.
func (h *handler) transcriptCreate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	release, err := h.transcripts.enter(w, r)
	if err != nil {
		return err
	}
	defer release()
	var in activity.TranscriptInput
	if err := decodeJSON(w, r, &in, maxTranscriptBody); err != nil {
		return err
	}
	res, err := h.transcriptIngest(r.Context(), p.OrgID, &in, nil)
	if err != nil {
		return err
	}
	release() // the transcript is stored: its memory is no longer held
	h.transcriptAnswer(w, r, p.OrgID, res)
	return nil
}

// transcriptIngest parses a posted transcript and stores it, recording the
// delivery d when the signed hook received it.
func (h *handler) transcriptIngest(ctx context.Context, orgID string, in *activity.TranscriptInput, d *activity.Delivery) (store.Ingested, error) {
	ing, err := activity.ParseTranscript(in)
	if err != nil {
		return store.Ingested{}, err
	}
	*in = activity.TranscriptInput{} // the content lives on in ing only
	if d != nil {
		return h.activities.IngestSignedTranscript(ctx, orgID, *d, ing)
	}
	return h.activities.IngestTranscript(ctx, orgID, ing)
}

// transcriptAnswer enqueues what the ingest stored and answers: 202 when
// the transcript is queued, 200 when it was already stored unchanged.
func (h *handler) transcriptAnswer(w http.ResponseWriter, r *http.Request, orgID string, res store.Ingested) {
	t := res.Transcript
	status := http.StatusOK
	var work []string
	switch res.Result {
	case store.IngestQueued:
		status = http.StatusAccepted
		work = []string{t.ID}
	case store.IngestHeld:
		status = http.StatusAccepted // stored, held for consent: nothing to enqueue
	}
	h.enqueueAfterCommit(r.Context(), orgID, work, res.Deliveries)
	writeJSON(w, status, transcriptAccepted{ID: t.ID, ActivityID: t.ActivityID, Status: t.Status,
		StatusURL: "/v1/transcripts/" + t.ID})
}

// transcriptHook authenticates by signature instead of a bearer key, and
// checks all it can before reading the body: the org header, the signature
// header's form and timestamp window, the declared length and the org's
// ingest secret. The body is then read once, under the size limit and
// within the transcript budget, through the HMAC; it is decoded and parsed
// only when the signature matches. A signature already accepted within its
// window (a replay) is 401, as API.md has it (the signature no longer
// authorises anything): external_id dedupes content, the signature dedupes
// deliveries.
func (h *handler) transcriptHook(w http.ResponseWriter, r *http.Request, _ crm.Principal) error {
	orgID := strings.ToLower(strings.TrimSpace(r.Header.Get("Logbook-Org")))
	unauthorized := func(detail string) error {
		return &httpError{status: http.StatusUnauthorized, detail: detail}
	}
	if !crm.ValidID(orgID) {
		return unauthorized("the Logbook-Org header must name the org (its ID)")
	}
	now := h.now()
	sig, err := crm.ParseSignature(r.Header.Get(crm.SignatureHeader), now)
	if err != nil {
		return unauthorized(err.Error())
	}
	if err := checkContentLength(r, maxTranscriptBody); err != nil {
		return err
	}
	secret, err := h.store.IngestSecretGet(r.Context(), orgID)
	if errors.Is(err, crm.ErrNotFound) {
		return unauthorized("bad signature or no ingest secret set for this org")
	}
	if err != nil {
		return err
	}
	release, err := h.transcripts.enter(w, r)
	if err != nil {
		return err
	}
	defer release()
	in, d, err := h.hookBody(w, r, orgID, secret, sig, now)
	if err != nil {
		return err
	}
	res, err := h.transcriptIngest(r.Context(), orgID, in, d)
	if errors.Is(err, crm.ErrReplayedSignature) {
		return errReplay
	}
	if err != nil {
		return err
	}
	release()
	h.transcriptAnswer(w, r, orgID, res)
	return nil
}

// hookBody reads the hook's body once, under the size limit and through
// the signature's HMAC, and decodes it only when the signature matches and
// has not been accepted before. The raw body is garbage when it returns:
// only the decoded transcript lives on.
func (h *handler) hookBody(w http.ResponseWriter, r *http.Request, orgID, secret string, sig crm.Signature, now time.Time) (*activity.TranscriptInput, *activity.Delivery, error) {
	mac := sig.Verifier(secret)
	body, err := readBodyTo(w, r, maxTranscriptBody, mac)
	if err != nil {
		return nil, nil, err
	}
	matched, err := mac.Verify()
	if err != nil {
		return nil, nil, &httpError{status: http.StatusUnauthorized, detail: err.Error()}
	}
	sum := sha256.Sum256(matched)
	d := &activity.Delivery{SigHash: sum[:], Expires: sig.Expires(), Now: now}
	seen, err := h.store.IngestSignatureSeen(r.Context(), orgID, d.SigHash, now)
	if err != nil {
		return nil, nil, err
	}
	if seen {
		return nil, nil, errReplay
	}
	in := new(activity.TranscriptInput)
	if err := unmarshalStrict(body, in); err != nil {
		return nil, nil, err
	}
	return in, d, nil
}

// errReplay answers a signed delivery repeated within its window.
var errReplay = &httpError{status: http.StatusUnauthorized, detail: "this signature was already accepted (a replayed delivery); " +
	"the first delivery was stored. Sign each new delivery with a fresh timestamp"}

func (h *handler) transcriptGet(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	inc := r.URL.Query().Get("include")
	if inc != "" && inc != "segments" {
		return crm.Invalid("include", "must be segments")
	}
	t, err := h.store.TranscriptGet(r.Context(), p.OrgID, id, inc == "segments")
	if err != nil {
		return err
	}
	if t.Consents, err = h.store.MeetingConsents(r.Context(), p.OrgID, t.ActivityID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// actionItemPatch is the body of PATCH /v1/action-items/{id}.
type actionItemPatch struct {
	Status crm.ActionItemStatus `json:"status"`
}

func (h *handler) actionItemList(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var pr crm.Problems
	f := store.ActionItemFilter{
		AccountID: queryID(&pr, r, "account_id"),
		Owner:     queryText(&pr, r, "owner", crm.MaxName),
		Status:    crm.ActionItemStatus(r.URL.Query().Get("status")),
		Limit:     queryInt(&pr, r, "limit", 1, store.MaxLimit),
		Cursor:    r.URL.Query().Get("cursor"),
	}
	if f.Status != "" && !f.Status.Valid() {
		pr.Add("status", "must be open or done")
	}
	if s := r.URL.Query().Get("due_before"); s != "" {
		d, err := crm.ParseDate(s)
		if err != nil {
			pr.Add("due_before", "must be a date as YYYY-MM-DD")
		} else {
			f.DueBefore = &d
		}
	}
	if side := store.BriefSide(r.URL.Query().Get("side")); side != "" {
		if !slices.Contains(store.BriefSides, side) {
			pr.Add("side", "must be ours, theirs or unknown")
		}
		f.Side = side
	}
	if err := pr.Err(); err != nil {
		return err
	}
	page, err := h.store.ActionItemList(r.Context(), p.OrgID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (h *handler) actionItemUpdate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in actionItemPatch
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if !in.Status.Valid() {
		return crm.Invalid("status", "must be open or done")
	}
	it, err := h.store.ActionItemSetStatus(r.Context(), p.OrgID, id, in.Status)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, it)
	return nil
}

func (h *handler) followUpRegenerate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.store.ActivityGet(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	if h.followUp == nil {
		return errStatus(http.StatusServiceUnavailable, "follow-up drafting is not configured on this server")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	f, err := h.followUp.RegenerateFollowUp(ctx, p.OrgID, id)
	if errors.Is(err, crm.ErrNotFound) {
		return errStatus(http.StatusConflict, "this activity has no processed meeting notes yet")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}
