-- The authorisation epoch: one number that changes whenever anything a signed-in user's
-- authorisation is built from changes (accounts, sessions, team memberships, teams, units). The
-- server keeps the users it has loaded for as long as the epoch is unchanged, so a request reads
-- one row instead of rebuilding the user's jurisdiction; the triggers make every writer (this
-- server, another one on the same database, a hand-made fix in the database) end that reuse.
CREATE TABLE auth_epoch (
    id INTEGER PRIMARY KEY,
    n BIGINT NOT NULL
);
INSERT INTO auth_epoch (id, n) VALUES (1, 0);

CREATE FUNCTION auth_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE auth_epoch SET n = n + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

-- Sessions: signing out, reuse detection and clean-up revoke or remove tokens (a new token
-- cannot close a session, so inserts are left out).
CREATE TRIGGER auth_epoch_tokens_revoke AFTER UPDATE OF revoked_at, user_id, family_id ON refresh_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER auth_epoch_tokens_delete AFTER DELETE ON refresh_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION auth_epoch_bump();

-- Accounts: role, unit, active, names (a password change alone leaves sessions as they are).
CREATE TRIGGER auth_epoch_users_insert AFTER INSERT ON users
    FOR EACH STATEMENT EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER auth_epoch_users_update AFTER UPDATE OF id, username, display_name, role, unit_id, active ON users
    FOR EACH STATEMENT EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER auth_epoch_users_delete AFTER DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION auth_epoch_bump();

-- Memberships and teams.
CREATE TRIGGER auth_epoch_members_change AFTER INSERT OR UPDATE OR DELETE ON team_members
    FOR EACH STATEMENT EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER auth_epoch_teams_update AFTER UPDATE OF id, unit_id ON teams
    FOR EACH STATEMENT EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER auth_epoch_teams_delete AFTER DELETE ON teams
    FOR EACH STATEMENT EXECUTE FUNCTION auth_epoch_bump();

-- Units: a jurisdiction is a unit's subtree (by `path`).
CREATE TRIGGER auth_epoch_units_change AFTER INSERT OR DELETE ON admin_units
    FOR EACH STATEMENT EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER auth_epoch_units_update AFTER UPDATE OF id, parent_id, path ON admin_units
    FOR EACH STATEMENT EXECUTE FUNCTION auth_epoch_bump();
