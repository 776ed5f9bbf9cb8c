//! Visits (cuộc kiểm tra): what a team recorded on site. The phone generates the id and sends
//! the visit as [`VisitInput`]; [`VisitRecord::parse`] validates and normalises it once, and its
//! [`VisitRecord::digest`] is what idempotent resubmission compares.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::error::{indexed, DomainError, DomainResult};
use crate::geo::{GpsFix, GpsInput};
use crate::photo::MAX_PHOTOS_PER_VISIT;
use crate::text::{clean_line, clean_optional_line, clean_optional_text, clean_text};
use crate::time::{not_in_future, vietnam_date};

/// Most members listed as present.
pub const MAX_MEMBERS_PRESENT: usize = 30;
/// Most checklist answers in one visit.
pub const MAX_ANSWERS: usize = 300;
/// Most violations in one visit.
pub const MAX_VIOLATIONS: usize = 50;
/// Longest a visit may last.
pub const MAX_VISIT_HOURS: i64 = 24;
/// Largest proposed fine for one violation, in VND (organisations pay double the maximum of
/// Decree 282/2025, which stays far below this).
pub const MAX_FINE_VND: i64 = 2_000_000_000;
/// A follow-up is planned within this many days of the visit.
pub const MAX_FOLLOW_UP_DAYS: i64 = 730;

domain_enum! {
    /// How the visit ended.
    pub enum Outcome ("outcome") {
        /// Không phát hiện vi phạm.
        NoViolation = "no_violation", "Không phát hiện vi phạm", "No violation found";
        /// Phát hiện vi phạm, lập biên bản.
        ViolationsFound = "violations_found", "Phát hiện vi phạm", "Violations found";
        /// The establishment was closed or no longer trading.
        NotOperating = "not_operating", "Cơ sở không hoạt động", "Not operating";
        /// Entry refused; recorded with witnesses.
        Refused = "refused", "Cơ sở không hợp tác", "Entry refused";
    }
}

domain_enum! {
    /// The answer to one checklist item.
    pub enum AnswerResult ("result") {
        Pass = "pass", "Đạt", "Pass";
        Fail = "fail", "Không đạt", "Fail";
        NotApplicable = "not_applicable", "Không áp dụng", "Not applicable";
    }
}

domain_enum! {
    /// A team leader's review of a submitted visit.
    pub enum ReviewStatus ("review_status") {
        Submitted = "submitted", "Chờ duyệt", "Submitted";
        Accepted = "accepted", "Đã duyệt", "Accepted";
        CorrectionRequested = "correction_requested", "Yêu cầu bổ sung", "Correction requested";
        Rejected = "rejected", "Không duyệt", "Rejected";
    }
}

/// One answered checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    /// Item code from the checklist template.
    pub item: String,
    pub result: AnswerResult,
    #[serde(default)]
    pub note: Option<String>,
}

/// One violation found, with its legal basis and the fine proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ViolationInput {
    /// Violation code from the reference list (e.g. `ND282_D23_K2_A`).
    pub code: String,
    pub description: String,
    /// Article, clause and decree, e.g. "Điểm a khoản 2 Điều 23 Nghị định 282/2025/NĐ-CP".
    pub legal_basis: String,
    /// Proposed fine in VND (0 when only a warning or a remedial measure).
    pub proposed_fine_vnd: i64,
}

/// A visit as the phone sends it. Unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VisitInput {
    pub establishment_id: Uuid,
    pub team_id: Uuid,
    /// The released assignment this visit carries out, if any.
    #[serde(default)]
    pub assignment_id: Option<Uuid>,
    /// Team members who took part (user ids).
    pub members_present: Vec<Uuid>,
    /// Device clock when the inspection started and ended.
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    #[serde(default)]
    pub gps: Option<GpsInput>,
    /// The phone's note when no or a poor fix was available.
    #[serde(default)]
    pub gps_warning: Option<String>,
    pub template_id: Uuid,
    pub template_version: u32,
    #[serde(default)]
    pub answers: Vec<AnswerInput>,
    pub outcome: Outcome,
    #[serde(default)]
    pub violations: Vec<ViolationInput>,
    /// Number of the minutes (biên bản); required when violations were found.
    #[serde(default)]
    pub minutes_no: Option<String>,
    /// Planned follow-up inspection (hậu kiểm).
    #[serde(default)]
    pub follow_up_on: Option<NaiveDate>,
    /// Photos taken, uploaded separately under these ids.
    #[serde(default)]
    pub photo_ids: Vec<Uuid>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// A validated, normalised visit.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitRecord {
    input: VisitInput,
    /// The canonical JSON of `input`: what is stored as the visit's body.
    canonical: String,
    digest: String,
}

