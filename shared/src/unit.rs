//! Administrative units (đơn vị hành chính): codes tied to their code-list version, the kinds and
//! levels of units, lineage across the 2025 reorganisation, and materialised paths for subtrees.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::error::{DomainError, DomainResult};
use crate::text::clean_line;

/// Longest accepted short name (`name`) of a unit.
pub const MAX_UNIT_NAME: usize = 120;
/// Longest accepted full name (`full_name`, with the kind prefix) of a unit.
pub const MAX_UNIT_FULL_NAME: usize = 160;

domain_enum! {
    /// Which official code list a code belongs to. Codes were reused for different territory on
    /// 1 July 2025 (44 was Quảng Bình, is now the merged Quảng Trị), so a code is never stored alone.
    pub enum CodeVersion ("version") {
        /// The list in force until 30 June 2025 (province, district, commune).
        Pre2025 = "pre2025", "Trước sắp xếp năm 2025", "Before the 2025 reorganisation";
        /// Decision 19/2025/QĐ-TTg, from 1 July 2025 (province, commune).
        V2025 = "2025", "Sau sắp xếp năm 2025", "After the 2025 reorganisation";
    }
}

domain_enum! {
    /// Tier of a unit (cấp). The district tier exists only in [`CodeVersion::Pre2025`].
    pub enum UnitLevel ("level") {
        /// The whole country: the root that coverage, reports and the map put above the
        /// provinces. No stored unit has it (no official code has its length).
        Country = "country", "Toàn quốc", "Country";
        Province = "province", "Cấp tỉnh", "Province level";
        District = "district", "Cấp huyện", "District level";
        Commune = "commune", "Cấp xã", "Commune level";
    }
}

impl UnitLevel {
    /// Rank in the three-tier system: province 1, district 2, commune 3 (the country 0). After 2025 a commune
    /// hangs directly under its province, so this orders levels; it is not a count of ancestors.
    pub const fn depth(self) -> u8 {
        match self {
            UnitLevel::Country => 0,
            UnitLevel::Province => 1,
            UnitLevel::District => 2,
            UnitLevel::Commune => 3,
        }
    }
}

domain_enum! {
    /// Kind of unit; the Vietnamese label is also the prefix of its full name.
    pub enum UnitKind ("kind") {
        /// The whole country (see [`UnitLevel::Country`]).
        Country = "country", "Toàn quốc", "Country";
        /// tỉnh
        Province = "province", "Tỉnh", "Province";
        /// thành phố trực thuộc trung ương
        CentralCity = "central_city", "Thành phố trực thuộc trung ương", "Centrally-run city";
        /// quận
        UrbanDistrict = "urban_district", "Quận", "Urban district";
        /// huyện
        RuralDistrict = "rural_district", "Huyện", "Rural district";
        /// thị xã
        Town = "town", "Thị xã", "Town";
        /// thành phố thuộc tỉnh (or thuộc thành phố trực thuộc trung ương, like Thủ Đức)
        ProvincialCity = "provincial_city", "Thành phố thuộc tỉnh", "Provincial city";
        /// xã
        Commune = "commune", "Xã", "Commune";
        /// phường
        Ward = "ward", "Phường", "Ward";
        /// thị trấn
        Township = "township", "Thị trấn", "Township";
        /// đặc khu (tại hải đảo), since 2025
        SpecialZone = "special_zone", "Đặc khu", "Special zone";
    }
}

impl UnitKind {
    pub const fn level(self) -> UnitLevel {
        match self {
            UnitKind::Country => UnitLevel::Country,
            UnitKind::Province | UnitKind::CentralCity => UnitLevel::Province,
            UnitKind::UrbanDistrict
            | UnitKind::RuralDistrict
            | UnitKind::Town
            | UnitKind::ProvincialCity => UnitLevel::District,
            UnitKind::Commune | UnitKind::Ward | UnitKind::Township | UnitKind::SpecialZone => {
                UnitLevel::Commune
            }
        }
    }

    /// Whether units of this kind exist in a code list: districts and townships were abolished in
    /// 2025, special zones created then.
    pub const fn exists_in(self, version: CodeVersion) -> bool {
        match version {
            CodeVersion::Pre2025 => !matches!(self, UnitKind::SpecialZone | UnitKind::Country),
            CodeVersion::V2025 => matches!(
                self,
                UnitKind::Province
                    | UnitKind::CentralCity
                    | UnitKind::Commune
                    | UnitKind::Ward
                    | UnitKind::SpecialZone
            ),
        }
    }

