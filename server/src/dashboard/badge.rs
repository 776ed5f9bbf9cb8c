//! The colour of a domain value's badge (`ok`, `warn`, `bad` or none): one place, so that a
//! status looks the same on every page.

use doi178_shared::establishment::{EstablishmentStatus, RiskLevel};
use doi178_shared::visit::{Outcome, ReviewStatus};

pub fn review(status: ReviewStatus) -> &'static str {
    match status {
        ReviewStatus::Accepted => "ok",
        ReviewStatus::CorrectionRequested => "warn",
        ReviewStatus::Rejected => "bad",
        ReviewStatus::Submitted => "",
    }
}

pub fn outcome(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::NoViolation => "ok",
        Outcome::ViolationsFound | Outcome::Refused => "bad",
        Outcome::NotOperating => "warn",
    }
}

pub fn establishment_status(status: EstablishmentStatus) -> &'static str {
    match status {
        EstablishmentStatus::Operating => "ok",
        EstablishmentStatus::Suspended => "warn",
        EstablishmentStatus::Closed => "",
    }
}

pub fn risk(risk: RiskLevel) -> &'static str {
    match risk {
        RiskLevel::High => "bad",
        RiskLevel::Medium => "warn",
        RiskLevel::Low => "ok",
    }
}
