-- +goose Up
-- Dialer webhooks (issue #14) find the contact a call was with by phone
-- number. Numbers are stored as people typed them ("(415) 555-0100",
-- "+1 415 555 0100", "020 7946 0958"), so a call's number is matched on
-- its phone key: the last 9 digits, which an international (E.164) and a
-- national spelling of one number share. This index serves that lookup.
CREATE INDEX contacts_phone_key_idx ON contacts (org_id, (right(regexp_replace(phone, '[^0-9]', '', 'g'), 9)))
    WHERE phone IS NOT NULL;

-- +goose Down
DROP INDEX contacts_phone_key_idx;
