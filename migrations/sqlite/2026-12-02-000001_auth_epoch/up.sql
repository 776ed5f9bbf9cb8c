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

-- Sessions: signing out, reuse detection and clean-up revoke or remove tokens (a new token
-- cannot close a session, so inserts are left out).
CREATE TRIGGER auth_epoch_tokens_revoke AFTER UPDATE OF revoked_at, user_id, family_id ON refresh_tokens
BEGIN UPDATE auth_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_tokens_delete AFTER DELETE ON refresh_tokens
BEGIN UPDATE auth_epoch SET n = n + 1 WHERE id = 1; END;

-- Accounts: role, unit, active, names (a password change alone leaves sessions as they are).
CREATE TRIGGER auth_epoch_users_insert AFTER INSERT ON users
BEGIN UPDATE auth_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_users_update AFTER UPDATE OF id, username, display_name, role, unit_id, active ON users
BEGIN UPDATE auth_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_users_delete AFTER DELETE ON users
BEGIN UPDATE auth_epoch SET n = n + 1 WHERE id = 1; END;

-- Memberships and teams.
CREATE TRIGGER auth_epoch_members_insert AFTER INSERT ON team_members
BEGIN UPDATE auth_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_members_update AFTER UPDATE ON team_members
BEGIN UPDATE auth_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_members_delete AFTER DELETE ON team_members
BEGIN UPDATE auth_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_teams_update AFTER UPDATE OF id, unit_id ON teams
BEGIN UPDATE auth_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_teams_delete AFTER DELETE ON teams
BEGIN UPDATE auth_epoch SET n = n + 1 WHERE id = 1; END;

-- Units: a jurisdiction is a unit's subtree (by `path`).
CREATE TRIGGER auth_epoch_units_insert AFTER INSERT ON admin_units
BEGIN UPDATE auth_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_units_update AFTER UPDATE OF id, parent_id, path ON admin_units
BEGIN UPDATE auth_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_units_delete AFTER DELETE ON admin_units
BEGIN UPDATE auth_epoch SET n = n + 1 WHERE id = 1; END;
