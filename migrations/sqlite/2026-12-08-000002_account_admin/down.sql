DROP TRIGGER auth_epoch_users_must_change;
ALTER TABLE users DROP COLUMN must_change_password;
