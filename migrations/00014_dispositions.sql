-- +goose Up
-- Disposition codes as data (issue #12): each org's codes, each with a label
-- and whether it counts as a connect in connect-rate reports. A code an org
-- stops using is retired, never deleted, so the calls that carry it keep
-- their label and their place in reports; a retired code cannot be given to
-- a new activity. settings.dispositions (a bare list of codes) is replaced.
CREATE TABLE dispositions (
    org_id     uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    code       text NOT NULL,
    label      text NOT NULL,
    connect    boolean NOT NULL,
    -- The order the org lists its active codes in (dialer pick lists).
    position   integer NOT NULL,
    retired_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, code)
);

-- Each org's listed codes, the defaults' connect rule applied; labels read
-- the code ("no_answer" → "No answer").
INSERT INTO dispositions (org_id, code, label, connect, position)
SELECT s.org_id, d.code, upper(left(d.code, 1)) || substr(replace(d.code, '_', ' '), 2),
       d.code IN ('connected', 'meeting_booked', 'not_interested'), d.ord
FROM settings s, unnest(s.dispositions) WITH ORDINALITY AS d(code, ord);

-- Codes in history that the org no longer lists: retired, so history keeps
-- a label.
INSERT INTO dispositions (org_id, code, label, connect, position, retired_at)
SELECT DISTINCT a.org_id, a.disposition,
       upper(left(a.disposition, 1)) || substr(replace(a.disposition, '_', ' '), 2),
       a.disposition IN ('connected', 'meeting_booked', 'not_interested'), 1000000, now()
FROM activities a
WHERE a.disposition IS NOT NULL
ON CONFLICT (org_id, code) DO NOTHING;

ALTER TABLE settings DROP COLUMN dispositions;

-- +goose Down
ALTER TABLE settings ADD COLUMN dispositions text[];
UPDATE settings s SET dispositions = ARRAY(
    SELECT d.code FROM dispositions d WHERE d.org_id = s.org_id AND d.retired_at IS NULL ORDER BY d.position, d.code);
ALTER TABLE settings ALTER COLUMN dispositions SET NOT NULL;
DROP TABLE dispositions;
