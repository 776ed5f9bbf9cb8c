-- Coverage toward the programme target: one row per establishment and Vietnamese calendar day
-- with at least one counted inspection (a visit not rejected in review whose outcome the
-- programme counts). Kept up to date in the same transaction as every visit write, so coverage
-- for any date and any period start is an indexed probe, never a scan of the visits.
CREATE TABLE inspection_days (
    establishment_id TEXT NOT NULL REFERENCES establishments (id),
    day DATE NOT NULL,
    visits INTEGER NOT NULL,
    PRIMARY KEY (establishment_id, day)
);
CREATE INDEX inspection_days_day ON inspection_days (day);
