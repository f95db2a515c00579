package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"logbook/internal/crm"
)

// The reports (issue #12) aggregate a time range of the org's activities
// in one statement each. The connect-rate report reads dials (outbound
// calls and voicemails) from the partial covering index activities_dials_idx
// and the volume report every activity from activities_volume_idx, both on
// (org_id, occurred_at) (migration 00019), so either is one index-only range
// scan whatever the grouping; labels are joined to the few grouped rows.

// Report groupings. The API validates group_by against ConnectRateGroups
// and VolumeGroups.
const (
	GroupSegment     = "segment"
	GroupOwner       = "owner"
	GroupList        = "list"
	GroupDisposition = "disposition"
	GroupType        = "type"
	GroupWeek        = "week"
)

// ConnectRateGroups are the groupings of ReportConnectRates, VolumeGroups
// those of ReportActivityVolume; the first of each is the API's default.
var (
	ConnectRateGroups = []string{GroupSegment, GroupOwner, GroupList, GroupDisposition}
	VolumeGroups      = []string{GroupWeek, GroupOwner, GroupType}
)

// Labels of the buckets whose key is null.
const (
	NoSegmentLabel     = "(no segment)"
	NoOwnerLabel       = "(no owner)"
	NoListLabel        = "(no list)"
	NoDispositionLabel = "(no disposition)"
)

// ReportFilter is the range and filters of a report.
type ReportFilter struct {
	// Since and Until bound occurred_at: Since inclusive, Until exclusive.
	Since, Until time.Time
	// TZ is the IANA zone weeks are cut in (GroupWeek); "" is UTC.
	TZ string
	// OwnerID keeps the activities of this owner; "" keeps all.
	OwnerID string
	// Types keeps activities of these types (the volume report only);
	// empty keeps all.
	Types []crm.ActivityType
}

// ConnectRateRow is one group of the connect-rate report.
type ConnectRateRow struct {
	// Key is the group's value (a segment, an owner's ID, a list, a
	// disposition code); nil for the bucket of dials that have none.
	Key *string
	// Label names the group for people: the owner's name, the code's
	// label, the segment or list itself, or "(no …)" for the nil key.
	Label string
	// Dials are the group's outbound calls and voicemails.
	Dials int64
	// Connected are the dials whose disposition the org flags as a connect.
	Connected int64
	// NoDisposition are the dials without a disposition, or with a code the
	// org's dispositions table does not have.
	NoDisposition int64
}

// VolumeRow is one group of the activity-volume report.
type VolumeRow struct {
	// Key is the owner's ID, the type or the week's Monday (YYYY-MM-DD);
	// nil for activities without an owner.
	Key *string
	// Label is the owner's name, the type, or the ISO week (2026-W10).
	Label string
	// Activities is how many activities the group has.
	Activities int64
}

// ReportConnectRates counts the org's dials in f's range by groupBy (one of
// ConnectRateGroups): dials are activities with direction outbound and type
// call or voicemail; a dial is connected when the dispositions table flags
// its code as a connect now (retired codes included). Every dial lands in
// exactly one row, so the rows add up to the range's totals: a dial with no
// segment, owner or list is in the row whose key is nil, and with
// GroupDisposition a dial with no disposition, or with a code the table does
// not have, is in the nil row. Rows come ordered by dials, most first, then
// label (byte order), the nil row last among equals.
func (s *Store) ReportConnectRates(ctx context.Context, orgID, groupBy string, f ReportFilter) ([]ConnectRateRow, error) {
	const op = "report connect rates"
	q, a, err := connectRateQuery(orgID, groupBy, f)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	rows, err := s.db.Query(ctx, q, a...)
	if err != nil {
		return nil, interpretError(op, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ConnectRateRow, error) {
		var c ConnectRateRow
		err := r.Scan(&c.Key, &c.Label, &c.Dials, &c.Connected, &c.NoDisposition)
		return c, err
	})
	if err != nil {
		return nil, interpretError(op, err)
	}
	return out, nil
}

// connectRateQuery is ReportConnectRates' statement: the dials of the range
// counted by group (with the disposition's connect flag joined per dial),
// then the few groups labelled and ordered.
func connectRateQuery(orgID, groupBy string, f ReportFilter) (string, args, error) {
	var a args
	org := a.add(orgID)
	where := `a.org_id = ` + org + ` AND a.direction = 'outbound' AND a.type IN ('call', 'voicemail')
		AND a.occurred_at >= ` + a.add(f.Since) + ` AND a.occurred_at < ` + a.add(f.Until)
	if f.OwnerID != "" {
		where += ` AND a.owner_id = ` + a.add(f.OwnerID)
	}
	// key groups the dials; label names a group from the grouped row g
	// and, for owners, the users row u.
	var key, join, label, labelJoin string
	switch groupBy {
	case GroupSegment:
		key = `NULLIF(acc.segment, '')`
		join = `JOIN accounts acc ON acc.org_id = a.org_id AND acc.id = a.account_id`
		label = `COALESCE(g.key, '` + NoSegmentLabel + `')`
	case GroupOwner:
		key = `a.owner_id`
		label = `COALESCE(u.name, '` + NoOwnerLabel + `')`
		labelJoin = `LEFT JOIN users u ON u.org_id = ` + org + ` AND u.id = g.key`
	case GroupList:
		key = `a.list`
		label = `COALESCE(g.key, '` + NoListLabel + `')`
	case GroupDisposition:
		key = `d.code`
		label = `COALESCE(dl.label, '` + NoDispositionLabel + `')`
		labelJoin = `LEFT JOIN dispositions dl ON dl.org_id = ` + org + ` AND dl.code = g.key`
	default:
		return "", nil, fmt.Errorf("unknown grouping %q", groupBy)
	}
	q := `SELECT g.key::text, ` + label + `, g.dials, g.connected, g.no_disposition
		FROM (SELECT ` + key + ` AS key, count(*) AS dials,
		             count(*) FILTER (WHERE d.connect) AS connected,
		             count(*) FILTER (WHERE d.code IS NULL) AS no_disposition
		      FROM activities a
		      LEFT JOIN dispositions d ON d.org_id = a.org_id AND d.code = a.disposition
		      ` + join + `
		      WHERE ` + where + `
		      GROUP BY 1) g
		` + labelJoin + `
		ORDER BY g.dials DESC, g.key IS NULL, ` + label + ` COLLATE "C", g.key::text COLLATE "C"`
	return q, a, nil
}

