-- +goose Up
-- Every process caches successful API key lookups (store.KeyCache) and drops
-- a key when 'logbook_api_keys' carries its hash. APIKeyRevoke notifies; this
-- trigger makes every other path notify too (an operator revoking or deleting
-- a key by hand in SQL), so no path can leave a revoked key cached.
-- +goose StatementBegin
CREATE FUNCTION api_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.revoked_at IS DISTINCT FROM OLD.revoked_at
       OR NEW.key_hash IS DISTINCT FROM OLD.key_hash OR NEW.scopes IS DISTINCT FROM OLD.scopes THEN
        PERFORM pg_notify('logbook_api_keys', encode(OLD.key_hash, 'hex'));
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER api_keys_notify AFTER UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_notify();

-- +goose Down
DROP TRIGGER api_keys_notify ON api_keys;
DROP FUNCTION api_keys_notify();