    /// Recognises a full name by its prefix ("Phường Phú Hội", "Huyện Phong Điền") or a bare
    /// `unit_type` from the official lists ("Xã", "Đặc khu tại hải đảo", "Tỉnh",
    /// "Thành phố trực thuộc trung ương"). "Thành phố X" is ambiguous between a province-level
    /// and a district-level city and gives [`UnitKind::CentralCity`]; use
    /// [`UnitKind::from_vietnamese_at_level`] when the level is known.
    pub fn from_vietnamese_prefix(full_name: &str) -> Option<UnitKind> {
        let name: String = full_name.trim().nfc().collect();
        const EXACT: &[(&str, UnitKind)] = &[
            ("Tỉnh", UnitKind::Province),
            ("Thành phố trực thuộc trung ương", UnitKind::CentralCity),
            ("Thành phố thuộc tỉnh", UnitKind::ProvincialCity),
            ("Thành phố", UnitKind::CentralCity),
            ("Quận", UnitKind::UrbanDistrict),
            ("Huyện", UnitKind::RuralDistrict),
            ("Thị xã", UnitKind::Town),
            ("Xã", UnitKind::Commune),
            ("Phường", UnitKind::Ward),
            ("Thị trấn", UnitKind::Township),
            ("Đặc khu", UnitKind::SpecialZone),
            ("Đặc khu tại hải đảo", UnitKind::SpecialZone),
        ];
        if let Some((_, kind)) = EXACT.iter().find(|(s, _)| *s == name) {
            return Some(*kind);
        }
        const PREFIXES: &[(&str, UnitKind)] = &[
            ("Tỉnh ", UnitKind::Province),
            ("Thành phố ", UnitKind::CentralCity),
            ("Quận ", UnitKind::UrbanDistrict),
            ("Huyện ", UnitKind::RuralDistrict),
            ("Thị xã ", UnitKind::Town),
            ("Xã ", UnitKind::Commune),
            ("Phường ", UnitKind::Ward),
            ("Thị trấn ", UnitKind::Township),
            ("Đặc khu ", UnitKind::SpecialZone),
        ];
        PREFIXES
            .iter()
            .find(|(prefix, _)| name.starts_with(prefix))
            .map(|(_, kind)| *kind)
    }

    /// Like [`UnitKind::from_vietnamese_prefix`] but resolves "Thành phố" by the known level and
    /// returns `None` when the name's kind does not belong to that level.
    pub fn from_vietnamese_at_level(full_name: &str, level: UnitLevel) -> Option<UnitKind> {
        match Self::from_vietnamese_prefix(full_name)? {
            UnitKind::CentralCity if level == UnitLevel::District => Some(UnitKind::ProvincialCity),
            kind if kind.level() == level => Some(kind),
            _ => None,
        }
    }
}

/// An official administrative code: digits only; 2 digits for a province, 3 for a (pre-2025)
/// district, 5 for a commune. Leading zeros matter ("01" is Hà Nội).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitCode(String);

