package activity

import (
	"strings"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// newRow builds the finished row of a validated create input.
func newRow(item int, in *crm.ActivityInput, accountID string, contactIDs []string) store.ActivityRow {
	r := store.ActivityRow{
		Item:         item,
		ID:           store.NewID(),
		Type:         in.Type.V,
		Direction:    in.Direction.Ptr(),
		AccountID:    accountID,
		DealID:       lowerID(in.DealID.Ptr()),
		OwnerID:      lowerID(in.OwnerID.Ptr()),
		OccurredAt:   in.OccurredAtValue,
		Duration:     in.DurationSeconds.Ptr(),
		Subject:      in.Subject.Ptr(),
		Body:         in.Body.Ptr(),
		Disposition:  in.Disposition.Ptr(),
		NextStep:     in.NextStepValue,
		Participants: participants(in.Participants.Ptr()),
		Source:       crm.SourceAPI,
		ExternalID:   in.ExternalID.Ptr(),
		Metadata:     in.MetadataValue,
		ContactIDs:   contactIDs,
	}
	if v := in.Source.Ptr(); v != nil {
		r.Source = *v
	}
	r.Finish()
	return r
}

// patchedRow is the current activity with the set fields of in applied
// (null clears; validation refused null where it is not allowed). It is not
// finished: the contacts may still be recomputed.
func patchedRow(cur crm.Activity, in *crm.ActivityInput) store.ActivityRow {
	r := store.ActivityRow{
		ID: cur.ID, Type: cur.Type, Direction: cur.Direction, AccountID: cur.AccountID,
		DealID: cur.DealID, OwnerID: cur.OwnerID, OccurredAt: cur.OccurredAt, Duration: cur.DurationSeconds,
		Subject: cur.Subject, Body: cur.Body, Disposition: cur.Disposition, NextStep: cur.NextStep,
		Participants: cur.Participants, Source: cur.Source, ExternalID: cur.ExternalID,
		Metadata: cur.Metadata, ContactIDs: cur.ContactIDs,
	}
	if in.Type.Set {
		r.Type = in.Type.V
	}
	if in.Direction.Set {
		r.Direction = in.Direction.Ptr()
	}
	if v := in.AccountID.Ptr(); v != nil {
		r.AccountID = strings.ToLower(*v)
	}
	if in.DealID.Set {
		r.DealID = lowerID(in.DealID.Ptr())
	}
	if in.OwnerID.Set {
		r.OwnerID = lowerID(in.OwnerID.Ptr())
	}
	if in.OccurredAt.Set {
		r.OccurredAt = in.OccurredAtValue
	}
	if in.DurationSeconds.Set {
		r.Duration = in.DurationSeconds.Ptr()
	}
	if in.Subject.Set {
		r.Subject = in.Subject.Ptr()
	}
	if in.Body.Set {
		r.Body = in.Body.Ptr()
	}
	if in.Disposition.Set {
		r.Disposition = in.Disposition.Ptr()
	}
	if in.NextStep.Set {
		r.NextStep = in.NextStepValue
	}
	if in.Participants.Set {
		r.Participants = participants(in.Participants.Ptr())
	}
	if in.Source.Set {
		r.Source = in.Source.V
	}
	if in.ExternalID.Set {
		r.ExternalID = in.ExternalID.Ptr()
	}
	if in.Metadata.Set {
		r.Metadata = in.MetadataValue
	}
	return r
}

// participants keeps participants as given, with names trimmed (emails were
// normalised by validation).
func participants(ps *[]crm.Participant) []crm.Participant {
	if ps == nil {
		return []crm.Participant{}
	}
	out := make([]crm.Participant, len(*ps))
	for i, p := range *ps {
		out[i] = crm.Participant{Name: strings.TrimSpace(p.Name), Email: p.Email}
	}
	return out
}

func lowerID(id *string) *string {
	if id == nil {
		return nil
	}
	s := strings.ToLower(*id)
	return &s
}
