package store

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// An org's disposition codes live in the dispositions table (migration
// 00014): a code is retired, never deleted, so the calls that carry it keep
// their label and their place in reports.

// dispositionCodesSQL is the org's codes as one jsonb array of
// crm.DispositionCode, active ones first in the org's order, then retired
// ones; o is the alias of a table with the org_id column.
func dispositionCodesSQL(o string) string {
	return `(SELECT COALESCE(jsonb_agg(jsonb_build_object('code', d.code, 'label', d.label, 'connect', d.connect,
			'retired', d.retired_at IS NOT NULL) ORDER BY d.retired_at IS NOT NULL, d.position, d.code), '[]')
		FROM dispositions d WHERE d.org_id = ` + o + `.org_id)`
}

// activeCodes are the codes of the active entries of codes, in order.
func activeCodes(codes []crm.DispositionCode) []string {
	out := []string{}
	for _, c := range codes {
		if !c.Retired {
			out = append(out, c.Code)
		}
	}
	return out
}

// dispositionsInsertDefaults gives a new org the default codes.
func (s *Store) dispositionsInsertDefaults(ctx context.Context, orgID string, now time.Time) error {
	return s.dispositionsWrite(ctx, orgID, crm.DefaultDispositionCodes(), nil, now)
}

// dispositionsReplace makes list the org's active codes, in order, and
// retires the rest. An entry's unset label or connect keeps the code's
// current value, or takes the default for a new code (crm.DispositionLabel,
// crm.ConnectedDispositions). Run it in a transaction.
func (s *Store) dispositionsReplace(ctx context.Context, orgID string, list []crm.DispositionCodeInput, now time.Time) error {
	const op = "replace disposition codes"
	rows, err := s.db.Query(ctx, `SELECT code, label, connect, retired_at IS NOT NULL FROM dispositions
		WHERE org_id = $1 ORDER BY code FOR UPDATE`, orgID)
	if err != nil {
		return interpretError(op, err)
	}
	current, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (crm.DispositionCode, error) {
		var c crm.DispositionCode
		err := r.Scan(&c.Code, &c.Label, &c.Connect, &c.Retired)
		return c, err
	})
	if err != nil {
		return interpretError(op, err)
	}
	byCode := map[string]crm.DispositionCode{}
	for _, c := range current {
		byCode[c.Code] = c
	}
	next := make([]crm.DispositionCode, len(list))
	listed := map[string]bool{}
	for i, in := range list {
		c, ok := byCode[in.Code]
		if !ok {
			c = crm.DispositionCode{Code: in.Code, Label: crm.DispositionLabel(in.Code),
				Connect: slices.Contains(crm.ConnectedDispositions, in.Code)}
		}
		if in.Label.Set && !in.Label.Null {
			c.Label = in.Label.V
		}
		if in.Connect.Set && !in.Connect.Null {
			c.Connect = in.Connect.V
		}
		next[i] = c
		listed[in.Code] = true
	}
	var retire []string
	for _, c := range current {
		if !listed[c.Code] && !c.Retired {
			retire = append(retire, c.Code)
		}
	}
	return s.dispositionsWrite(ctx, orgID, next, retire, now)
}

// dispositionsWrite upserts active as the org's active codes (positions in
// order, retired_at cleared) and retires the codes in retire.
func (s *Store) dispositionsWrite(ctx context.Context, orgID string, active []crm.DispositionCode, retire []string, now time.Time) error {
	const op = "write disposition codes"
	codes := make([]string, len(active))
	labels := make([]string, len(active))
	connects := make([]bool, len(active))
	for i, c := range active {
		codes[i], labels[i], connects[i] = c.Code, c.Label, c.Connect
	}
	if len(retire) > 0 {
		if _, err := s.db.Exec(ctx, `UPDATE dispositions SET retired_at = $3, updated_at = $3
			WHERE org_id = $1 AND code = ANY($2::text[]) AND retired_at IS NULL`, orgID, retire, now); err != nil {
			return interpretError(op, err)
		}
	}
	_, err := s.db.Exec(ctx, `
		INSERT INTO dispositions (org_id, code, label, connect, position, created_at, updated_at)
		SELECT $1, c.code, c.label, c.connect, c.ord, $5, $5
		FROM unnest($2::text[], $3::text[], $4::boolean[]) WITH ORDINALITY AS c(code, label, connect, ord)
		ON CONFLICT (org_id, code) DO UPDATE SET label = EXCLUDED.label, connect = EXCLUDED.connect,
			position = EXCLUDED.position, retired_at = NULL,
			updated_at = CASE WHEN (dispositions.label, dispositions.connect, dispositions.position, dispositions.retired_at)
			                       IS NOT DISTINCT FROM (EXCLUDED.label, EXCLUDED.connect, EXCLUDED.position, NULL::timestamptz)
			                  THEN dispositions.updated_at ELSE EXCLUDED.updated_at END`,
		orgID, codes, labels, connects, now)
	return interpretError(op, err)
}
