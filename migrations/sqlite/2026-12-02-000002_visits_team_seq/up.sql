-- A phone's sync pull asks for its teams' visits changed after its cursor, in change order
-- (`team_id IN (…) AND seq > ? ORDER BY seq`). With only `visits_seq` that walked every team's
-- changes since the cursor to find its own (under load, tens of thousands of rows per pull);
-- this index is one range per team.
CREATE INDEX visits_team_seq ON visits (team_id, seq);
