//! The data files shipped in `server/data/` (see its LICENSE-DATA.md) that only the demo uses,
//! embedded in the binary so the server never reads them at run time.

pub const HUE_COMMUNES_GEOJSON: &str = include_str!("../../data/vn_communes_46_hue.geojson");
pub const QUANG_TRI_COMMUNES_GEOJSON: &str =
    include_str!("../../data/vn_communes_44_quang_tri.geojson");
