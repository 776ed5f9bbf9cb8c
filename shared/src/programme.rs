//! Programmes and their coverage targets. Targets are data: a period, the share of establishments
//! in scope to inspect every year, the share to have inspected at least once by the end, and the
//! establishment types in scope.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, DomainResult};
use crate::establishment::EstablishmentType;
use crate::text::clean_line;

/// A share in basis points (1 % = 100 bp, 100 % = 10 000 bp), so targets compare exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct ShareBp(u32);

impl ShareBp {
    pub const FULL: ShareBp = ShareBp(10_000);

    pub fn new(bp: u32) -> DomainResult<Self> {
        if bp > 10_000 {
            return Err(DomainError::out_of_range(
                "share",
                "must be between 0 and 10000 basis points",
            ));
        }
        Ok(Self(bp))
    }

    pub fn get(self) -> u32 {
        self.0
    }

    pub fn as_fraction(self) -> f64 {
        f64::from(self.0) / 10_000.0
    }

    /// Smallest count of `total` that meets this share (rounded up: 20 % of 11 is 3).
    pub fn required_of(self, total: u64) -> u64 {
        (total * u64::from(self.0)).div_ceil(10_000)
    }
}

impl TryFrom<u32> for ShareBp {
    type Error = DomainError;
    fn try_from(bp: u32) -> DomainResult<Self> {
        Self::new(bp)
    }
}

impl From<ShareBp> for u32 {
    fn from(s: ShareBp) -> Self {
        s.0
    }
}

/// A programme as configured by an administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProgrammeInput {
    pub name: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Basis points of establishments in scope to inspect each calendar year (2000 = 20 %).
    pub annual_min_share_bp: u32,
    /// Basis points inspected at least once by the end of the period (10000 = 100 %).
    pub end_share_bp: u32,
    pub types_in_scope: Vec<EstablishmentType>,
}

/// A validated programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Programme {
    name: String,
    period_start: NaiveDate,
    period_end: NaiveDate,
    annual_min_share: ShareBp,
    end_share: ShareBp,
    types_in_scope: Vec<EstablishmentType>,
}

/// The longest programme period, in calendar years. The plans run five years (2021–2025,
/// 2026–2030); coverage keeps a window start per year of every programme, so an unbounded period
/// (year 1 to 9999) would make one request rebuild thousands of rollup windows.
pub const MAX_PERIOD_YEARS: i32 = 10;

impl Programme {
    pub fn parse(input: ProgrammeInput) -> DomainResult<Self> {
        let name = clean_line("name", &input.name, 200)?;
        if input.period_end <= input.period_start {
            return Err(DomainError::out_of_range(
                "period_end",
                "must be after period_start",
            ));
        }
        if input.period_end.year() - input.period_start.year() >= MAX_PERIOD_YEARS {
            return Err(DomainError::out_of_range(
                "period_end",
                "a programme runs at most 10 calendar years; split a longer plan",
            ));
        }
        let annual = ShareBp::new(input.annual_min_share_bp)
            .map_err(|e| e.with_field("annual_min_share_bp"))?;
        let end = ShareBp::new(input.end_share_bp).map_err(|e| e.with_field("end_share_bp"))?;
        if input.types_in_scope.is_empty() {
            return Err(DomainError::required("types_in_scope"));
        }
        let mut types = input.types_in_scope;
        types.sort();
        types.dedup();
        Ok(Self {
            name,
            period_start: input.period_start,
            period_end: input.period_end,
            annual_min_share: annual,
            end_share: end,
            types_in_scope: types,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn period_start(&self) -> NaiveDate {
        self.period_start
    }
    pub fn period_end(&self) -> NaiveDate {
        self.period_end
    }
    pub fn annual_min_share(&self) -> ShareBp {
        self.annual_min_share
    }
    pub fn end_share(&self) -> ShareBp {
        self.end_share
    }
    pub fn types_in_scope(&self) -> &[EstablishmentType] {
        &self.types_in_scope
    }
    pub fn covers_type(&self, t: EstablishmentType) -> bool {
        self.types_in_scope.contains(&t)
    }
    /// Whether `day` falls inside the programme period.
    pub fn covers_day(&self, day: NaiveDate) -> bool {
        (self.period_start..=self.period_end).contains(&day)
    }
    /// Calendar years the period touches.
    pub fn years(&self) -> std::ops::RangeInclusive<i32> {
        self.period_start.year()..=self.period_end.year()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn input() -> ProgrammeInput {
        ProgrammeInput {
            name: "Chương trình 2021–2025".into(),
            period_start: "2021-01-01".parse().unwrap(),
            period_end: "2025-12-31".parse().unwrap(),
            annual_min_share_bp: 2000,
            end_share_bp: 10_000,
            types_in_scope: vec![
                EstablishmentType::Karaoke,
                EstablishmentType::Hotel,
                EstablishmentType::Karaoke,
            ],
        }
    }

    #[test]
    fn shares_round_up() {
        let s = ShareBp::new(2000).unwrap();
        assert_eq!(s.required_of(11), 3);
        assert_eq!(s.required_of(10), 2);
        assert_eq!(s.required_of(0), 0);
        assert_eq!(ShareBp::FULL.required_of(7), 7);
        assert!(ShareBp::new(10_001).is_err());
        assert!((s.as_fraction() - 0.2).abs() < 1e-12);
        assert!(serde_json::from_str::<ShareBp>("20000").is_err());
    }

    #[test]
    fn programme_rules() {
        let p = Programme::parse(input()).unwrap();
        assert_eq!(p.types_in_scope().len(), 2);
        assert!(p.covers_type(EstablishmentType::Hotel));
        assert!(!p.covers_type(EstablishmentType::Bar));
        assert_eq!(p.years(), 2021..=2025);
        assert!(p.covers_day("2025-12-31".parse().unwrap()));
        let field = |i: ProgrammeInput| Programme::parse(i).unwrap_err().field;
        assert_eq!(
            field(ProgrammeInput {
                period_end: "2020-01-01".parse().unwrap(),
                ..input()
            }),
            "period_end"
        );
        assert_eq!(
            field(ProgrammeInput {
                period_start: "0001-01-01".parse().unwrap(),
                period_end: "9999-12-31".parse().unwrap(),
                ..input()
            }),
            "period_end"
        );
        assert!(Programme::parse(ProgrammeInput {
            period_end: "2030-12-31".parse().unwrap(),
            ..input()
        })
        .is_ok());
        assert_eq!(
            field(ProgrammeInput {
                annual_min_share_bp: 10_001,
                ..input()
            }),
            "annual_min_share_bp"
        );
        assert_eq!(
            field(ProgrammeInput {
                end_share_bp: 10_001,
                ..input()
            }),
            "end_share_bp"
        );
        assert_eq!(
            field(ProgrammeInput {
                types_in_scope: vec![],
                ..input()
            }),
            "types_in_scope"
        );
        assert_eq!(
            field(ProgrammeInput {
                name: "".into(),
                ..input()
            }),
            "name"
        );
    }
}
