-- Tamper-evident audit log: one entry per write, appended in the write's own transaction.
-- `seq` counts 1, 2, 3, … with no gaps; `hash` is SHA-256 over a canonical encoding of every
-- other column, `prev_hash` included, so an edited, removed or reordered entry breaks the chain
-- (`doi178-server audit verify`). `before_digest` / `after_digest` are SHA-256 digests of the
-- entity's canonical JSON before and after the write (NULL for a create / delete).
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor_id TEXT,
    actor_username TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before_digest TEXT,
    after_digest TEXT,
    summary TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
