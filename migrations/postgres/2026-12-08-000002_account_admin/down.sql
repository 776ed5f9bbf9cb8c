DROP TRIGGER auth_epoch_users_must_change ON users;
ALTER TABLE users DROP COLUMN must_change_password;
