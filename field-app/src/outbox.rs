//! The outbox state machine. A visit becomes an outbox item when submitted; every transition is
//! written to the store in the same transaction as the fact that caused it (an acknowledged visit
//! and a completed photo are never sent again).
//!
//! ```text
//! draft ──submit──▶ queued ──start──▶ sending ──ack, no photos──▶ done
//!                     ▲                 │  └──ack, photos to send──▶ evidence_pending ──photos done──▶ done
//!                     └──transient──────┤
//!                                       ├──409──▶ conflict   (another body under this id)
//!                                       └──4xx──▶ failed     (refused; reason kept)
//! ```
//! `sending` found at start-up (the app was killed mid-request) counts as `queued`: the PUT is
//! idempotent, so sending again is safe. The server's answer (201 created, 200 replayed) and the
//! time of acknowledgement are kept with the item ("sent/acknowledged").

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitStatus {
    /// Being recorded; not in the outbox yet.
    Draft,
    /// Submitted, waiting to be sent.
    Queued,
    /// A request is (or was, when the app died) in flight.
    Sending,
    /// The server has the visit; some of its photos are still to be uploaded (the server shows
    /// `evidence_pending: true` for it meanwhile).
    EvidencePending,
    /// The server has the visit and every photo.
    Done,
    /// The server holds a different visit under this id (409).
    Conflict,
    /// The server refused the visit (reason kept).
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VisitEvent {
    Submit,
    StartSending,
    /// A network failure or a 5xx after the bounded retries: try again on the next sync.
    Transient,
    /// 201 or 200: the server stored the visit.
    Acknowledged {
        photos_left: bool,
    },
    /// Every photo of the visit is stored on the server.
    PhotosComplete,
    Conflict,
    Rejected,
}

impl VisitStatus {
    pub const ALL: [VisitStatus; 7] = [
        Self::Draft,
        Self::Queued,
        Self::Sending,
        Self::EvidencePending,
        Self::Done,
        Self::Conflict,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::EvidencePending => "evidence_pending",
            Self::Done => "done",
            Self::Conflict => "conflict",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The next state, or `None` when the event cannot happen in this state.
    pub fn next(self, event: VisitEvent) -> Option<Self> {
        use VisitEvent as E;
        use VisitStatus as S;
        Some(match (self, event) {
            (S::Draft, E::Submit) => S::Queued,
            (S::Queued | S::Sending, E::StartSending) => S::Sending,
            (S::Sending, E::Transient) => S::Queued,
            (S::Sending, E::Acknowledged { photos_left: false }) => S::Done,
            (S::Sending, E::Acknowledged { photos_left: true }) => S::EvidencePending,
            (S::EvidencePending, E::PhotosComplete) => S::Done,
            (S::Sending, E::Conflict) => S::Conflict,
            (S::Sending, E::Rejected) => S::Failed,
            _ => return None,
        })
    }

    /// The visit itself still has to be PUT.
    pub fn needs_put(self) -> bool {
        matches!(self, Self::Queued | Self::Sending)
    }

    /// The sync engine still has work for this item.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Queued | Self::Sending | Self::EvidencePending)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoStatus {
    Queued,
    Sending,
    Done,
    Conflict,
    Failed,
}

impl PhotoStatus {
    pub const ALL: [PhotoStatus; 5] = [
        Self::Queued,
        Self::Sending,
        Self::Done,
        Self::Conflict,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Done => "done",
            Self::Conflict => "conflict",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn needs_put(self) -> bool {
        matches!(self, Self::Queued | Self::Sending)
    }
}

#[cfg(test)]
mod tests {
    use super::VisitEvent as E;
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in VisitStatus::ALL {
            assert_eq!(VisitStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::Value::String(s.as_str().into()))
            );
        }
        for s in PhotoStatus::ALL {
            assert_eq!(PhotoStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(VisitStatus::parse("sent"), None);
    }

    #[test]
    fn happy_paths() {
        let s = VisitStatus::Draft.next(E::Submit);
        assert_eq!(s, Some(VisitStatus::Queued));
        let s = VisitStatus::Queued.next(E::StartSending);
        assert_eq!(s, Some(VisitStatus::Sending));
        assert_eq!(
            VisitStatus::Sending.next(E::Acknowledged { photos_left: false }),
            Some(VisitStatus::Done)
        );
        assert_eq!(
            VisitStatus::Sending.next(E::Acknowledged { photos_left: true }),
            Some(VisitStatus::EvidencePending)
        );
        assert_eq!(
            VisitStatus::EvidencePending.next(E::PhotosComplete),
            Some(VisitStatus::Done)
        );
    }

    #[test]
    fn failures_and_restarts() {
        assert_eq!(
            VisitStatus::Sending.next(E::Transient),
            Some(VisitStatus::Queued)
        );
        assert_eq!(
            VisitStatus::Sending.next(E::Conflict),
            Some(VisitStatus::Conflict)
        );
        assert_eq!(
            VisitStatus::Sending.next(E::Rejected),
            Some(VisitStatus::Failed)
        );
        // Killed mid-request: `sending` may start sending again.
        assert_eq!(
            VisitStatus::Sending.next(E::StartSending),
            Some(VisitStatus::Sending)
        );
    }

    #[test]
    fn acknowledged_items_are_never_sent_again() {
        for s in [
            VisitStatus::EvidencePending,
            VisitStatus::Done,
            VisitStatus::Conflict,
            VisitStatus::Failed,
            VisitStatus::Draft,
        ] {
            assert_eq!(s.next(E::StartSending), None, "{s:?}");
            assert!(!s.needs_put(), "{s:?}");
        }
        // Nothing leaves done, and a draft cannot be acknowledged.
        for e in [
            E::Submit,
            E::StartSending,
            E::Transient,
            E::Acknowledged { photos_left: false },
            E::PhotosComplete,
            E::Conflict,
            E::Rejected,
        ] {
            assert_eq!(VisitStatus::Done.next(e), None, "{e:?}");
        }
        assert_eq!(
            VisitStatus::Draft.next(E::Acknowledged { photos_left: false }),
            None
        );
        assert_eq!(VisitStatus::Queued.next(E::Submit), None);
        assert!(VisitStatus::EvidencePending.is_pending());
        assert!(!VisitStatus::Done.is_pending());
        assert!(PhotoStatus::Sending.needs_put());
        assert!(!PhotoStatus::Done.needs_put());
    }
}
