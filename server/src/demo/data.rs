//! The data files shipped in `server/data/` (see its LICENSE-DATA.md), embedded in the binary so
//! the server never reads them at run time.

pub const PROVINCES_CSV: &str = include_str!("../../data/vn_units_2025_provinces.csv");
pub const COMMUNES_CSV: &str = include_str!("../../data/vn_units_2025_communes.csv");
pub const PROVINCES_GEOJSON: &str = include_str!("../../data/vn_provinces_2025_34.geojson");
pub const HUE_COMMUNES_GEOJSON: &str = include_str!("../../data/vn_communes_46_hue.geojson");
pub const QUANG_TRI_COMMUNES_GEOJSON: &str =
    include_str!("../../data/vn_communes_44_quang_tri.geojson");
pub const CHECKLISTS_JSON: &str = include_str!("../../data/inspection_checklists_draft.json");
