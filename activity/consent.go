package activity

import (
	"context"
	"errors"
	"fmt"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// Consent as data (issue #14): a meeting's participants' recording consents
// decide whether its transcript may be processed. The gate runs where a
// transcript is stored and wherever consents change, in the same
// transaction, so a transcript is never enqueued while it should be held.

// gateResult says what the consent gate did to a transcript.
type gateResult int

const (
	// gateNone: nothing changed.
	gateNone gateResult = iota
	// gateHeld: the transcript is held (newly, or with a new reason).
	gateHeld
	// gateReleased: a held transcript was queued again; enqueue it after
	// commit.
	gateReleased
)

// participantConsents takes the consents a posted transcript's participants
// carry (participants[i].consent), checking each value, and strips them
// from the participants (an activity's participants carry none).
func participantConsents(p *crm.Problems, ps []crm.Participant) []crm.ConsentInput {
	var out []crm.ConsentInput
	for i := range ps {
		c := ps[i].Consent
		if c == "" {
			continue
		}
		ps[i].Consent = ""
		if !c.Valid() {
			p.Add(fmt.Sprintf("participants[%d].consent", i), "must be one of given, declined, unknown")
			continue
		}
		out = append(out, crm.ConsentInput{Name: ps[i].Name, Email: ps[i].Email, Consent: c})
	}
	return out
}

// consentGate applies the consent rule (crm.ConsentGate: anyone declined,
// or the org requires consent and someone's is not given) to the meeting
// act's transcript t inside the transaction tx:
//   - queued or processing, and the gate holds: held with the reason (not
//     when an admin released this content already);
//   - held, and the gate now passes: queued again (gateReleased: the
//     caller enqueues it after commit); still holding: the reason is kept
//     up to date;
//   - done or failed: left alone (consents given or withdrawn after the
//     notes were written do not unwrite them; a discarded one is gone).
func consentGate(ctx context.Context, tx *store.Store, orgID string, act crm.Activity, t crm.Transcript) (crm.Transcript, gateResult, error) {
	switch t.Status {
	case crm.TranscriptQueued, crm.TranscriptProcessing, crm.TranscriptHeld:
	default:
		return t, gateNone, nil
	}
	if t.ConsentDecision != nil && t.ConsentDecision.Decision == crm.ConsentReleased {
		return t, gateNone, nil // an admin decided to process this content anyway
	}
	require, consents, err := tx.ConsentGateFacts(ctx, orgID, act.ID)
	if err != nil {
		return t, gateNone, err
	}
	hold, reason := crm.ConsentGate(consents, act.Participants, require)
	switch {
	case hold && (t.Status != crm.TranscriptHeld || t.HeldReason == nil || *t.HeldReason != reason):
		t, err = tx.TranscriptHold(ctx, orgID, t.ID, reason)
		return t, gateHeld, err
	case !hold && t.Status == crm.TranscriptHeld:
		t, err = tx.TranscriptUnhold(ctx, orgID, t.ID)
		return t, gateReleased, err
	}
	return t, gateNone, nil
}

// ConsentsResult is what setting a meeting's consents did.
type ConsentsResult struct {
	// Consents are the meeting's consents as now recorded.
	Consents []crm.MeetingConsent
	// Transcript is the meeting's transcript after the gate, nil when it
	// has none.
	Transcript *crm.Transcript
	// Released is set when the new consents released a held transcript:
	// enqueue it after commit.
	Released bool
}

// ConsentsSet replaces the recorded consents of the meeting activityID
// (PUT /v1/activities/{id}/consents, the web UI) with in, recorded from
// source, and applies the consent gate to its transcript in the same
// transaction: a queued one is held when the consents say so, a held one
// is released when they now allow it (Released: enqueue it). An activity of
// another org is crm.ErrNotFound; one that is not a meeting, or a bad
// body, is a *crm.ValidationError.
func (s *Service) ConsentsSet(ctx context.Context, orgID, activityID, source string, in crm.ConsentsInput) (ConsentsResult, error) {
	var res ConsentsResult
	err := s.store.WithTx(ctx, func(tx *store.Store) error {
		act, err := tx.ActivityGetForUpdate(ctx, orgID, activityID)
		if err != nil {
			return err
		}
		if act.Type != crm.ActivityMeeting {
			return crm.Invalid("consents", "are recorded for meetings only; this activity is a %s", act.Type)
		}
		if err := in.Validate(); err != nil {
			return err
		}
		// An entry named by email only takes the meeting participant's name.
		names := map[string]string{}
		for _, pt := range act.Participants {
			if pt.Email != "" && pt.Name != "" {
				names[crm.NormalizeEmail(pt.Email)] = pt.Name
			}
		}
		for i := range in.Consents {
			if c := &in.Consents[i]; c.Name == "" && c.Email != "" {
				c.Name = names[c.Email]
			}
		}
		if err := tx.ConsentsReplace(ctx, orgID, activityID, source, in.Consents); err != nil {
			return err
		}
		t, err := tx.TranscriptByActivityForUpdate(ctx, orgID, activityID)
		switch {
		case errors.Is(err, crm.ErrNotFound):
		case err != nil:
			return err
		default:
			t, g, err := consentGate(ctx, tx, orgID, act, t)
			if err != nil {
				return err
			}
			res.Transcript, res.Released = &t, g == gateReleased
		}
		res.Consents, err = tx.MeetingConsents(ctx, orgID, activityID)
		return err
	})
	return res, err
}