fn unique<T: std::hash::Hash + Eq>(field: &str, items: &[T]) -> DomainResult<()> {
    let mut seen = HashSet::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if !seen.insert(item) {
            return Err(DomainError::duplicate(indexed(field, i), "appears twice"));
        }
    }
    Ok(())
}

fn at_most(field: &str, len: usize, max: usize) -> DomainResult<()> {
    if len > max {
        return Err(DomainError::too_long(field, max));
    }
    Ok(())
}

impl VisitRecord {
    /// Validates every rule; the error names the first offending field (`violations[1].legal_basis`).
    /// `now` is the server's clock, used to refuse times in the future.
    pub fn parse(input: VisitInput, now: DateTime<Utc>) -> DomainResult<Self> {
        let mut v = input;
        if v.members_present.is_empty() {
            return Err(DomainError::required("members_present"));
        }
        at_most(
            "members_present",
            v.members_present.len(),
            MAX_MEMBERS_PRESENT,
        )?;
        unique("members_present", &v.members_present)?;

        not_in_future("started_at", v.started_at, now)?;
        not_in_future("ended_at", v.ended_at, now)?;
        if v.ended_at < v.started_at {
            return Err(DomainError::out_of_range(
                "ended_at",
                "must not be before started_at",
            ));
        }
        if v.ended_at - v.started_at > TimeDelta::hours(MAX_VISIT_HOURS) {
            return Err(DomainError::out_of_range(
                "ended_at",
                format!("a visit lasts at most {MAX_VISIT_HOURS} hours"),
            ));
        }
        let earliest =
            DateTime::<Utc>::from_timestamp(1_577_836_800, 0).unwrap_or(DateTime::<Utc>::MIN_UTC);
        if v.started_at < earliest {
            return Err(DomainError::out_of_range(
                "started_at",
                "is before 2020 (check the device clock)",
            ));
        }

        if let Some(gps) = v.gps {
            GpsFix::try_from(gps).map_err(|e| e.with_prefix("gps"))?;
        }
        v.gps_warning = clean_optional_text("gps_warning", v.gps_warning.as_deref(), 500)?;
        if v.template_version == 0 {
            return Err(DomainError::out_of_range(
                "template_version",
                "must be 1 or more",
            ));
        }

        at_most("answers", v.answers.len(), MAX_ANSWERS)?;
        for (i, a) in v.answers.iter_mut().enumerate() {
            let prefix = indexed("answers", i);
            a.item = clean_line("item", &a.item, 64).map_err(|e| e.with_prefix(&prefix))?;
            a.note = clean_optional_text("note", a.note.as_deref(), 1000)
                .map_err(|e| e.with_prefix(&prefix))?;
        }
        let items: Vec<&str> = v.answers.iter().map(|a| a.item.as_str()).collect();
        for (i, item) in items.iter().enumerate() {
            if items[..i].contains(item) {
                return Err(DomainError::duplicate(
                    format!("answers[{i}].item"),
                    "this item is answered twice",
                ));
            }
        }

        at_most("violations", v.violations.len(), MAX_VIOLATIONS)?;
        for (i, x) in v.violations.iter_mut().enumerate() {
            let prefix = indexed("violations", i);
            x.code = clean_line("code", &x.code, 64).map_err(|e| e.with_prefix(&prefix))?;
            x.description = clean_text("description", &x.description, 2000)
                .map_err(|e| e.with_prefix(&prefix))?;
            x.legal_basis = clean_line("legal_basis", &x.legal_basis, 300)
                .map_err(|e| e.with_prefix(&prefix))?;
            if !(0..=MAX_FINE_VND).contains(&x.proposed_fine_vnd) {
                return Err(DomainError::out_of_range(
                    format!("{prefix}.proposed_fine_vnd"),
                    format!("must be between 0 and {MAX_FINE_VND} VND"),
                ));
            }
        }
        match (v.outcome, v.violations.is_empty()) {
            (Outcome::ViolationsFound, true) => return Err(DomainError::required("violations")),
            (Outcome::ViolationsFound, false) | (_, true) => {}
            (_, false) => {
                return Err(DomainError::inconsistent(
                    "outcome",
                    "must be violations_found when violations are listed",
                ))
            }
        }
        v.minutes_no = clean_optional_line("minutes_no", v.minutes_no.as_deref(), 64)?;
        if !v.violations.is_empty() && v.minutes_no.is_none() {
            return Err(DomainError::required("minutes_no"));
        }
        if let Some(f) = v.follow_up_on {
            let visit_day = vietnam_date(v.started_at);
            if f < visit_day || f > visit_day + TimeDelta::days(MAX_FOLLOW_UP_DAYS) {
                return Err(DomainError::out_of_range(
                    "follow_up_on",
                    format!("must be between the visit day and {MAX_FOLLOW_UP_DAYS} days after it"),
                ));
            }
        }
        at_most("photo_ids", v.photo_ids.len(), MAX_PHOTOS_PER_VISIT)?;
        unique("photo_ids", &v.photo_ids)?;
        v.notes = clean_optional_text("notes", v.notes.as_deref(), 4000)?;

        // Serialising a struct cannot fail (no maps with non-string keys); fall back to Debug anyway.
        let canonical = serde_json::to_string(&v).unwrap_or_else(|_| format!("{v:?}"));
        let digest = hex::encode(Sha256::digest(canonical.as_bytes()));
        Ok(Self {
            input: v,
            canonical,
            digest,
        })
    }

