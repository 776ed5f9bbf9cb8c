//! Establishments (cơ sở kinh doanh dịch vụ dễ phát sinh tệ nạn mại dâm): their types, status,
//! risk, licences, and the validated draft used to create or update one.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, DomainResult};
use crate::geo::GeoPoint;
use crate::text::{clean_line, clean_optional_line, fold};
use crate::unit::{UnitId, UnitLevel};

/// Longest establishment name, in characters.
pub const MAX_ESTABLISHMENT_NAME: usize = 200;
/// Longest address, in characters.
pub const MAX_ADDRESS: usize = 300;
/// Longest owner name, in characters.
pub const MAX_OWNER_NAME: usize = 120;
/// Longest business registration number.
pub const MAX_BUSINESS_REG_NO: usize = 40;
/// Longest sector licence or ANTT certificate number.
pub const MAX_LICENCE_NO: usize = 60;

domain_enum! {
    /// Type of establishment in scope; decides which checklist applies.
    pub enum EstablishmentType ("establishment_type") {
        Karaoke = "karaoke", "Karaoke", "Karaoke";
        /// vũ trường
        DanceHall = "dance_hall", "Vũ trường", "Dance hall";
        /// xoa bóp, xông hơi
        MassageSauna = "massage_sauna", "Xoa bóp, xông hơi", "Massage and sauna";
        /// khách sạn
        Hotel = "hotel", "Khách sạn", "Hotel";
        /// nhà nghỉ
        Guesthouse = "guesthouse", "Nhà nghỉ", "Guesthouse";
        /// quán bar
        Bar = "bar", "Quán bar", "Bar";
        /// nhà hàng có tiếp viên
        RestaurantHostess = "restaurant_hostess", "Nhà hàng có tiếp viên", "Restaurant with hostesses";
        Other = "other", "Khác", "Other";
    }
}

impl EstablishmentType {
    /// Group of the draft checklist (`by_type` in `inspection_checklists_draft.json`).
    pub const fn checklist_key(self) -> &'static str {
        match self {
            EstablishmentType::Karaoke => "karaoke",
            EstablishmentType::DanceHall => "vu_truong",
            EstablishmentType::Hotel | EstablishmentType::Guesthouse => "luu_tru",
            EstablishmentType::MassageSauna => "xoa_bop",
            EstablishmentType::Bar
            | EstablishmentType::RestaurantHostess
            | EstablishmentType::Other => "nha_hang_bar_cafe",
        }
    }
}

domain_enum! {
    /// Whether the establishment is trading.
    pub enum EstablishmentStatus ("status") {
        Operating = "operating", "Đang hoạt động", "Operating";
        Suspended = "suspended", "Tạm ngừng hoạt động", "Suspended";
        Closed = "closed", "Đã đóng cửa", "Closed";
    }
}

domain_enum! {
    /// The team's judgement of risk, used to prioritise inspections.
    pub enum RiskLevel ("risk") {
        Low = "low", "Thấp", "Low";
        Medium = "medium", "Trung bình", "Medium";
        High = "high", "Cao", "High";
    }
}

