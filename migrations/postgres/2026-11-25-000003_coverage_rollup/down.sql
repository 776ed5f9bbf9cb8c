DROP TABLE establishment_visit_summary;
DROP TABLE coverage_rollup;
DROP TABLE coverage_rollup_since;
