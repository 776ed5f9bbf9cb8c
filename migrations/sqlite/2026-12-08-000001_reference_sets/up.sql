-- The reference data shipped with the product (administrative units of each code list, their
-- lineage, agencies, default checklist templates): which version of each set this database holds.
-- The server loads a set on its first start and applies a newer shipped version in place (rows
-- added or updated, history never removed).
CREATE TABLE reference_sets (
    name TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    digest TEXT NOT NULL,
    items INTEGER NOT NULL,
    loaded_at TIMESTAMP NOT NULL
);

-- A bare official code ("46") means that code in the list in force.
CREATE INDEX admin_units_code_current ON admin_units (code, valid_to);