    pub fn input(&self) -> &VisitInput {
        &self.input
    }

    pub fn into_input(self) -> VisitInput {
        self.input
    }

    /// The canonical JSON of the normalised visit (its fields in declaration order, optional
    /// ones as null): what is stored, and what [`VisitRecord::digest`] hashes.
    pub fn canonical_json(&self) -> &str {
        &self.canonical
    }

    /// SHA-256 (hex) of the canonical JSON of the normalised visit: equal for equal content,
    /// whether optional fields were omitted or sent as null.
    pub fn digest(&self) -> String {
        self.digest.clone()
    }

    /// The first answer (index and item code) that names no item of the checklist the visit
    /// answered; `on_checklist` tells whether a code is an item of that template version.
    pub fn answer_off_checklist(
        &self,
        on_checklist: impl Fn(&str) -> bool,
    ) -> Option<(usize, &str)> {
        self.input
            .answers
            .iter()
            .enumerate()
            .find(|(_, a)| !on_checklist(&a.item))
            .map(|(i, a)| (i, a.item.as_str()))
    }

    pub fn total_fine_vnd(&self) -> i64 {
        self.input
            .violations
            .iter()
            .map(|v| v.proposed_fine_vnd)
            .sum()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-20T10:00:00Z".parse().unwrap()
    }

    fn sample() -> VisitInput {
        VisitInput {
            establishment_id: Uuid::from_u128(1),
            team_id: Uuid::from_u128(2),
            assignment_id: None,
            members_present: vec![Uuid::from_u128(3), Uuid::from_u128(4), Uuid::from_u128(5)],
            started_at: "2026-11-20T01:00:00Z".parse().unwrap(),
            ended_at: "2026-11-20T02:00:00Z".parse().unwrap(),
            gps: Some(GpsInput {
                lat: 16.46,
                lon: 107.59,
                accuracy_m: 12.0,
            }),
            gps_warning: None,
            template_id: Uuid::from_u128(6),
            template_version: 1,
            answers: vec![AnswerInput {
                item: "GP_KD".into(),
                result: AnswerResult::Pass,
                note: None,
            }],
            outcome: Outcome::NoViolation,
            violations: vec![],
            minutes_no: None,
            follow_up_on: None,
            photo_ids: vec![],
            notes: Some("  ".into()),
        }
    }

    fn violation() -> ViolationInput {
        ViolationInput {
            code: "ND282_D23_K2".into(),
            description: "Không có danh sách nhân viên".into(),
            legal_basis: "Khoản 2 Điều 23 Nghị định 282/2025/NĐ-CP".into(),
            proposed_fine_vnd: 5_000_000,
        }
    }

    #[test]
    fn enums_are_consistent() {
        test_domain_enum!(Outcome);
        test_domain_enum!(AnswerResult);
        test_domain_enum!(ReviewStatus);
    }