// ReportActivityVolume counts the org's activities in f's range by groupBy
// (one of VolumeGroups). By owner or type only groups with activities are
// rows, ordered by count, most first, then label, the nil owner last among
// equals. By week every week that overlaps the range is a row, zeros
// included, oldest first: weeks are ISO weeks (Monday to Sunday) of local
// time in f.TZ, so a week across a change of daylight saving time is still
// Monday 00:00 to Monday 00:00 on the clock there. A zone PostgreSQL does
// not know is a validation error on tz.
func (s *Store) ReportActivityVolume(ctx context.Context, orgID, groupBy string, f ReportFilter) ([]VolumeRow, error) {
	const op = "report activity volume"
	q, a, err := volumeQuery(orgID, groupBy, f)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	rows, err := s.db.Query(ctx, q, a...)
	if err != nil {
		return nil, reportError(op, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (VolumeRow, error) {
		var v VolumeRow
		err := r.Scan(&v.Key, &v.Label, &v.Activities)
		return v, err
	})
	if err != nil {
		return nil, reportError(op, err)
	}
	return out, nil
}

// volumeQuery is ReportActivityVolume's statement.
func volumeQuery(orgID, groupBy string, f ReportFilter) (string, args, error) {
	var a args
	org := a.add(orgID)
	since, until := a.add(f.Since), a.add(f.Until)
	where := `a.org_id = ` + org + ` AND a.occurred_at >= ` + since + ` AND a.occurred_at < ` + until
	if f.OwnerID != "" {
		where += ` AND a.owner_id = ` + a.add(f.OwnerID)
	}
	if len(f.Types) > 0 {
		types := make([]string, len(f.Types))
		for i, t := range f.Types {
			types[i] = string(t)
		}
		where += ` AND a.type = ANY(` + a.add(types) + `::text[])`
	}
	var q string
	switch groupBy {
	case GroupOwner, GroupType:
		key, label, labelJoin := `a.type`, `g.key`, ``
		if groupBy == GroupOwner {
			key, label = `a.owner_id`, `COALESCE(u.name, '`+NoOwnerLabel+`')`
			labelJoin = `LEFT JOIN users u ON u.org_id = ` + org + ` AND u.id = g.key`
		}
		q = `SELECT g.key::text, ` + label + `, g.n
			FROM (SELECT ` + key + ` AS key, count(*) AS n FROM activities a WHERE ` + where + ` GROUP BY 1) g
			` + labelJoin + `
			ORDER BY g.n DESC, g.key IS NULL, ` + label + ` COLLATE "C", g.key::text COLLATE "C"`
	case GroupWeek:
		tz := a.add(reportTZ(f.TZ))
		// The last week is the one holding the range's last instant.
		q = `WITH weeks AS (
				SELECT generate_series(date_trunc('week', ` + since + `::timestamptz AT TIME ZONE ` + tz + `),
				                       date_trunc('week', (` + until + `::timestamptz - interval '1 microsecond') AT TIME ZONE ` + tz + `),
				                       interval '7 days') AS week),
			counts AS (
				SELECT date_trunc('week', a.occurred_at AT TIME ZONE ` + tz + `) AS week, count(*) AS n
				FROM activities a WHERE ` + where + ` GROUP BY 1)
			SELECT to_char(w.week, 'YYYY-MM-DD'), to_char(w.week, 'IYYY-"W"IW'), COALESCE(c.n, 0)
			FROM weeks w LEFT JOIN counts c ON c.week = w.week
			ORDER BY w.week`
	default:
		return "", nil, fmt.Errorf("unknown grouping %q", groupBy)
	}
	return q, a, nil
}

// reportTZ is the zone name PostgreSQL is given: "" is UTC.
func reportTZ(tz string) string {
	if tz == "" {
		return "UTC"
	}
	return tz
}

// reportError is interpretError, but a zone name PostgreSQL does not know
// (its time zone database may be older than Go's) is the client's tz.
func reportError(op string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "22023" && strings.Contains(pe.Message, "time zone") {
		return fmt.Errorf("store: %s: %w", op, crm.Invalid("tz", "is not a time zone the database knows"))
	}
	return interpretError(op, err)
}
