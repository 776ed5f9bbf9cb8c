//! Assignments: which establishments a team inspects in a window. A leader drafts one, releases it
//! to the team (inspectors never see drafts), and it ends done or cancelled.

use std::collections::HashSet;

use chrono::{NaiveDate, TimeDelta};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{indexed, DomainError, DomainResult};
use crate::text::clean_optional_text;

/// Most establishments in one assignment.
pub const MAX_ASSIGNMENT_ESTABLISHMENTS: usize = 500;
/// Longest window of one assignment, in days.
pub const MAX_WINDOW_DAYS: i64 = 366;

domain_enum! {
    /// Why the team goes.
    pub enum AssignmentKind ("kind") {
        /// Kiểm tra theo kế hoạch (plan approved by the People's Committee chair).
        Planned = "planned", "Theo kế hoạch", "Planned";
        /// Kiểm tra đột xuất: nobody outside the team may learn of it in advance.
        Unannounced = "unannounced", "Đột xuất", "Unannounced";
        /// Hậu kiểm of an earlier visit.
        FollowUp = "follow_up", "Hậu kiểm", "Follow-up";
        /// On a tip (tố giác, tin báo).
        Tip = "tip", "Theo tin báo", "Tip";
    }
}

domain_enum! {
    /// Life cycle: draft → released → done, or cancelled from draft or released.
    pub enum AssignmentStatus ("status") {
        Draft = "draft", "Bản nháp", "Draft";
        Released = "released", "Đã giao", "Released";
        Done = "done", "Đã hoàn thành", "Done";
        Cancelled = "cancelled", "Đã hủy", "Cancelled";
    }
}

impl AssignmentStatus {
    /// The status after moving to `next`, if the life cycle allows it (field `status`).
    pub fn transition(self, next: AssignmentStatus) -> DomainResult<AssignmentStatus> {
        use AssignmentStatus::*;
        match (self, next) {
            (Draft, Released) | (Draft, Cancelled) | (Released, Done) | (Released, Cancelled) => {
                Ok(next)
            }
            _ => Err(DomainError::invalid_transition(
                "status",
                format!("an assignment that is {self} cannot become {next}"),
            )),
        }
    }

    /// Whether the team's inspectors see it.
    pub const fn visible_to_inspectors(self) -> bool {
        matches!(self, AssignmentStatus::Released | AssignmentStatus::Done)
    }
}

/// An assignment as a leader submits it. Unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssignmentInput {
    pub team_id: Uuid,
    pub kind: AssignmentKind,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    pub establishment_ids: Vec<Uuid>,
    #[serde(default)]
    pub note: Option<String>,
    /// Required for kind `tip`.
    #[serde(default)]
    pub tip_id: Option<Uuid>,
    /// The visit followed up; required for kind `follow_up`.
    #[serde(default)]
    pub follow_up_of: Option<Uuid>,
}

/// A validated assignment draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentDraft {
    team_id: Uuid,
    kind: AssignmentKind,
    window_start: NaiveDate,
    window_end: NaiveDate,
    establishment_ids: Vec<Uuid>,
    note: Option<String>,
    tip_id: Option<Uuid>,
    follow_up_of: Option<Uuid>,
}

impl AssignmentDraft {
    /// Rules: 1 to 500 distinct establishments; `window_end` not before `window_start` and at most
    /// a year after it; note ≤ 2000 characters; `tip_id` required for (and only for) kind `tip`,
    /// `follow_up_of` required for kind `follow_up`.
    pub fn parse(input: AssignmentInput) -> DomainResult<Self> {
        if input.establishment_ids.is_empty() {
            return Err(DomainError::required("establishment_ids"));
        }
        if input.establishment_ids.len() > MAX_ASSIGNMENT_ESTABLISHMENTS {
            return Err(DomainError::too_long(
                "establishment_ids",
                MAX_ASSIGNMENT_ESTABLISHMENTS,
            ));
        }
        let mut seen = HashSet::new();
        for (i, e) in input.establishment_ids.iter().enumerate() {
            if !seen.insert(e) {
                return Err(DomainError::duplicate(
                    indexed("establishment_ids", i),
                    "appears twice",
                ));
            }
        }
        if input.window_end < input.window_start {
            return Err(DomainError::out_of_range(
                "window_end",
                "must not be before window_start",
            ));
        }
        if input.window_end - input.window_start > TimeDelta::days(MAX_WINDOW_DAYS) {
            return Err(DomainError::out_of_range(
                "window_end",
                format!("a window is at most {MAX_WINDOW_DAYS} days long"),
            ));
        }
        let note = clean_optional_text("note", input.note.as_deref(), 2000)?;
        match (input.kind, input.tip_id) {
            (AssignmentKind::Tip, None) => return Err(DomainError::required("tip_id")),
            (AssignmentKind::Planned, Some(_)) => {
                return Err(DomainError::inconsistent(
                    "tip_id",
                    "a planned inspection is not on a tip",
                ))
            }
            _ => {}
        }
        if input.kind == AssignmentKind::FollowUp && input.follow_up_of.is_none() {
            return Err(DomainError::required("follow_up_of"));
        }
        Ok(Self {
            team_id: input.team_id,
            kind: input.kind,
            window_start: input.window_start,
            window_end: input.window_end,
            establishment_ids: input.establishment_ids,
            note,
            tip_id: input.tip_id,
            follow_up_of: input.follow_up_of,
        })
    }

