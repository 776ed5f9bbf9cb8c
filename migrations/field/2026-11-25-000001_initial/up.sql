-- Local store of the field app (SQLite on the phone). Pulled data is a cache of the server's;
-- visits and photos recorded here are the phone's own until the server acknowledges them.

-- Settings and small state (sync cursor), as JSON values.
CREATE TABLE kv (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- The signed-in account (one row). Tokens stay after going offline; needs_sign_in is set when the
-- server refused the refresh token.
CREATE TABLE session (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    teams_json TEXT NOT NULL,
    access_token TEXT,
    access_expires_at BIGINT NOT NULL,
    refresh_token TEXT,
    needs_sign_in INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE assignments (
    id TEXT PRIMARY KEY NOT NULL,
    team_id TEXT NOT NULL,
    status TEXT NOT NULL,
    window_start TEXT NOT NULL,
    window_end TEXT NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE establishments (
    id TEXT PRIMARY KEY NOT NULL,
    establishment_type TEXT NOT NULL,
    search_key TEXT NOT NULL,
    lat DOUBLE,
    lon DOUBLE,
    body TEXT NOT NULL
);
CREATE INDEX establishments_type ON establishments (establishment_type);

CREATE TABLE templates (
    id TEXT PRIMARY KEY NOT NULL,
    establishment_type TEXT NOT NULL,
    version INTEGER NOT NULL,
    valid_from TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX templates_type ON templates (establishment_type, version);

-- The team's visits as the server knows them (review status and comment).
CREATE TABLE team_visits (
    id TEXT PRIMARY KEY NOT NULL,
    establishment_id TEXT NOT NULL,
    review_status TEXT NOT NULL,
    review_comment TEXT,
    evidence_pending INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX team_visits_establishment ON team_visits (establishment_id);

-- Visits recorded on this phone: a draft until submitted, then an outbox item.
-- status: draft, queued, sending, acknowledged, evidence_pending, done, conflict, failed.
CREATE TABLE visits (
    id TEXT PRIMARY KEY NOT NULL,
    owner_user_id TEXT NOT NULL,
    establishment_id TEXT NOT NULL,
    status TEXT NOT NULL,
    draft TEXT NOT NULL,
    -- The validated VisitInput JSON sent to the server (set on submit, never changed after).
    input TEXT,
    digest TEXT,
    distance_m DOUBLE,
    created_at TEXT NOT NULL,
    submitted_at TEXT,
    acknowledged_at TEXT,
    server_status INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX visits_status ON visits (status);

-- Processed photos (files under <data_dir>/photos), uploaded after their visit.
-- status: queued, sending, done, conflict, failed.
CREATE TABLE photos (
    id TEXT PRIMARY KEY NOT NULL,
    visit_id TEXT NOT NULL REFERENCES visits (id),
    seq INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    mime TEXT NOT NULL,
    original_sha256 TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    taken_at TEXT,
    status TEXT NOT NULL,
    server_status INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX photos_visit ON photos (visit_id, seq);
