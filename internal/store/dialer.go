package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// DialerSecret names one of the dialer hooks' secrets an org keeps in its
// settings, sealed by the caller with internal/secretbox.
type DialerSecret string

// The dialer secrets.
const (
	// DialerTwilioAuthToken is the Twilio account's auth token, which
	// signs its status callbacks (X-Twilio-Signature).
	DialerTwilioAuthToken DialerSecret = "twilio_auth_token"
	// DialerAircallToken is the token Aircall puts in every event of the
	// org's webhook.
	DialerAircallToken DialerSecret = "aircall_token"
)

// column is the settings column that holds the secret ("" for a name that
// is not a dialer secret). Names come from this fixed list only, so no
// caller's text reaches the SQL.
func (d DialerSecret) column() string {
	switch d {
	case DialerTwilioAuthToken:
		return "twilio_auth_token"
	case DialerAircallToken:
		return "aircall_token"
	}
	return ""
}

// DialerSecretAAD is the additional data a dialer secret is sealed with:
// it binds the sealed bytes to the org and the setting, so a value copied
// to another org's row, or to the other setting, does not open.
func DialerSecretAAD(orgID string, name DialerSecret) string {
	return "settings:" + orgID + ":" + string(name)
}

// DialerSecretSet stores the sealed secret (nil removes it) and touches the
// settings' updated_at. An unknown org is crm.ErrNotFound.
func (s *Store) DialerSecretSet(ctx context.Context, orgID string, name DialerSecret, sealed []byte) error {
	col := name.column()
	if col == "" {
		return fmt.Errorf("store: set dialer secret: %q is not a dialer secret", name)
	}
	tag, err := s.db.Exec(ctx, `UPDATE settings SET `+col+` = $2, updated_at = $3 WHERE org_id = $1`, orgID, sealed, s.clock())
	if err != nil {
		return interpretError("set dialer secret", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: set dialer secret: %w", crm.ErrNotFound)
	}
	return nil
}

// DialerSecretGet returns the sealed secret. An unknown org, an org ID
// that is not a UUID and an org without the secret are all
// crm.ErrNotFound: the hooks answer them alike.
func (s *Store) DialerSecretGet(ctx context.Context, orgID string, name DialerSecret) ([]byte, error) {
	col := name.column()
	if col == "" {
		return nil, fmt.Errorf("store: get dialer secret: %q is not a dialer secret", name)
	}
	if !crm.ValidID(orgID) {
		return nil, fmt.Errorf("store: get dialer secret: %w", crm.ErrNotFound)
	}
	var sealed []byte
	err := s.db.QueryRow(ctx, `SELECT `+col+` FROM settings WHERE org_id = $1`, orgID).Scan(&sealed)
	if err != nil {
		return nil, interpretError("get dialer secret", err)
	}
	if sealed == nil {
		return nil, fmt.Errorf("store: get dialer secret: %w", crm.ErrNotFound)
	}
	return sealed, nil
}

// dialerLockClass is the first key of the advisory locks DialerCallLock
// takes (the two-key form, so they never meet a single-key lock).
const dialerLockClass = 1_400_014

// DialerCallLock takes a transaction-scoped advisory lock on one call of
// an org (its source and external ID), so that two callbacks of the same
// call (ringing and completed arriving together) are applied one after the
// other: the second reads what the first wrote. Run it in a transaction.
func (s *Store) DialerCallLock(ctx context.Context, orgID, externalID string) error {
	_, err := s.db.Exec(ctx, `SELECT pg_advisory_xact_lock($1::int, hashtext($2))`, dialerLockClass, orgID+":"+externalID)
	return interpretError("lock dialer call", err)
}

// DialerCallGet returns the activity of source dialer with externalID, or
// crm.ErrNotFound.
func (s *Store) DialerCallGet(ctx context.Context, orgID, externalID string) (crm.Activity, error) {
	var id string
	err := s.db.QueryRow(ctx, `SELECT id FROM activities WHERE org_id = $1 AND source = $2 AND external_id = $3`,
		orgID, string(crm.SourceDialer), externalID).Scan(&id)
	if err != nil {
		return crm.Activity{}, interpretError("get dialer call", err)
	}
	return s.ActivityGet(ctx, orgID, id)
}

// DialerMatch is what a call's numbers and rep resolve to.
type DialerMatch struct {
	// Contacts are the contacts whose phone key equals the number's, most
	// recently updated first (at most 20), each with its account.
	Contacts []DialerContact
	// OwnerID is the user with the rep's email, "" when none.
	OwnerID string
}

// DialerContact is a contact a call's number matched.
type DialerContact struct {
	ID, AccountID string
}

// PhoneKey is the key numbers are matched on: the last 9 digits of the
// number (all of them when it has fewer). "" when the number has fewer
// than 7 digits, too short to name anyone (an extension, a short code).
func PhoneKey(number string) string {
	digits := make([]byte, 0, len(number))
	for i := 0; i < len(number); i++ {
		if c := number[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	if len(digits) < 7 {
		return ""
	}
	if len(digits) > 9 {
		digits = digits[len(digits)-9:]
	}
	return string(digits)
}

// DialerMatchFind finds the contacts with phone's key (contacts_phone_key_idx;
// none when PhoneKey(phone) is "") and the user with ownerEmail (none when
// it is "").
func (s *Store) DialerMatchFind(ctx context.Context, orgID, phone, ownerEmail string) (DialerMatch, error) {
	const op = "find dialer match"
	var m DialerMatch
	if key := PhoneKey(phone); key != "" {
		rows, err := s.db.Query(ctx, `SELECT id, account_id FROM contacts
			WHERE org_id = $1 AND phone IS NOT NULL AND right(regexp_replace(phone, '[^0-9]', '', 'g'), 9) = $2
			ORDER BY updated_at DESC, id LIMIT 20`, orgID, key)
		if err != nil {
			return m, interpretError(op, err)
		}
		m.Contacts, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (DialerContact, error) {
			var c DialerContact
			err := r.Scan(&c.ID, &c.AccountID)
			return c, err
		})
		if err != nil {
			return m, interpretError(op, err)
		}
	}
	if ownerEmail != "" {
		err := s.db.QueryRow(ctx, `SELECT id FROM users WHERE org_id = $1 AND email = $2`, orgID, crm.NormalizeEmail(ownerEmail)).Scan(&m.OwnerID)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return m, interpretError(op, err)
		}
	}
	return m, nil
}
