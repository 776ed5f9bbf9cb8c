//! The reference files shipped in `server/data/` (see its LICENSE-DATA.md), embedded in the
//! binary so the server never reads them at run time.

pub const PROVINCES_2025_CSV: &str = include_str!("../../../data/vn_units_2025_provinces.csv");
pub const COMMUNES_2025_CSV: &str = include_str!("../../../data/vn_units_2025_communes.csv");
pub const AREAS_2025_CSV: &str = include_str!("../../../data/vn_units_2025_areas.csv");
pub const COMMUNES_PRE_2025_CSV: &str = include_str!("../../../data/vn_units_pre2025_communes.csv");
pub const LINEAGE_2025_CSV: &str = include_str!("../../../data/vn_units_lineage_2025.csv");
pub const AGENCIES_CSV: &str = include_str!("../../../data/agencies.csv");
pub const CHECKLISTS_JSON: &str = include_str!("../../../data/checklists.json");