impl UnitCode {
    /// Errors name the field `code`.
    pub fn parse(s: &str) -> DomainResult<Self> {
        let s = s.trim();
        if s.is_empty() {
            return Err(DomainError::required("code"));
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::invalid("code", "must contain digits only"));
        }
        if !matches!(s.len(), 2 | 3 | 5) {
            return Err(DomainError::invalid(
                "code",
                "must have 2 (province), 3 (district) or 5 (commune) digits",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The level the code's length implies.
    pub fn level_hint(&self) -> UnitLevel {
        match self.0.len() {
            2 => UnitLevel::Province,
            3 => UnitLevel::District,
            _ => UnitLevel::Commune,
        }
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for UnitCode {
    type Err = DomainError;
    fn from_str(s: &str) -> DomainResult<Self> {
        Self::parse(s)
    }
}

impl TryFrom<String> for UnitCode {
    type Error = DomainError;
    fn try_from(s: String) -> DomainResult<Self> {
        Self::parse(&s)
    }
}

impl From<UnitCode> for String {
    fn from(c: UnitCode) -> Self {
        c.0
    }
}

/// A code with its code-list version, written `"{version}:{code}"`: `"2025:46"` (Huế),
/// `"2025:19753"`, `"pre2025:474"`. This is the key of a unit everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitId {
    version: CodeVersion,
    code: UnitCode,
}

impl UnitId {
    /// Rejects a district code in the 2025 list, which has no districts (field `unit`).
    pub fn new(version: CodeVersion, code: UnitCode) -> DomainResult<Self> {
        if version == CodeVersion::V2025 && code.level_hint() == UnitLevel::District {
            return Err(DomainError::inconsistent(
                "unit",
                "the 2025 code list has no district level (3-digit codes)",
            ));
        }
        Ok(Self { version, code })
    }

    /// Parses `"{version}:{code}"`; every error names the field `unit`.
    pub fn parse(s: &str) -> DomainResult<Self> {
        let s = s.trim();
        if s.is_empty() {
            return Err(DomainError::required("unit"));
        }
        if s.chars().any(char::is_whitespace) {
            return Err(DomainError::invalid("unit", "must not contain spaces"));
        }
        let (version, code) = s.split_once(':').ok_or_else(|| {
            DomainError::invalid("unit", "must look like \"2025:46\" (version:code)")
        })?;
        let version = CodeVersion::parse(version).map_err(|e| e.with_field("unit"))?;
        let code = UnitCode::parse(code).map_err(|e| e.with_field("unit"))?;
        Self::new(version, code)
    }

    pub fn version(&self) -> CodeVersion {
        self.version
    }

    pub fn code(&self) -> &UnitCode {
        &self.code
    }

    pub fn level_hint(&self) -> UnitLevel {
        self.code.level_hint()
    }
}

impl fmt::Display for UnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.version.as_str(), self.code)
    }
}

impl FromStr for UnitId {
    type Err = DomainError;
    fn from_str(s: &str) -> DomainResult<Self> {
        Self::parse(s)
    }
}

impl TryFrom<String> for UnitId {
    type Error = DomainError;
    fn try_from(s: String) -> DomainResult<Self> {
        Self::parse(&s)
    }
}

impl From<UnitId> for String {
    fn from(id: UnitId) -> Self {
        id.to_string()
    }
}

/// An administrative unit as imported from an official list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "AdminUnitInput", into = "AdminUnitInput")]
pub struct AdminUnit {
    id: UnitId,
    name: String,
    full_name: String,
    level: UnitLevel,
    kind: UnitKind,
    parent: Option<UnitId>,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
}

/// Unvalidated fields of an [`AdminUnit`] (importer and wire form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminUnitInput {
    pub id: UnitId,
    /// Short name without the kind ("Phú Hội").
    pub name: String,
    /// Name with the kind ("Phường Phú Hội").
    pub full_name: String,
    pub level: UnitLevel,
    pub kind: UnitKind,
    pub parent: Option<UnitId>,
    pub valid_from: NaiveDate,
    /// Last day the unit existed; `None` while current.
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
}

impl AdminUnit {
    /// Rules: names non-empty (≤ 120 / ≤ 160 characters); `kind` belongs to `level` and exists in
    /// the code list; the code's length matches `level`; a province has no parent, any other unit
    /// has a parent of the same version and a higher level; `valid_to` after `valid_from`.
    pub fn parse(input: AdminUnitInput) -> DomainResult<Self> {
        let name = clean_line("name", &input.name, MAX_UNIT_NAME)?;
        let full_name = clean_line("full_name", &input.full_name, MAX_UNIT_FULL_NAME)?;
        if input.kind.level() != input.level {
            return Err(DomainError::inconsistent(
                "kind",
                format!(
                    "a {} is not a {} unit",
                    input.kind.as_str(),
                    input.level.as_str()
                ),
            ));
        }
        if !input.kind.exists_in(input.id.version()) {
            return Err(DomainError::inconsistent(
                "kind",
                format!(
                    "there is no {} in the {} code list",
                    input.kind.as_str(),
                    input.id.version().as_str()
                ),
            ));
        }
        if input.id.level_hint() != input.level {
            return Err(DomainError::inconsistent(
                "id",
                format!(
                    "code {} does not have the length of a {} code",
                    input.id.code(),
                    input.level.as_str()
                ),
            ));
        }
        match (&input.parent, input.level) {
            (Some(_), UnitLevel::Country | UnitLevel::Province) => {
                return Err(DomainError::inconsistent(
                    "parent",
                    "a province has no parent",
                ))
            }
            (None, UnitLevel::District | UnitLevel::Commune) => {
                return Err(DomainError::required("parent"))
            }
            (Some(parent), level) => {
                if parent.version() != input.id.version() {
                    return Err(DomainError::inconsistent(
                        "parent",
                        "must belong to the same code list",
                    ));
                }
                if parent.level_hint().depth() >= level.depth() {
                    return Err(DomainError::inconsistent(
                        "parent",
                        "must be of a higher level than the unit",
                    ));
                }
            }
            (None, UnitLevel::Country | UnitLevel::Province) => {}
        }
        if let Some(valid_to) = input.valid_to {
            if valid_to <= input.valid_from {
                return Err(DomainError::out_of_range(
                    "valid_to",
                    "must be after valid_from",
                ));
            }
        }
        Ok(Self {
            id: input.id,
            name,
            full_name,
            level: input.level,
            kind: input.kind,
            parent: input.parent,
            valid_from: input.valid_from,
            valid_to: input.valid_to,
        })
    }

