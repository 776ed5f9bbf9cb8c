-- Failed sign-ins, for throttling (per account and per client address). One row per failure, kept
-- for the throttling window; the key is a SHA-256, never the username or address typed in.
CREATE TABLE auth_failures (
    id TEXT PRIMARY KEY,
    -- 'account' or 'address'
    scope TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX auth_failures_key ON auth_failures (key_hash, failed_at);
CREATE INDEX auth_failures_at ON auth_failures (failed_at);
