DROP INDEX admin_units_code_current;
DROP TABLE reference_sets;
