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

-- The programmes every deployment starts with (targets are data: administrators edit them):
-- 2021-2025 (Decision 1629/QD-TTg: 20 % a year, 100 % by the end) and the 2026-2035 programme
-- with the same defaults while its targets are being decided. Only into an empty table.
INSERT INTO programmes (id, name, period_start, period_end, annual_min_share_bp, end_share_bp,
    types_in_scope, counted_outcomes, province_overrides, created_at, updated_at)
SELECT '6f1d8a52-2021-4c25-9a10-000000002125', 'Chương trình phòng, chống mại dâm giai đoạn 2021–2025', '2021-01-01', '2025-12-31', 2000, 10000,
    '["karaoke","dance_hall","massage_sauna","hotel","guesthouse","bar","restaurant_hostess"]', '["no_violation","violations_found"]', '{}',
    '2025-12-10 00:00:00', '2025-12-10 00:00:00'
WHERE NOT EXISTS (SELECT 1 FROM programmes WHERE period_start = '2021-01-01');
INSERT INTO programmes (id, name, period_start, period_end, annual_min_share_bp, end_share_bp,
    types_in_scope, counted_outcomes, province_overrides, created_at, updated_at)
SELECT '6f1d8a52-2026-4c35-9a10-000000002635', 'Chương trình phòng, chống mại dâm giai đoạn 2026–2035', '2026-01-01', '2035-12-31', 2000, 10000,
    '["karaoke","dance_hall","massage_sauna","hotel","guesthouse","bar","restaurant_hostess"]', '["no_violation","violations_found"]', '{}',
    '2025-12-10 00:00:00', '2025-12-10 00:00:00'
WHERE NOT EXISTS (SELECT 1 FROM programmes WHERE period_start = '2026-01-01');