/// A phone number, stored compactly: digits with an optional leading `+` ("+84234382212").
/// Input may separate groups with spaces, dots or dashes; 8 to 15 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Errors name the field `phone`.
    pub fn parse(s: &str) -> DomainResult<Self> {
        let s = s.trim();
        if s.is_empty() {
            return Err(DomainError::required("phone"));
        }
        let (plus, rest) = match s.strip_prefix('+') {
            Some(rest) => ("+", rest),
            None => ("", s),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '.' | '-' => {}
                _ => {
                    return Err(DomainError::invalid(
                        "phone",
                        "may contain only digits, spaces and a leading +",
                    ))
                }
            }
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(DomainError::invalid("phone", "must have 8 to 15 digits"));
        }
        Ok(Self(format!("{plus}{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Phone {
    type Error = DomainError;
    fn try_from(s: String) -> DomainResult<Self> {
        Self::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> Self {
        p.0
    }
}

/// Papers of an establishment: business registration, sector licence (giấy phép đủ điều kiện
/// kinh doanh) and the security-and-order certificate (giấy chứng nhận đủ điều kiện về ANTT).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "LicenceInput", into = "LicenceInput")]
pub struct Licence {
    business_reg_no: Option<String>,
    licence_no: Option<String>,
    licence_issued_on: Option<NaiveDate>,
    licence_expires_on: Option<NaiveDate>,
    antt_cert_no: Option<String>,
}

/// Unvalidated fields of a [`Licence`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceInput {
    #[serde(default)]
    pub business_reg_no: Option<String>,
    #[serde(default)]
    pub licence_no: Option<String>,
    #[serde(default)]
    pub licence_issued_on: Option<NaiveDate>,
    #[serde(default)]
    pub licence_expires_on: Option<NaiveDate>,
    #[serde(default)]
    pub antt_cert_no: Option<String>,
}

impl Licence {
    /// Rules: `business_reg_no` ≤ 40 characters of `A-Z a-z 0-9 - / .`; `licence_no` and
    /// `antt_cert_no` ≤ 60; `licence_expires_on` after `licence_issued_on`. Blank means absent.
    pub fn parse(input: LicenceInput) -> DomainResult<Self> {
        let business_reg_no = clean_optional_line(
            "business_reg_no",
            input.business_reg_no.as_deref(),
            MAX_BUSINESS_REG_NO,
        )?;
        if let Some(no) = &business_reg_no {
            if !no
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | '.'))
            {
                return Err(DomainError::invalid(
                    "business_reg_no",
                    "may contain only letters A-Z, digits, '-', '/' and '.'",
                ));
            }
        }
        let licence_no =
            clean_optional_line("licence_no", input.licence_no.as_deref(), MAX_LICENCE_NO)?;
        let antt_cert_no = clean_optional_line(
            "antt_cert_no",
            input.antt_cert_no.as_deref(),
            MAX_LICENCE_NO,
        )?;
        if let (Some(issued), Some(expires)) = (input.licence_issued_on, input.licence_expires_on) {
            if expires <= issued {
                return Err(DomainError::out_of_range(
                    "licence_expires_on",
                    "must be after licence_issued_on",
                ));
            }
        }
        Ok(Self {
            business_reg_no,
            licence_no,
            licence_issued_on: input.licence_issued_on,
            licence_expires_on: input.licence_expires_on,
            antt_cert_no,
        })
    }

    pub fn business_reg_no(&self) -> Option<&str> {
        self.business_reg_no.as_deref()
    }

    pub fn licence_no(&self) -> Option<&str> {
        self.licence_no.as_deref()
    }

    pub fn licence_issued_on(&self) -> Option<NaiveDate> {
        self.licence_issued_on
    }

    pub fn licence_expires_on(&self) -> Option<NaiveDate> {
        self.licence_expires_on
    }

    pub fn antt_cert_no(&self) -> Option<&str> {
        self.antt_cert_no.as_deref()
    }

    /// Whether the sector licence has an expiry date before `date`.
    pub fn is_expired_on(&self, date: NaiveDate) -> bool {
        self.licence_expires_on.is_some_and(|e| e < date)
    }
}

impl TryFrom<LicenceInput> for Licence {
    type Error = DomainError;
    fn try_from(input: LicenceInput) -> DomainResult<Self> {
        Self::parse(input)
    }
}

impl From<Licence> for LicenceInput {
    fn from(l: Licence) -> Self {
        Self {
            business_reg_no: l.business_reg_no,
            licence_no: l.licence_no,
            licence_issued_on: l.licence_issued_on,
            licence_expires_on: l.licence_expires_on,
            antt_cert_no: l.antt_cert_no,
        }
    }
}

/// Wire form for creating or updating an establishment. Flat, so that it serves both JSON and a
/// dashboard form; unknown fields are rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = establishment_input_example))]
#[serde(deny_unknown_fields)]
pub struct EstablishmentInput {
    pub name: String,
    pub establishment_type: EstablishmentType,
    /// Commune-level unit id, e.g. `"2025:19753"`.
    pub unit: String,
    pub address: String,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    #[serde(default)]
    pub business_reg_no: Option<String>,
    #[serde(default)]
    pub licence_no: Option<String>,
    #[serde(default)]
    pub licence_issued_on: Option<NaiveDate>,
    #[serde(default)]
    pub licence_expires_on: Option<NaiveDate>,
    #[serde(default)]
    pub antt_cert_no: Option<String>,
    #[serde(default)]
    pub owner_name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    pub status: EstablishmentStatus,
    #[serde(default)]
    pub opened_on: Option<NaiveDate>,
    #[serde(default)]
    pub closed_on: Option<NaiveDate>,
    pub risk: RiskLevel,
    /// Whether the owner signed the commitment (bản cam kết) with the commune People's Committee.
    #[serde(default)]
    pub commitment_signed: bool,
    #[serde(default)]
    pub commitment_signed_on: Option<NaiveDate>,
}

