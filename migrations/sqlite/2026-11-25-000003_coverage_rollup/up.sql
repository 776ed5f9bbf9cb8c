-- Coverage rollup: per commune, establishment type and window start (`since`), the counts the
-- coverage API needs, so that a province with all its communes is a sum over a few thousand rows
-- instead of a pass over every establishment. `coverage_rollup_since` lists the window starts kept:
-- every programme's period_start and January 1 of each later year of its period. The rows of a
-- (commune, type) are recomputed in the same transaction as every write that can change them
-- (visits and reviews, establishment create/update/import, programme edits); the last_* columns
-- say up to which date the counts hold, and a query past them falls back to the exact count.
CREATE TABLE coverage_rollup_since (
    since DATE PRIMARY KEY
);
CREATE TABLE coverage_rollup (
    since DATE NOT NULL,
    unit_id TEXT NOT NULL,
    establishment_type TEXT NOT NULL,
    -- Establishments that ever operated, not closed on or before `since`.
    open_since INTEGER NOT NULL,
    -- Of those, the ones whose last counted inspection day is on or after `since`.
    inspected_since INTEGER NOT NULL,
    -- Establishments that ever operated and have no closing date.
    open_now INTEGER NOT NULL,
    -- Of those, the ones whose last counted inspection day is on or after `since`.
    inspected_now INTEGER NOT NULL,
    -- The latest opened_on, closed_on and counted inspection day among them.
    last_opened_on DATE,
    last_closed_on DATE,
    last_inspected_on DATE,
    PRIMARY KEY (since, unit_id, establishment_type)
);
CREATE INDEX coverage_rollup_unit ON coverage_rollup (unit_id, establishment_type);

WITH RECURSIVE years (y) AS (SELECT 1900 UNION ALL SELECT y + 1 FROM years WHERE y < 2300)
INSERT INTO coverage_rollup_since (since)
SELECT period_start FROM programmes
UNION
SELECT printf('%04d-01-01', years.y) FROM programmes p JOIN years
    ON years.y > CAST(substr(p.period_start, 1, 4) AS INTEGER)
    AND years.y <= CAST(substr(p.period_end, 1, 4) AS INTEGER);

INSERT INTO coverage_rollup (since, unit_id, establishment_type, open_since, inspected_since,
    open_now, inspected_now, last_opened_on, last_closed_on, last_inspected_on)
SELECT s.since, x.unit_id, x.establishment_type,
    SUM(CASE WHEN x.closed_on IS NULL OR x.closed_on > s.since THEN 1 ELSE 0 END),
    SUM(CASE WHEN (x.closed_on IS NULL OR x.closed_on > s.since) AND x.last_day >= s.since
        THEN 1 ELSE 0 END),
    SUM(CASE WHEN x.closed_on IS NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN x.closed_on IS NULL AND x.last_day >= s.since THEN 1 ELSE 0 END),
    MAX(x.opened_on), MAX(x.closed_on), MAX(x.last_day)
FROM (SELECT e.unit_id AS unit_id, e.establishment_type AS establishment_type,
        e.opened_on AS opened_on, e.closed_on AS closed_on,
        (SELECT MAX(d.day) FROM inspection_days d WHERE d.establishment_id = e.id) AS last_day
    FROM establishments e
    WHERE e.opened_on IS NULL OR e.closed_on IS NULL OR e.closed_on > e.opened_on) x
CROSS JOIN coverage_rollup_since s
GROUP BY s.since, x.unit_id, x.establishment_type;

-- What the planner needs of each establishment's visits, so that it never reads the visits: the
-- last counted inspection day and the violations recorded in visits not rejected in review.
-- Recomputed with `inspection_days` in the same transaction as every visit write; only
-- establishments with either have a row.
CREATE TABLE establishment_visit_summary (
    establishment_id TEXT PRIMARY KEY REFERENCES establishments (id),
    last_inspected_on DATE,
    prior_violations BIGINT NOT NULL
);

INSERT INTO establishment_visit_summary (establishment_id, last_inspected_on, prior_violations)
SELECT x.establishment_id, MAX(x.last_day), CAST(SUM(x.violations) AS BIGINT)
FROM (SELECT establishment_id, MAX(day) AS last_day, CAST(0 AS BIGINT) AS violations
        FROM inspection_days GROUP BY establishment_id
    UNION ALL
    SELECT establishment_id, NULL AS last_day, CAST(SUM(violation_count) AS BIGINT) AS violations
        FROM visits WHERE review_status <> 'rejected' AND violation_count > 0
        GROUP BY establishment_id) x
GROUP BY x.establishment_id;
