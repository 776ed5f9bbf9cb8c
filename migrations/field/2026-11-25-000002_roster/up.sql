-- The members of the user's teams, as the last pull sync carried them (replaced as a whole by
-- every page that has a roster): who may be recorded as present at a visit.
CREATE TABLE roster (
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    agency_id TEXT,
    agency_name TEXT,
    PRIMARY KEY (team_id, user_id)
);