/// A valid [`EstablishmentInput`] for the API document (the examples phase of the contract tests sends it).
#[cfg(feature = "openapi")]
fn establishment_input_example() -> serde_json::Value {
    serde_json::json!({
        "name": "Karaoke Hoa Mai", "establishment_type": "karaoke", "unit": "2025:19789",
        "address": "12 Lê Lợi, Phường Thuận Hoá", "lat": 16.4631, "lon": 107.5875,
        "phone": "0903 789 441", "status": "operating", "risk": "medium"
    })
}

/// A validated establishment, ready to be stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "EstablishmentInput", into = "EstablishmentInput")]
pub struct EstablishmentDraft {
    name: String,
    establishment_type: EstablishmentType,
    unit: UnitId,
    address: String,
    location: Option<GeoPoint>,
    licence: Licence,
    owner_name: Option<String>,
    phone: Option<Phone>,
    status: EstablishmentStatus,
    opened_on: Option<NaiveDate>,
    closed_on: Option<NaiveDate>,
    risk: RiskLevel,
    commitment_signed: bool,
    commitment_signed_on: Option<NaiveDate>,
}

impl EstablishmentDraft {
    /// Validates every field; the error names the first offending one. Rules: name (≤ 200) and
    /// address (≤ 300) required; `unit` a 5-digit commune code; `lat`/`lon` both or neither, inside
    /// Vietnam; licence rules of [`Licence::parse`]; owner ≤ 120; phone per [`Phone::parse`];
    /// `closed_on` ≥ `opened_on`, present exactly when the status is `closed`;
    /// `commitment_signed_on` only when `commitment_signed`.
    pub fn parse(input: EstablishmentInput) -> DomainResult<Self> {
        let name = clean_line("name", &input.name, MAX_ESTABLISHMENT_NAME)?;
        let unit = UnitId::parse(&input.unit)?;
        if unit.level_hint() != UnitLevel::Commune {
            return Err(DomainError::invalid(
                "unit",
                "must be a commune-level unit (5-digit code)",
            ));
        }
        let address = clean_line("address", &input.address, MAX_ADDRESS)?;
        let location = match (input.lat, input.lon) {
            (None, None) => None,
            (Some(_), None) => return Err(DomainError::required("lon")),
            (None, Some(_)) => return Err(DomainError::required("lat")),
            (Some(lat), Some(lon)) => Some(GeoPoint::parse(lat, lon)?),
        };
        let licence = Licence::parse(LicenceInput {
            business_reg_no: input.business_reg_no,
            licence_no: input.licence_no,
            licence_issued_on: input.licence_issued_on,
            licence_expires_on: input.licence_expires_on,
            antt_cert_no: input.antt_cert_no,
        })?;
        let owner_name =
            clean_optional_line("owner_name", input.owner_name.as_deref(), MAX_OWNER_NAME)?;
        let phone = match input.phone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(Phone::parse(p)?),
        };
        if let (Some(opened), Some(closed)) = (input.opened_on, input.closed_on) {
            if closed < opened {
                return Err(DomainError::out_of_range(
                    "closed_on",
                    "must not be before opened_on",
                ));
            }
        }
        match (input.status, input.closed_on) {
            (EstablishmentStatus::Closed, None) => return Err(DomainError::required("closed_on")),
            (EstablishmentStatus::Operating | EstablishmentStatus::Suspended, Some(_)) => {
                return Err(DomainError::inconsistent(
                    "closed_on",
                    "is given only when the status is closed",
                ))
            }
            _ => {}
        }
        if input.commitment_signed_on.is_some() && !input.commitment_signed {
            return Err(DomainError::inconsistent(
                "commitment_signed_on",
                "is given only when the commitment is signed",
            ));
        }
        Ok(Self {
            name,
            establishment_type: input.establishment_type,
            unit,
            address,
            location,
            licence,
            owner_name,
            phone,
            status: input.status,
            opened_on: input.opened_on,
            closed_on: input.closed_on,
            risk: input.risk,
            commitment_signed: input.commitment_signed,
            commitment_signed_on: input.commitment_signed_on,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn establishment_type(&self) -> EstablishmentType {
        self.establishment_type
    }

    pub fn unit(&self) -> &UnitId {
        &self.unit
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn location(&self) -> Option<GeoPoint> {
        self.location
    }

    pub fn licence(&self) -> &Licence {
        &self.licence
    }

    pub fn owner_name(&self) -> Option<&str> {
        self.owner_name.as_deref()
    }

    pub fn phone(&self) -> Option<&Phone> {
        self.phone.as_ref()
    }

    pub fn status(&self) -> EstablishmentStatus {
        self.status
    }

    pub fn opened_on(&self) -> Option<NaiveDate> {
        self.opened_on
    }

    pub fn closed_on(&self) -> Option<NaiveDate> {
        self.closed_on
    }

    pub fn risk(&self) -> RiskLevel {
        self.risk
    }

    pub fn commitment_signed(&self) -> bool {
        self.commitment_signed
    }

    pub fn commitment_signed_on(&self) -> Option<NaiveDate> {
        self.commitment_signed_on
    }

    /// Accent-free search key over name, address, owner, phone and paper numbers (see
    /// [`fold`]); stored in a column and matched with `LIKE '%' || fold(query) || '%'`.
    pub fn search_key(&self) -> String {
        let parts = [
            Some(self.name.as_str()),
            Some(self.address.as_str()),
            self.owner_name.as_deref(),
            self.phone.as_ref().map(Phone::as_str),
            self.licence.business_reg_no(),
            self.licence.licence_no(),
            self.licence.antt_cert_no(),
        ];
        let joined: Vec<&str> = parts.into_iter().flatten().collect();
        fold(&joined.join(" "))
    }
}

impl TryFrom<EstablishmentInput> for EstablishmentDraft {
    type Error = DomainError;
    fn try_from(input: EstablishmentInput) -> DomainResult<Self> {
        Self::parse(input)
    }
}

impl From<EstablishmentDraft> for EstablishmentInput {
    fn from(d: EstablishmentDraft) -> Self {
        let licence = LicenceInput::from(d.licence);
        Self {
            name: d.name,
            establishment_type: d.establishment_type,
            unit: d.unit.to_string(),
            address: d.address,
            lat: d.location.map(|p| p.lat()),
            lon: d.location.map(|p| p.lon()),
            business_reg_no: licence.business_reg_no,
            licence_no: licence.licence_no,
            licence_issued_on: licence.licence_issued_on,
            licence_expires_on: licence.licence_expires_on,
            antt_cert_no: licence.antt_cert_no,
            owner_name: d.owner_name,
            phone: d.phone.map(String::from),
            status: d.status,
            opened_on: d.opened_on,
            closed_on: d.closed_on,
            risk: d.risk,
            commitment_signed: d.commitment_signed,
            commitment_signed_on: d.commitment_signed_on,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn input() -> EstablishmentInput {
        EstablishmentInput {
            name: "Karaoke Hoa Mai".into(),
            establishment_type: EstablishmentType::Karaoke,
            unit: "2025:19753".into(),
            address: "12 Lê Lợi, phường Phú Hội".into(),
            lat: Some(16.4637),
            lon: Some(107.5909),
            business_reg_no: Some("3300123456-001".into()),
            licence_no: Some("15/GP-VHTT".into()),
            licence_issued_on: Some(date("2023-01-10")),
            licence_expires_on: Some(date("2028-01-10")),
            antt_cert_no: Some("120/ĐĐKANTT".into()),
            owner_name: Some("Nguyễn Văn Đức".into()),
            phone: Some("0234 3822 123".into()),
            status: EstablishmentStatus::Operating,
            opened_on: Some(date("2023-02-01")),
            closed_on: None,
            risk: RiskLevel::High,
            commitment_signed: true,
            commitment_signed_on: Some(date("2023-02-15")),
        }
    }

    fn err(i: EstablishmentInput) -> (String, &'static str) {
        let e = EstablishmentDraft::parse(i).unwrap_err();
        (e.field, e.code.as_str())
    }

    fn e(field: &str, code: &'static str) -> (String, &'static str) {
        (field.to_owned(), code)
    }

    #[test]
    fn enums_are_well_formed() {
        test_domain_enum!(EstablishmentType);
        test_domain_enum!(EstablishmentStatus);
        test_domain_enum!(RiskLevel);
    }

    #[test]
    fn establishment_type_codes_and_labels() {
        let codes: Vec<_> = EstablishmentType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(
            codes,
            [
                "karaoke",
                "dance_hall",
                "massage_sauna",
                "hotel",
                "guesthouse",
                "bar",
                "restaurant_hostess",
                "other"
            ]
        );
        assert_eq!(EstablishmentType::Guesthouse.label_vi(), "Nhà nghỉ");
        assert_eq!(
            EstablishmentType::MassageSauna.label_vi(),
            "Xoa bóp, xông hơi"
        );
    }

    #[test]
    fn checklist_keys_match_the_draft_groups() {
        use EstablishmentType as T;
        assert_eq!(T::Karaoke.checklist_key(), "karaoke");
        assert_eq!(T::DanceHall.checklist_key(), "vu_truong");
        assert_eq!(T::Hotel.checklist_key(), "luu_tru");
        assert_eq!(T::Guesthouse.checklist_key(), "luu_tru");
        assert_eq!(T::MassageSauna.checklist_key(), "xoa_bop");
        assert_eq!(T::Bar.checklist_key(), "nha_hang_bar_cafe");
        assert_eq!(T::RestaurantHostess.checklist_key(), "nha_hang_bar_cafe");
        assert_eq!(T::Other.checklist_key(), "nha_hang_bar_cafe");
    }

    #[test]
    fn phone_rules() {
        assert_eq!(
            Phone::parse("0234 3822 123").unwrap().as_str(),
            "02343822123"
        );
        assert_eq!(
            Phone::parse("+84 905 123 456").unwrap().as_str(),
            "+84905123456"
        );
        assert_eq!(Phone::parse("0905.123.456").unwrap().as_str(), "0905123456");
        assert_eq!(Phone::parse("12345678").unwrap().as_str(), "12345678");
        assert_eq!(
            Phone::parse("123456789012345").unwrap().as_str(),
            "123456789012345"
        );
        for bad in [
            "1234567",
            "1234567890123456",
            "09x5123456",
            "09+05123456",
            "++84905123456",
        ] {
            let e = Phone::parse(bad).unwrap_err();
            assert_eq!(
                (e.field.as_str(), e.code.as_str()),
                ("phone", "invalid"),
                "{bad}"
            );
        }
        assert_eq!(Phone::parse(" ").unwrap_err().code, "required");
        assert!(serde_json::from_str::<Phone>("\"123\"").is_err());
        assert_eq!(
            serde_json::to_string(&Phone::parse("0905 123 456").unwrap()).unwrap(),
            "\"0905123456\""
        );
    }

    #[test]
    fn licence_rules() {
        assert_eq!(
            Licence::parse(LicenceInput::default()).unwrap(),
            Licence::default()
        );
        let l = Licence::parse(LicenceInput {
            business_reg_no: Some(" 33A8.012/345-1 ".into()),
            licence_no: Some("  ".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(l.business_reg_no(), Some("33A8.012/345-1"));
        assert_eq!(l.licence_no(), None);

        let e = Licence::parse(LicenceInput {
            business_reg_no: Some("33 00".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("business_reg_no", "invalid")
        );
        let e = Licence::parse(LicenceInput {
            business_reg_no: Some("Đ3300".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.code, "invalid");
        let e = Licence::parse(LicenceInput {
            business_reg_no: Some("1".repeat(41)),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("business_reg_no", "too_long")
        );
        let e = Licence::parse(LicenceInput {
            licence_no: Some("1".repeat(61)),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("licence_no", "too_long")
        );
        let e = Licence::parse(LicenceInput {
            antt_cert_no: Some("1".repeat(61)),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("antt_cert_no", "too_long")
        );
    }

    #[test]
    fn licence_expiry_must_follow_issue() {
        let mk = |issued: &str, expires: &str| {
            Licence::parse(LicenceInput {
                licence_issued_on: Some(date(issued)),
                licence_expires_on: Some(date(expires)),
                ..Default::default()
            })
        };
        assert!(mk("2023-01-01", "2023-01-02").is_ok());
        let e = mk("2023-01-01", "2023-01-01").unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("licence_expires_on", "out_of_range")
        );
        assert!(mk("2023-01-02", "2023-01-01").is_err());
        let l = mk("2023-01-01", "2024-01-01").unwrap();
        assert!(!l.is_expired_on(date("2024-01-01")));
        assert!(l.is_expired_on(date("2024-01-02")));
    }

    #[test]
    fn accepts_a_full_valid_input() {
        let d = EstablishmentDraft::parse(input()).unwrap();
        assert_eq!(d.name(), "Karaoke Hoa Mai");
        assert_eq!(d.establishment_type(), EstablishmentType::Karaoke);
        assert_eq!(d.unit().to_string(), "2025:19753");
        assert_eq!(d.address(), "12 Lê Lợi, phường Phú Hội");
        assert_eq!(d.location().unwrap().lat(), 16.4637);
        assert_eq!(d.licence().antt_cert_no(), Some("120/ĐĐKANTT"));
        assert_eq!(d.owner_name(), Some("Nguyễn Văn Đức"));
        assert_eq!(d.phone().unwrap().as_str(), "02343822123");
        assert_eq!(d.status(), EstablishmentStatus::Operating);
        assert_eq!(d.opened_on(), Some(date("2023-02-01")));
        assert_eq!(d.closed_on(), None);
        assert_eq!(d.risk(), RiskLevel::High);
        assert!(d.commitment_signed());
        assert_eq!(d.commitment_signed_on(), Some(date("2023-02-15")));
    }

    #[test]
    fn accepts_a_minimal_input() {
        let d = EstablishmentDraft::parse(EstablishmentInput {
            lat: None,
            lon: None,
            business_reg_no: None,
            licence_no: None,
            licence_issued_on: None,
            licence_expires_on: None,
            antt_cert_no: None,
            owner_name: Some("  ".into()),
            phone: Some("".into()),
            opened_on: None,
            commitment_signed: false,
            commitment_signed_on: None,
            ..input()
        })
        .unwrap();
        assert_eq!(d.location(), None);
        assert_eq!(d.owner_name(), None);
        assert_eq!(d.phone(), None);
    }

    #[test]
    fn name_and_address_rules() {
        assert_eq!(
            err(EstablishmentInput {
                name: " ".into(),
                ..input()
            }),
            e("name", "required")
        );
        assert_eq!(
            err(EstablishmentInput {
                name: "x".repeat(201),
                ..input()
            }),
            e("name", "too_long")
        );
        assert!(EstablishmentDraft::parse(EstablishmentInput {
            name: "x".repeat(200),
            ..input()
        })
        .is_ok());
        assert_eq!(
            err(EstablishmentInput {
                address: "".into(),
                ..input()
            }),
            e("address", "required")
        );
        assert_eq!(
            err(EstablishmentInput {
                address: "x".repeat(301),
                ..input()
            }),
            e("address", "too_long")
        );
        assert_eq!(
            err(EstablishmentInput {
                address: "a\nb".into(),
                ..input()
            }),
            e("address", "invalid")
        );
    }

    #[test]
    fn unit_must_be_a_commune() {
        assert_eq!(
            err(EstablishmentInput {
                unit: "2025:46".into(),
                ..input()
            }),
            e("unit", "invalid")
        );
        assert_eq!(
            err(EstablishmentInput {
                unit: "pre2025:474".into(),
                ..input()
            }),
            e("unit", "invalid")
        );
        assert_eq!(
            err(EstablishmentInput {
                unit: "19753".into(),
                ..input()
            }),
            e("unit", "invalid")
        );
        assert_eq!(
            err(EstablishmentInput {
                unit: "".into(),
                ..input()
            }),
            e("unit", "required")
        );
        assert!(EstablishmentDraft::parse(EstablishmentInput {
            unit: "pre2025:19753".into(),
            ..input()
        })
        .is_ok());
    }

    #[test]
    fn location_rules() {
        assert_eq!(
            err(EstablishmentInput {
                lon: None,
                ..input()
            }),
            e("lon", "required")
        );
        assert_eq!(
            err(EstablishmentInput {
                lat: None,
                ..input()
            }),
            e("lat", "required")
        );
        assert_eq!(
            err(EstablishmentInput {
                lat: Some(48.85),
                ..input()
            }),
            e("lat", "out_of_range")
        );
    }

    #[test]
    fn licence_errors_surface_with_their_field() {
        assert_eq!(
            err(EstablishmentInput {
                licence_expires_on: Some(date("2022-01-01")),
                ..input()
            }),
            e("licence_expires_on", "out_of_range")
        );
        assert_eq!(
            err(EstablishmentInput {
                business_reg_no: Some("a b".into()),
                ..input()
            }),
            e("business_reg_no", "invalid")
        );
    }

    #[test]
    fn owner_and_phone_rules() {
        assert_eq!(
            err(EstablishmentInput {
                owner_name: Some("x".repeat(121)),
                ..input()
            }),
            e("owner_name", "too_long")
        );
        assert_eq!(
            err(EstablishmentInput {
                phone: Some("123".into()),
                ..input()
            }),
            e("phone", "invalid")
        );
    }

    #[test]
    fn closing_rules() {
        let closed = |closed_on: Option<&str>| EstablishmentInput {
            status: EstablishmentStatus::Closed,
            closed_on: closed_on.map(date),
            ..input()
        };
        assert!(EstablishmentDraft::parse(closed(Some("2024-05-01"))).is_ok());
        assert!(EstablishmentDraft::parse(closed(Some("2023-02-01"))).is_ok());
        assert_eq!(err(closed(None)), e("closed_on", "required"));
        assert_eq!(
            err(closed(Some("2023-01-31"))),
            e("closed_on", "out_of_range")
        );
        assert_eq!(
            err(EstablishmentInput {
                closed_on: Some(date("2024-05-01")),
                ..input()
            }),
            e("closed_on", "inconsistent")
        );
        assert_eq!(
            err(EstablishmentInput {
                status: EstablishmentStatus::Suspended,
                closed_on: Some(date("2024-05-01")),
                ..input()
            }),
            e("closed_on", "inconsistent")
        );
        assert!(EstablishmentDraft::parse(EstablishmentInput {
            status: EstablishmentStatus::Suspended,
            ..input()
        })
        .is_ok());
    }

    #[test]
    fn commitment_rules() {
        assert_eq!(
            err(EstablishmentInput {
                commitment_signed: false,
                ..input()
            }),
            e("commitment_signed_on", "inconsistent")
        );
        assert!(EstablishmentDraft::parse(EstablishmentInput {
            commitment_signed_on: None,
            ..input()
        })
        .is_ok());
    }

    #[test]
    fn search_key_folds_all_searchable_text() {
        let d = EstablishmentDraft::parse(input()).unwrap();
        assert_eq!(
            d.search_key(),
            "karaoke hoa mai 12 le loi, phuong phu hoi nguyen van duc 02343822123 \
             3300123456-001 15/gp-vhtt 120/ddkantt"
        );
        let minimal = EstablishmentDraft::parse(EstablishmentInput {
            owner_name: None,
            phone: None,
            business_reg_no: None,
            licence_no: None,
            antt_cert_no: None,
            ..input()
        })
        .unwrap();
        assert_eq!(
            minimal.search_key(),
            "karaoke hoa mai 12 le loi, phuong phu hoi"
        );
    }

    #[test]
    fn serde_round_trip_and_rejection() {
        let d = EstablishmentDraft::parse(input()).unwrap();
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["establishment_type"], "karaoke");
        assert_eq!(json["unit"], "2025:19753");
        assert_eq!(json["phone"], "02343822123");
        assert_eq!(
            serde_json::from_value::<EstablishmentDraft>(json.clone()).unwrap(),
            d
        );

        let mut bad = json.clone();
        bad["status"] = "closed".into();
        assert!(serde_json::from_value::<EstablishmentDraft>(bad).is_err());
        let mut unknown = json;
        unknown["colour"] = "red".into();
        assert!(serde_json::from_value::<EstablishmentInput>(unknown).is_err());
    }

    #[test]
    fn input_optional_fields_may_be_omitted() {
        let i: EstablishmentInput = serde_json::from_str(
            r#"{"name":"Nhà nghỉ Hoa","establishment_type":"guesthouse","unit":"2025:19753",
                "address":"3 Hùng Vương","status":"operating","risk":"low"}"#,
        )
        .unwrap();
        let d = EstablishmentDraft::parse(i).unwrap();
        assert!(!d.commitment_signed());
        assert_eq!(d.licence(), &Licence::default());
    }
}
