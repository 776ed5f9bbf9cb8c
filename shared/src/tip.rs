//! Tips and complaints (tố giác, tin báo): received, verified, classified and handled by a
//! deadline. 100 % of them must be handled in time.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{DomainError, DomainResult};
use crate::text::{clean_optional_line, clean_text};
use crate::time::{not_in_future, vietnam_date};
use crate::unit::UnitId;

/// Days to handle a tip when no deadline is given (the Criminal Procedure Code's 20 days for
/// reports of crimes).
pub const DEFAULT_TIP_DAYS: i64 = 20;
/// Longest allowed deadline after receipt.
pub const MAX_TIP_DAYS: i64 = 120;

domain_enum! {
    /// How the tip arrived.
    pub enum TipChannel ("channel") {
        Hotline = "hotline", "Đường dây nóng", "Hotline";
        Letter = "letter", "Đơn, thư", "Letter";
        InPerson = "in_person", "Trực tiếp", "In person";
        Online = "online", "Trực tuyến", "Online";
        AgencyReferral = "agency_referral", "Cơ quan chuyển đến", "Agency referral";
    }
}

domain_enum! {
    /// received → verifying → classified → handled, one step at a time.
    pub enum TipStatus ("status") {
        Received = "received", "Đã tiếp nhận", "Received";
        Verifying = "verifying", "Đang xác minh", "Verifying";
        Classified = "classified", "Đã phân loại", "Classified";
        Handled = "handled", "Đã xử lý", "Handled";
    }
}

impl TipStatus {
    /// The next status, if `next` is the one step forward (field `status`).
    pub fn transition(self, next: TipStatus) -> DomainResult<TipStatus> {
        use TipStatus::*;
        match (self, next) {
            (Received, Verifying) | (Verifying, Classified) | (Classified, Handled) => Ok(next),
            _ => Err(DomainError::invalid_transition(
                "status",
                format!("a tip that is {self} cannot become {next}; move one step at a time"),
            )),
        }
    }
}

/// A tip as recorded by staff. Unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = tip_input_example))]
#[serde(deny_unknown_fields)]
pub struct TipInput {
    pub channel: TipChannel,
    pub received_at: DateTime<Utc>,
    pub content: String,
    /// The unit concerned (commune or province), e.g. `"2025:19753"`.
    pub unit: String,
    #[serde(default)]
    pub establishment_id: Option<Uuid>,
    /// How to reach the person who reported it (kept confidential).
    #[serde(default)]
    pub reporter_contact: Option<String>,
    /// Default: 20 days after receipt.
    #[serde(default)]
    pub deadline: Option<NaiveDate>,
}

/// A valid [`TipInput`] for the API document (the examples phase of the contract tests sends it).
#[cfg(feature = "openapi")]
fn tip_input_example() -> serde_json::Value {
    serde_json::json!({
        "channel": "hotline", "received_at": "2026-01-05T08:00:00Z",
        "content": "Phòng hát đóng cửa sau 0 giờ", "unit": "2025:19789"
    })
}

/// A validated tip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TipDraft {
    channel: TipChannel,
    received_at: DateTime<Utc>,
    content: String,
    unit: UnitId,
    establishment_id: Option<Uuid>,
    reporter_contact: Option<String>,
    deadline: NaiveDate,
}

impl TipDraft {
    pub fn parse(input: TipInput, now: DateTime<Utc>) -> DomainResult<Self> {
        not_in_future("received_at", input.received_at, now)?;
        let content = clean_text("content", &input.content, 5000)?;
        let unit = UnitId::parse(&input.unit)?;
        let reporter_contact =
            clean_optional_line("reporter_contact", input.reporter_contact.as_deref(), 200)?;
        let received_day = vietnam_date(input.received_at);
        let deadline = input
            .deadline
            .unwrap_or(received_day + TimeDelta::days(DEFAULT_TIP_DAYS));
        if deadline < received_day || deadline > received_day + TimeDelta::days(MAX_TIP_DAYS) {
            return Err(DomainError::out_of_range(
                "deadline",
                format!("must be between the day received and {MAX_TIP_DAYS} days after it"),
            ));
        }
        Ok(Self {
            channel: input.channel,
            received_at: input.received_at,
            content,
            unit,
            establishment_id: input.establishment_id,
            reporter_contact,
            deadline,
        })
    }

    pub fn channel(&self) -> TipChannel {
        self.channel
    }
    pub fn received_at(&self) -> DateTime<Utc> {
        self.received_at
    }
    pub fn content(&self) -> &str {
        &self.content
    }
    pub fn unit(&self) -> &UnitId {
        &self.unit
    }
    pub fn establishment_id(&self) -> Option<Uuid> {
        self.establishment_id
    }
    pub fn reporter_contact(&self) -> Option<&str> {
        self.reporter_contact.as_deref()
    }
    pub fn deadline(&self) -> NaiveDate {
        self.deadline
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-20T10:00:00Z".parse().unwrap()
    }

    fn input() -> TipInput {
        TipInput {
            channel: TipChannel::Hotline,
            received_at: "2026-11-19T20:00:00Z".parse().unwrap(),
            content: "Nghi có hoạt động mại dâm tại karaoke X".into(),
            unit: "2025:19753".into(),
            establishment_id: None,
            reporter_contact: Some("  ".into()),
            deadline: None,
        }
    }

    #[test]
    fn enums_are_consistent() {
        test_domain_enum!(TipChannel);
        test_domain_enum!(TipStatus);
    }

    #[test]
    fn default_deadline_counts_from_the_vietnamese_day() {
        // 20:00 UTC on the 19th is 03:00 on the 20th in Vietnam.
        let t = TipDraft::parse(input(), now()).unwrap();
        assert_eq!(t.deadline(), "2026-12-10".parse::<NaiveDate>().unwrap());
        assert_eq!(t.reporter_contact(), None);
        assert_eq!(t.unit().to_string(), "2025:19753");
    }

    #[test]
    fn rules() {
        let field = |i: TipInput| TipDraft::parse(i, now()).unwrap_err().field;
        assert_eq!(
            field(TipInput {
                content: " ".into(),
                ..input()
            }),
            "content"
        );
        assert_eq!(
            field(TipInput {
                unit: "46".into(),
                ..input()
            }),
            "unit"
        );
        assert_eq!(
            field(TipInput {
                received_at: "2026-11-21T00:00:00Z".parse().unwrap(),
                ..input()
            }),
            "received_at"
        );
        assert_eq!(
            field(TipInput {
                deadline: Some("2026-11-01".parse().unwrap()),
                ..input()
            }),
            "deadline"
        );
        assert_eq!(
            field(TipInput {
                deadline: Some("2027-11-01".parse().unwrap()),
                ..input()
            }),
            "deadline"
        );
    }

    #[test]
    fn life_cycle_moves_one_step() {
        use TipStatus::*;
        assert_eq!(Received.transition(Verifying).unwrap(), Verifying);
        assert_eq!(Verifying.transition(Classified).unwrap(), Classified);
        assert_eq!(Classified.transition(Handled).unwrap(), Handled);
        assert_eq!(
            Received.transition(Handled).unwrap_err().code,
            "invalid_transition"
        );
        assert!(Handled.transition(Received).is_err());
    }
}