    pub fn id(&self) -> &UnitId {
        &self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn full_name(&self) -> &str {
        &self.full_name
    }

    pub fn level(&self) -> UnitLevel {
        self.level
    }

    pub fn kind(&self) -> UnitKind {
        self.kind
    }

    pub fn parent(&self) -> Option<&UnitId> {
        self.parent.as_ref()
    }

    pub fn valid_from(&self) -> NaiveDate {
        self.valid_from
    }

    pub fn valid_to(&self) -> Option<NaiveDate> {
        self.valid_to
    }

    /// Whether the unit existed on `date` (both ends inclusive).
    pub fn is_valid_on(&self, date: NaiveDate) -> bool {
        date >= self.valid_from && self.valid_to.is_none_or(|to| date <= to)
    }
}

impl TryFrom<AdminUnitInput> for AdminUnit {
    type Error = DomainError;
    fn try_from(input: AdminUnitInput) -> DomainResult<Self> {
        Self::parse(input)
    }
}

impl From<AdminUnit> for AdminUnitInput {
    fn from(u: AdminUnit) -> Self {
        Self {
            id: u.id,
            name: u.name,
            full_name: u.full_name,
            level: u.level,
            kind: u.kind,
            parent: u.parent,
            valid_from: u.valid_from,
            valid_to: u.valid_to,
        }
    }
}

domain_enum! {
    /// How an old unit relates to a new one.
    pub enum LineageKind ("kind") {
        /// `from` was merged (sáp nhập) into `to`, wholly or in part.
        MergedInto = "merged_into", "Sáp nhập vào", "Merged into";
        /// `to` was split (chia tách) from `from`.
        SplitFrom = "split_from", "Chia tách từ", "Split from";
        /// Same territory, new name or code.
        Renamed = "renamed", "Đổi tên", "Renamed";
    }
}

/// One edge of the lineage graph: which old unit became (part of) which new one, and when. Used
/// to import lists that still carry old codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "UnitLineageInput", into = "UnitLineageInput")]
pub struct UnitLineage {
    from: UnitId,
    to: UnitId,
    kind: LineageKind,
    effective: NaiveDate,
}

/// Unvalidated fields of a [`UnitLineage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitLineageInput {
    pub from: UnitId,
    pub to: UnitId,
    pub kind: LineageKind,
    pub effective: NaiveDate,
}

impl UnitLineage {
    /// `from` and `to` must differ (field `to`).
    pub fn parse(
        from: UnitId,
        to: UnitId,
        kind: LineageKind,
        effective: NaiveDate,
    ) -> DomainResult<Self> {
        if from == to {
            return Err(DomainError::invalid("to", "must differ from `from`"));
        }
        Ok(Self {
            from,
            to,
            kind,
            effective,
        })
    }

    pub fn from(&self) -> &UnitId {
        &self.from
    }

    pub fn to(&self) -> &UnitId {
        &self.to
    }

    pub fn kind(&self) -> LineageKind {
        self.kind
    }

    pub fn effective(&self) -> NaiveDate {
        self.effective
    }
}

impl TryFrom<UnitLineageInput> for UnitLineage {
    type Error = DomainError;
    fn try_from(i: UnitLineageInput) -> DomainResult<Self> {
        Self::parse(i.from, i.to, i.kind, i.effective)
    }
}