    pub fn team_id(&self) -> Uuid {
        self.team_id
    }
    pub fn kind(&self) -> AssignmentKind {
        self.kind
    }
    pub fn window_start(&self) -> NaiveDate {
        self.window_start
    }
    pub fn window_end(&self) -> NaiveDate {
        self.window_end
    }
    pub fn establishment_ids(&self) -> &[Uuid] {
        &self.establishment_ids
    }
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
    pub fn tip_id(&self) -> Option<Uuid> {
        self.tip_id
    }
    pub fn follow_up_of(&self) -> Option<Uuid> {
        self.follow_up_of
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn input() -> AssignmentInput {
        AssignmentInput {
            team_id: Uuid::from_u128(1),
            kind: AssignmentKind::Planned,
            window_start: d("2026-12-01"),
            window_end: d("2026-12-15"),
            establishment_ids: vec![Uuid::from_u128(10), Uuid::from_u128(11)],
            note: Some("  Đợt 1  ".into()),
            tip_id: None,
            follow_up_of: None,
        }
    }

    #[test]
    fn enums_are_consistent() {
        test_domain_enum!(AssignmentKind);
        test_domain_enum!(AssignmentStatus);
    }

    #[test]
    fn life_cycle() {
        use AssignmentStatus::*;
        assert_eq!(Draft.transition(Released).unwrap(), Released);
        assert_eq!(Draft.transition(Cancelled).unwrap(), Cancelled);
        assert_eq!(Released.transition(Done).unwrap(), Done);
        assert_eq!(Released.transition(Cancelled).unwrap(), Cancelled);
        for (from, to) in [
            (Draft, Done),
            (Released, Draft),
            (Done, Cancelled),
            (Cancelled, Released),
            (Draft, Draft),
        ] {
            let e = from.transition(to).unwrap_err();
            assert_eq!(
                (e.field.as_str(), e.code.as_str()),
                ("status", "invalid_transition")
            );
        }
        assert!(!Draft.visible_to_inspectors());
        assert!(Released.visible_to_inspectors());
        assert!(!Cancelled.visible_to_inspectors());
    }

    #[test]
    fn valid_draft() {
        let a = AssignmentDraft::parse(input()).unwrap();
        assert_eq!(a.note(), Some("Đợt 1"));
        assert_eq!(a.establishment_ids().len(), 2);
        assert_eq!(a.kind(), AssignmentKind::Planned);
    }

    #[test]
    fn rules() {
        let field = |i: AssignmentInput| AssignmentDraft::parse(i).unwrap_err().field;
        assert_eq!(
            field(AssignmentInput {
                establishment_ids: vec![],
                ..input()
            }),
            "establishment_ids"
        );
        assert_eq!(
            field(AssignmentInput {
                establishment_ids: vec![Uuid::from_u128(1); 2],
                ..input()
            }),
            "establishment_ids[1]"
        );
        assert_eq!(
            field(AssignmentInput {
                window_end: d("2026-11-30"),
                ..input()
            }),
            "window_end"
        );
        assert_eq!(
            field(AssignmentInput {
                window_end: d("2028-01-01"),
                ..input()
            }),
            "window_end"
        );
        assert_eq!(
            field(AssignmentInput {
                kind: AssignmentKind::Tip,
                ..input()
            }),
            "tip_id"
        );
        assert_eq!(
            field(AssignmentInput {
                kind: AssignmentKind::FollowUp,
                ..input()
            }),
            "follow_up_of"
        );
        assert_eq!(
            field(AssignmentInput {
                tip_id: Some(Uuid::from_u128(5)),
                ..input()
            }),
            "tip_id"
        );
        let many = (0..=MAX_ASSIGNMENT_ESTABLISHMENTS as u128)
            .map(Uuid::from_u128)
            .collect();
        assert_eq!(
            field(AssignmentInput {
                establishment_ids: many,
                ..input()
            }),
            "establishment_ids"
        );
        assert!(AssignmentDraft::parse(AssignmentInput {
            kind: AssignmentKind::Unannounced,
            tip_id: Some(Uuid::from_u128(5)),
            ..input()
        })
        .is_ok());
    }
}
