-- An account whose password an administrator reset to a temporary one: it must choose its own at
-- the next sign-in before it can do anything else.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;

-- The flag is part of what a signed-in user's authorisation is built from.
CREATE TRIGGER auth_epoch_users_must_change AFTER UPDATE OF must_change_password ON users
BEGIN UPDATE auth_epoch SET n = n + 1 WHERE id = 1; END;
