-- doi178 initial schema. Portable column types: ids are TEXT (UUIDs or unit ids like "2025:46"),
-- timestamps are UTC without zone, JSON documents are TEXT. The two backends differ only in the
-- spelling of floating-point columns and in index operator classes.

-- One global change counter: every synced row carries the value it had when it last changed, so a
-- phone can ask for "what changed since N". Updating this single row serialises writers in commit
-- order on PostgreSQL too, so a cursor never skips a change committed late.
CREATE TABLE sync_counter (
    id INTEGER PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO sync_counter (id, value) VALUES (1, 0);

CREATE TABLE admin_units (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    code_version TEXT NOT NULL,
    name TEXT NOT NULL,
    full_name TEXT NOT NULL,
    name_en TEXT NOT NULL,
    level TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id TEXT REFERENCES admin_units(id),
    path TEXT NOT NULL,
    search_key TEXT NOT NULL,
    valid_from DATE NOT NULL,
    valid_to DATE,
    area_km2 REAL
);
CREATE UNIQUE INDEX admin_units_code ON admin_units (code_version, code);
CREATE INDEX admin_units_parent ON admin_units (parent_id);
CREATE INDEX admin_units_path ON admin_units (path);

CREATE TABLE unit_lineage (
    from_unit TEXT NOT NULL REFERENCES admin_units(id),
    to_unit TEXT NOT NULL REFERENCES admin_units(id),
    kind TEXT NOT NULL,
    effective DATE NOT NULL,
    PRIMARY KEY (from_unit, to_unit)
);
CREATE INDEX unit_lineage_to ON unit_lineage (to_unit);

CREATE TABLE agencies (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    unit_id TEXT REFERENCES admin_units(id)
);

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES admin_units(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX teams_unit ON teams (unit_id);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    unit_id TEXT REFERENCES admin_units(id),
    agency_id TEXT REFERENCES agencies(id),
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_unit ON users (unit_id);

CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    family_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE establishments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    establishment_type TEXT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES admin_units(id),
    address TEXT NOT NULL,
    lat REAL,
    lon REAL,
    business_reg_no TEXT,
    licence_no TEXT,
    licence_issued_on DATE,
    licence_expires_on DATE,
    antt_cert_no TEXT,
    owner_name TEXT,
    phone TEXT,
    status TEXT NOT NULL,
    opened_on DATE,
    closed_on DATE,
    risk TEXT NOT NULL,
    commitment_signed BOOLEAN NOT NULL,
    commitment_signed_on DATE,
    search_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    seq BIGINT NOT NULL
);
CREATE INDEX establishments_unit ON establishments (unit_id, name, id);
CREATE INDEX establishments_name ON establishments (name, id);
CREATE INDEX establishments_type ON establishments (establishment_type);
CREATE INDEX establishments_licence ON establishments (licence_no);
CREATE INDEX establishments_seq ON establishments (seq);

CREATE TABLE checklist_templates (
    id TEXT PRIMARY KEY,
    establishment_type TEXT NOT NULL,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    items TEXT NOT NULL,
    valid_from DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    seq BIGINT NOT NULL,
    UNIQUE (establishment_type, version)
);

CREATE TABLE programmes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    annual_min_share_bp INTEGER NOT NULL,
    end_share_bp INTEGER NOT NULL,
    types_in_scope TEXT NOT NULL,
    counted_outcomes TEXT NOT NULL,
    province_overrides TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE assignments (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    window_start DATE NOT NULL,
    window_end DATE NOT NULL,
    note TEXT,
    tip_id TEXT,
    follow_up_of TEXT,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    released_at TIMESTAMP,
    closed_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL,
    seq BIGINT NOT NULL
);
CREATE INDEX assignments_team ON assignments (team_id, status);
CREATE INDEX assignments_seq ON assignments (seq);

CREATE TABLE assignment_establishments (
    assignment_id TEXT NOT NULL REFERENCES assignments(id),
    establishment_id TEXT NOT NULL REFERENCES establishments(id),
    PRIMARY KEY (assignment_id, establishment_id)
);
CREATE INDEX assignment_establishments_est ON assignment_establishments (establishment_id);

CREATE TABLE tips (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    content TEXT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES admin_units(id),
    establishment_id TEXT REFERENCES establishments(id),
    reporter_contact TEXT,
    deadline DATE NOT NULL,
    status TEXT NOT NULL,
    handled_at TIMESTAMP,
    assignment_id TEXT REFERENCES assignments(id),
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX tips_unit ON tips (unit_id, received_at);

-- A visit's current state. The bodies of all revisions, the first included, stay in visit_revisions.
CREATE TABLE visits (
    id TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    establishment_id TEXT NOT NULL REFERENCES establishments(id),
    team_id TEXT NOT NULL REFERENCES teams(id),
    assignment_id TEXT REFERENCES assignments(id),
    submitted_by TEXT NOT NULL REFERENCES users(id),
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    lat REAL,
    lon REAL,
    accuracy_m REAL,
    distance_m REAL,
    gps_warning TEXT,
    template_id TEXT NOT NULL REFERENCES checklist_templates(id),
    template_version INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    minutes_no TEXT,
    follow_up_on DATE,
    violation_count INTEGER NOT NULL,
    total_fine_vnd BIGINT NOT NULL,
    review_status TEXT NOT NULL,
    review_comment TEXT,
    body TEXT NOT NULL,
    digest TEXT NOT NULL,
    original_digest TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    seq BIGINT NOT NULL
);
CREATE INDEX visits_establishment ON visits (establishment_id, started_at);
CREATE INDEX visits_team ON visits (team_id, started_at);
CREATE INDEX visits_started ON visits (started_at, id);
CREATE INDEX visits_seq ON visits (seq);

CREATE TABLE visit_revisions (
    visit_id TEXT NOT NULL REFERENCES visits(id),
    revision INTEGER NOT NULL,
    body TEXT NOT NULL,
    digest TEXT NOT NULL,
    submitted_by TEXT NOT NULL REFERENCES users(id),
    received_at TIMESTAMP NOT NULL,
    reason TEXT,
    PRIMARY KEY (visit_id, revision)
);

CREATE TABLE visit_violations (
    visit_id TEXT NOT NULL REFERENCES visits(id),
    idx INTEGER NOT NULL,
    code TEXT NOT NULL,
    description TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    proposed_fine_vnd BIGINT NOT NULL,
    PRIMARY KEY (visit_id, idx)
);

CREATE TABLE photos (
    id TEXT PRIMARY KEY,
    upload_sha256 TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    thumb_width INTEGER NOT NULL,
    thumb_height INTEGER NOT NULL,
    taken_at TIMESTAMP,
    uploaded_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);

-- Which photos a visit lists. A photo may arrive before or after its visit; a listed photo that
-- has no row in photos yet is evidence still pending.
CREATE TABLE visit_photos (
    visit_id TEXT NOT NULL REFERENCES visits(id),
    photo_id TEXT NOT NULL,
    PRIMARY KEY (visit_id, photo_id)
);
CREATE INDEX visit_photos_photo ON visit_photos (photo_id);