    #[test]
    fn valid_visit_normalises_and_digests_stably() {
        let r = VisitRecord::parse(sample(), now()).unwrap();
        assert_eq!(r.input().notes, None, "blank notes become none");
        assert_eq!(r.digest().len(), 64);
        // What is stored is the normalised visit, and the digest is its hash.
        let stored: VisitInput = serde_json::from_str(r.canonical_json()).unwrap();
        assert_eq!(&stored, r.input());
        assert_eq!(
            r.digest(),
            hex::encode(Sha256::digest(r.canonical_json().as_bytes()))
        );
        // Omitted optional fields and explicit nulls give the same digest.
        let json = serde_json::to_value(sample()).unwrap();
        let mut stripped = json.as_object().unwrap().clone();
        stripped.retain(|_, v| !v.is_null());
        let back: VisitInput = serde_json::from_value(serde_json::Value::Object(stripped)).unwrap();
        assert_eq!(
            VisitRecord::parse(back, now()).unwrap().digest(),
            r.digest()
        );
        // Any change of content changes the digest.
        let mut other = sample();
        other.ended_at = "2026-11-20T02:01:00Z".parse().unwrap();
        assert_ne!(
            VisitRecord::parse(other, now()).unwrap().digest(),
            r.digest()
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut json = serde_json::to_value(sample()).unwrap();
        json["evil"] = serde_json::json!(1);
        assert!(serde_json::from_value::<VisitInput>(json).is_err());
    }

    fn field_of(v: VisitInput) -> String {
        VisitRecord::parse(v, now()).unwrap_err().field
    }

    #[test]
    fn members_times_and_gps() {
        let mut v = sample();
        v.members_present.clear();
        assert_eq!(field_of(v), "members_present");
        let mut v = sample();
        v.members_present.push(Uuid::from_u128(3));
        assert_eq!(field_of(v), "members_present[3]");
        let mut v = sample();
        v.ended_at = "2026-11-20T00:59:00Z".parse().unwrap();
        assert_eq!(field_of(v), "ended_at");
        let mut v = sample();
        v.started_at = "2026-11-18T00:00:00Z".parse().unwrap();
        assert_eq!(field_of(v), "ended_at", "longer than a day");
        let mut v = sample();
        v.ended_at = "2026-11-20T11:00:00Z".parse().unwrap();
        assert_eq!(field_of(v), "ended_at", "in the future");
        let mut v = sample();
        v.gps = Some(GpsInput {
            lat: 48.85,
            lon: 2.35,
            accuracy_m: 5.0,
        });
        assert_eq!(field_of(v), "gps.lat");
        let mut v = sample();
        v.gps = Some(GpsInput {
            lat: 16.4,
            lon: 107.5,
            accuracy_m: 0.0,
        });
        assert_eq!(field_of(v), "gps.accuracy_m");
        let mut v = sample();
        v.template_version = 0;
        assert_eq!(field_of(v), "template_version");
    }

    #[test]
    fn violations_need_outcome_minutes_and_legal_basis() {
        let mut v = sample();
        v.violations.push(violation());
        assert_eq!(field_of(v), "outcome");
        let mut v = sample();
        v.outcome = Outcome::ViolationsFound;
        assert_eq!(field_of(v), "violations");
        let mut v = sample();
        v.outcome = Outcome::ViolationsFound;
        v.violations.push(violation());
        assert_eq!(field_of(v.clone()), "minutes_no");
        v.minutes_no = Some("12/BB-ĐKT".into());
        let r = VisitRecord::parse(v.clone(), now()).unwrap();
        assert_eq!(r.total_fine_vnd(), 5_000_000);
        v.violations.push(ViolationInput {
            legal_basis: " ".into(),
            ..violation()
        });
        assert_eq!(field_of(v.clone()), "violations[1].legal_basis");
        v.violations[1] = ViolationInput {
            proposed_fine_vnd: -1,
            ..violation()
        };
        assert_eq!(field_of(v), "violations[1].proposed_fine_vnd");
    }

    #[test]
    fn answers_must_name_items_of_the_checklist() {
        let mut v = sample();
        v.answers.push(AnswerInput {
            item: "ZZ99".into(),
            result: AnswerResult::Pass,
            note: None,
        });
        let rec = VisitRecord::parse(v, now()).unwrap();
        assert_eq!(
            rec.answer_off_checklist(|c| c == "GP_KD"),
            Some((1, "ZZ99"))
        );
        assert_eq!(
            rec.answer_off_checklist(|c| c == "GP_KD" || c == "ZZ99"),
            None
        );
        assert_eq!(rec.answer_off_checklist(|_| false), Some((0, "GP_KD")));
    }

    #[test]
    fn answers_follow_up_and_photos() {
        let mut v = sample();
        v.answers.push(AnswerInput {
            item: "GP_KD".into(),
            result: AnswerResult::Fail,
            note: None,
        });
        assert_eq!(field_of(v), "answers[1].item");
        let mut v = sample();
        v.follow_up_on = Some(NaiveDate::from_ymd_opt(2026, 11, 19).unwrap());
        assert_eq!(field_of(v), "follow_up_on");
        let mut v = sample();
        v.follow_up_on = Some(NaiveDate::from_ymd_opt(2026, 12, 20).unwrap());
        assert!(VisitRecord::parse(v, now()).is_ok());
        let mut v = sample();
        v.photo_ids = vec![Uuid::from_u128(9), Uuid::from_u128(9)];
        assert_eq!(field_of(v), "photo_ids[1]");
        let mut v = sample();
        v.photo_ids = (0..=MAX_PHOTOS_PER_VISIT as u128)
            .map(Uuid::from_u128)
            .collect();
        assert_eq!(field_of(v), "photo_ids");
    }
}