impl From<UnitLineage> for UnitLineageInput {
    fn from(l: UnitLineage) -> Self {
        Self {
            from: l.from,
            to: l.to,
            kind: l.kind,
            effective: l.effective,
        }
    }
}

/// Materialised path of a unit from its ancestors and itself, root first:
/// `["2025:46", "2025:19753"]` → `"/2025:46/2025:19753/"`; no ids → `"/"`. Select a subtree with
/// `path LIKE '/2025:46/%'`: ids never contain `%`, `_` or `/`, and the closing slash keeps
/// `/2025:4/` from matching `/2025:46/`.
pub fn unit_path(ancestors_root_first: &[UnitId]) -> String {
    let mut path = String::from("/");
    for id in ancestors_root_first {
        path.push_str(&id.to_string());
        path.push('/');
    }
    path
}

/// Whether `path` lies in the subtree rooted at `ancestor_path` (a path is within itself). Both
/// must be paths made by [`unit_path`]; anything else is never within.
pub fn path_is_within(path: &str, ancestor_path: &str) -> bool {
    let well_formed = |p: &str| p.starts_with('/') && p.ends_with('/');
    well_formed(path) && well_formed(ancestor_path) && path.starts_with(ancestor_path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn id(s: &str) -> UnitId {
        UnitId::parse(s).unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn enums_are_well_formed() {
        test_domain_enum!(CodeVersion);
        test_domain_enum!(UnitLevel);
        test_domain_enum!(UnitKind);
        test_domain_enum!(LineageKind);
    }

    #[test]
    fn code_version_wire_codes() {
        assert_eq!(CodeVersion::Pre2025.as_str(), "pre2025");
        assert_eq!(CodeVersion::V2025.as_str(), "2025");
        assert_eq!(
            serde_json::to_string(&CodeVersion::V2025).unwrap(),
            "\"2025\""
        );
    }

    #[test]
    fn unit_level_depth_orders_levels() {
        assert!(UnitLevel::Province.depth() < UnitLevel::District.depth());
        assert!(UnitLevel::District.depth() < UnitLevel::Commune.depth());
    }

    #[test]
    fn unit_kind_levels() {
        assert_eq!(UnitKind::CentralCity.level(), UnitLevel::Province);
        assert_eq!(UnitKind::ProvincialCity.level(), UnitLevel::District);
        assert_eq!(UnitKind::Town.level(), UnitLevel::District);
        assert_eq!(UnitKind::SpecialZone.level(), UnitLevel::Commune);
        assert_eq!(UnitKind::Township.level(), UnitLevel::Commune);
    }

    #[test]
    fn unit_kind_existence_by_version() {
        assert!(UnitKind::SpecialZone.exists_in(CodeVersion::V2025));
        assert!(!UnitKind::SpecialZone.exists_in(CodeVersion::Pre2025));
        assert!(!UnitKind::RuralDistrict.exists_in(CodeVersion::V2025));
        assert!(!UnitKind::Township.exists_in(CodeVersion::V2025));
        assert!(UnitKind::Township.exists_in(CodeVersion::Pre2025));
        assert!(UnitKind::Ward.exists_in(CodeVersion::V2025));
    }

    #[test]
    fn unit_kind_from_prefixes() {
        let k = UnitKind::from_vietnamese_prefix;
        assert_eq!(k("Tỉnh Quảng Trị"), Some(UnitKind::Province));
        assert_eq!(k("Thành phố Huế"), Some(UnitKind::CentralCity));
        assert_eq!(k("Quận Ba Đình"), Some(UnitKind::UrbanDistrict));
        assert_eq!(k("Huyện Phong Điền"), Some(UnitKind::RuralDistrict));
        assert_eq!(k("Thị xã Hương Thủy"), Some(UnitKind::Town));
        assert_eq!(k("Xã Phong Điền"), Some(UnitKind::Commune));
        assert_eq!(k("Phường Phú Hội"), Some(UnitKind::Ward));
        assert_eq!(k("Thị trấn Khe Sanh"), Some(UnitKind::Township));
        assert_eq!(k("Đặc khu Cồn Cỏ"), Some(UnitKind::SpecialZone));
        assert_eq!(k("  Phường 1 "), Some(UnitKind::Ward));
        assert_eq!(k("Phú Hội"), None);
        assert_eq!(k("Phường"), Some(UnitKind::Ward));
        assert_eq!(k(""), None);
    }

    #[test]
    fn unit_kind_from_unit_type_strings() {
        let k = UnitKind::from_vietnamese_prefix;
        assert_eq!(k("Xã"), Some(UnitKind::Commune));
        assert_eq!(k("Phường"), Some(UnitKind::Ward));
        assert_eq!(k("Đặc khu tại hải đảo"), Some(UnitKind::SpecialZone));
        assert_eq!(k("Tỉnh"), Some(UnitKind::Province));
        assert_eq!(
            k("Thành phố trực thuộc trung ương"),
            Some(UnitKind::CentralCity)
        );
    }

    #[test]
    fn unit_kind_from_decomposed_name() {
        let nfd: String = "Phường Phú Hội".nfd().collect();
        assert_eq!(UnitKind::from_vietnamese_prefix(&nfd), Some(UnitKind::Ward));
    }

    #[test]
    fn unit_kind_at_level_resolves_thanh_pho() {
        let k = UnitKind::from_vietnamese_at_level;
        assert_eq!(
            k("Thành phố Huế", UnitLevel::District),
            Some(UnitKind::ProvincialCity)
        );
        assert_eq!(
            k("Thành phố Hà Nội", UnitLevel::Province),
            Some(UnitKind::CentralCity)
        );
        assert_eq!(k("Xã A Lưới", UnitLevel::Province), None);
        assert_eq!(
            k("Huyện A Lưới", UnitLevel::District),
            Some(UnitKind::RuralDistrict)
        );
        assert_eq!(k("Thành phố Huế", UnitLevel::Commune), None);
    }

    #[test]
    fn unit_code_rules() {
        assert_eq!(
            UnitCode::parse("46").unwrap().level_hint(),
            UnitLevel::Province
        );
        assert_eq!(
            UnitCode::parse("474").unwrap().level_hint(),
            UnitLevel::District
        );
        assert_eq!(
            UnitCode::parse("19753").unwrap().level_hint(),
            UnitLevel::Commune
        );
        assert_eq!(UnitCode::parse(" 01 ").unwrap().as_str(), "01");
        for bad in ["4", "4600", "197530", "4a", "-46", "٤٦"] {
            let e = UnitCode::parse(bad).unwrap_err();
            assert_eq!(
                (e.field.as_str(), e.code.as_str()),
                ("code", "invalid"),
                "{bad}"
            );
        }
        assert_eq!(UnitCode::parse(" ").unwrap_err().code, "required");
        assert_eq!("19753".parse::<UnitCode>().unwrap().to_string(), "19753");
    }

    #[test]
    fn unit_code_serde() {
        let c = UnitCode::parse("01").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"01\"");
        assert_eq!(serde_json::from_str::<UnitCode>("\"01\"").unwrap(), c);
        assert!(serde_json::from_str::<UnitCode>("\"1\"").is_err());
        assert!(serde_json::from_str::<UnitCode>("1").is_err());
    }

    #[test]
    fn unit_id_parse_and_display() {
        for s in ["2025:46", "2025:19753", "pre2025:474", "pre2025:00001"] {
            assert_eq!(id(s).to_string(), s);
        }
        let u = id("2025:19753");
        assert_eq!(u.version(), CodeVersion::V2025);
        assert_eq!(u.code().as_str(), "19753");
        assert_eq!(u.level_hint(), UnitLevel::Commune);
        let built = UnitId::new(CodeVersion::Pre2025, UnitCode::parse("474").unwrap()).unwrap();
        assert_eq!(built, id("pre2025:474"));
    }

    #[test]
    fn unit_id_rejects_malformed_input() {
        for bad in [
            "46",
            "2024:46",
            "2025:",
            ":46",
            "2025:4x",
            "2025:46:1",
            "2025 : 46",
            "2025:4 6",
        ] {
            let e = UnitId::parse(bad).unwrap_err();
            assert_eq!(e.field, "unit", "{bad}");
        }
        assert_eq!(UnitId::parse("").unwrap_err().code, "required");
    }

    #[test]
    fn unit_id_rejects_2025_district_codes() {
        let e = UnitId::parse("2025:474").unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("unit", "inconsistent")
        );
        assert!(UnitId::new(CodeVersion::V2025, UnitCode::parse("474").unwrap()).is_err());
    }

    #[test]
    fn unit_id_serde_as_string() {
        let u = id("2025:46");
        assert_eq!(serde_json::to_string(&u).unwrap(), "\"2025:46\"");
        assert_eq!(serde_json::from_str::<UnitId>("\"2025:46\"").unwrap(), u);
        assert!(serde_json::from_str::<UnitId>("\"2025:474\"").is_err());
        assert!(serde_json::from_str::<UnitId>("\"46\"").is_err());
    }

    fn commune_input() -> AdminUnitInput {
        AdminUnitInput {
            id: id("2025:19753"),
            name: "Phú Hội".into(),
            full_name: "Phường Phú Hội".into(),
            level: UnitLevel::Commune,
            kind: UnitKind::Ward,
            parent: Some(id("2025:46")),
            valid_from: date("2025-07-01"),
            valid_to: None,
        }
    }

    fn province_input() -> AdminUnitInput {
        AdminUnitInput {
            id: id("2025:46"),
            name: "Huế".into(),
            full_name: "Thành phố Huế".into(),
            level: UnitLevel::Province,
            kind: UnitKind::CentralCity,
            parent: None,
            valid_from: date("2025-07-01"),
            valid_to: None,
        }
    }

    #[test]
    fn admin_unit_accepts_valid_units() {
        let u = AdminUnit::parse(commune_input()).unwrap();
        assert_eq!(u.id(), &id("2025:19753"));
        assert_eq!(u.name(), "Phú Hội");
        assert_eq!(u.full_name(), "Phường Phú Hội");
        assert_eq!(u.level(), UnitLevel::Commune);
        assert_eq!(u.kind(), UnitKind::Ward);
        assert_eq!(u.parent(), Some(&id("2025:46")));
        assert_eq!(u.valid_from(), date("2025-07-01"));
        assert_eq!(u.valid_to(), None);
        assert!(AdminUnit::parse(province_input()).is_ok());

        let district = AdminUnitInput {
            id: id("pre2025:474"),
            name: "Huế".into(),
            full_name: "Thành phố Huế".into(),
            level: UnitLevel::District,
            kind: UnitKind::ProvincialCity,
            parent: Some(id("pre2025:46")),
            valid_from: date("2000-01-01"),
            valid_to: Some(date("2025-06-30")),
        };
        assert!(AdminUnit::parse(district).is_ok());
        let old_commune = AdminUnitInput {
            id: id("pre2025:19753"),
            parent: Some(id("pre2025:474")),
            kind: UnitKind::Township,
            valid_from: date("2000-01-01"),
            valid_to: Some(date("2025-06-30")),
            ..commune_input()
        };
        assert!(AdminUnit::parse(old_commune).is_ok());
    }

    #[test]
    fn admin_unit_name_rules() {
        let e = AdminUnit::parse(AdminUnitInput {
            name: " ".into(),
            ..commune_input()
        })
        .unwrap_err();
        assert_eq!((e.field.as_str(), e.code.as_str()), ("name", "required"));
        let e = AdminUnit::parse(AdminUnitInput {
            name: "x".repeat(121),
            ..commune_input()
        })
        .unwrap_err();
        assert_eq!((e.field.as_str(), e.code.as_str()), ("name", "too_long"));
        assert!(AdminUnit::parse(AdminUnitInput {
            name: "x".repeat(120),
            ..commune_input()
        })
        .is_ok());
        let e = AdminUnit::parse(AdminUnitInput {
            full_name: "".into(),
            ..commune_input()
        })
        .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("full_name", "required")
        );
    }

    #[test]
    fn admin_unit_level_must_match_kind() {
        let e = AdminUnit::parse(AdminUnitInput {
            kind: UnitKind::Province,
            ..commune_input()
        })
        .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("kind", "inconsistent")
        );
    }

    #[test]
    fn admin_unit_kind_must_exist_in_version() {
        let e = AdminUnit::parse(AdminUnitInput {
            kind: UnitKind::Township,
            ..commune_input()
        })
        .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("kind", "inconsistent")
        );
    }

    #[test]
    fn admin_unit_code_length_must_match_level() {
        let e = AdminUnit::parse(AdminUnitInput {
            id: id("2025:47"),
            ..commune_input()
        })
        .unwrap_err();
        assert_eq!((e.field.as_str(), e.code.as_str()), ("id", "inconsistent"));
    }

    #[test]
    fn admin_unit_parent_rules() {
        let e = AdminUnit::parse(AdminUnitInput {
            parent: Some(id("2025:01")),
            ..province_input()
        })
        .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("parent", "inconsistent")
        );
        let e = AdminUnit::parse(AdminUnitInput {
            parent: None,
            ..commune_input()
        })
        .unwrap_err();
        assert_eq!((e.field.as_str(), e.code.as_str()), ("parent", "required"));
        let e = AdminUnit::parse(AdminUnitInput {
            parent: Some(id("pre2025:46")),
            ..commune_input()
        })
        .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("parent", "inconsistent")
        );
        let e = AdminUnit::parse(AdminUnitInput {
            parent: Some(id("2025:19754")),
            ..commune_input()
        })
        .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("parent", "inconsistent")
        );
    }

    #[test]
    fn admin_unit_validity_period() {
        let e = AdminUnit::parse(AdminUnitInput {
            valid_to: Some(date("2025-07-01")),
            ..commune_input()
        })
        .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("valid_to", "out_of_range")
        );
        let u = AdminUnit::parse(AdminUnitInput {
            valid_to: Some(date("2025-07-02")),
            ..commune_input()
        })
        .unwrap();
        assert!(!u.is_valid_on(date("2025-06-30")));
        assert!(u.is_valid_on(date("2025-07-01")));
        assert!(u.is_valid_on(date("2025-07-02")));
        assert!(!u.is_valid_on(date("2025-07-03")));
    }

    #[test]
    fn admin_unit_serde_round_trip_and_validation() {
        let u = AdminUnit::parse(commune_input()).unwrap();
        let json = serde_json::to_value(&u).unwrap();
        assert_eq!(json["id"], "2025:19753");
        assert_eq!(json["kind"], "ward");
        assert_eq!(
            serde_json::from_value::<AdminUnit>(json.clone()).unwrap(),
            u
        );
        let mut bad = json;
        bad["parent"] = serde_json::Value::Null;
        assert!(serde_json::from_value::<AdminUnit>(bad).is_err());
    }

    #[test]
    fn lineage_rules_and_serde() {
        let l = UnitLineage::parse(
            id("pre2025:19753"),
            id("2025:19753"),
            LineageKind::MergedInto,
            date("2025-07-01"),
        )
        .unwrap();
        assert_eq!(l.from(), &id("pre2025:19753"));
        assert_eq!(l.to(), &id("2025:19753"));
        assert_eq!(l.kind(), LineageKind::MergedInto);
        assert_eq!(l.effective(), date("2025-07-01"));
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(serde_json::from_str::<UnitLineage>(&json).unwrap(), l);

        let e = UnitLineage::parse(
            id("2025:46"),
            id("2025:46"),
            LineageKind::Renamed,
            date("2025-07-01"),
        )
        .unwrap_err();
        assert_eq!((e.field.as_str(), e.code.as_str()), ("to", "invalid"));
        assert!(serde_json::from_str::<UnitLineage>(
            r#"{"from":"2025:46","to":"2025:46","kind":"renamed","effective":"2025-07-01"}"#
        )
        .is_err());
    }

    #[test]
    fn unit_path_builds_materialised_paths() {
        assert_eq!(unit_path(&[]), "/");
        assert_eq!(
            unit_path(&[id("2025:46"), id("2025:19753")]),
            "/2025:46/2025:19753/"
        );
        assert_eq!(
            unit_path(&[id("pre2025:46"), id("pre2025:474"), id("pre2025:19753")]),
            "/pre2025:46/pre2025:474/pre2025:19753/"
        );
    }

    #[test]
    fn path_is_within_subtrees() {
        let province = unit_path(&[id("2025:46")]);
        let commune = unit_path(&[id("2025:46"), id("2025:19753")]);
        assert!(path_is_within(&commune, &province));
        assert!(path_is_within(&province, &province));
        assert!(path_is_within(&commune, "/"));
        assert!(!path_is_within(&province, &commune));
        // A code that is a prefix of another is not its ancestor.
        assert!(!path_is_within("/2025:46/", "/2025:4/"));
        assert!(!path_is_within(&commune, "/2025:46"));
        assert!(!path_is_within("2025:46/", "/"));
    }
}
