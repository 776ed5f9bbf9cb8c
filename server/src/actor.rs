//! Who is asking, and what they may see: the authenticated user with role, teams and jurisdiction
//! (the set of administrative units in their subtree). Every query in `db` takes an `Actor` and
//! filters by it; handlers never write their own filters. Loading one is `auth::actor`'s job.

use std::collections::BTreeSet;
use std::sync::Arc;

use doi178_shared::{MemberRole, Role};
use uuid::Uuid;

use crate::error::ApiError;

#[derive(Debug, Clone)]
pub struct Membership {
    pub team_id: Uuid,
    pub role: MemberRole,
    pub unit_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Jurisdiction {
    /// The whole country (administrators).
    All,
    /// These administrative units and nothing else.
    Units(Arc<BTreeSet<String>>),
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: Option<String>,
    pub teams: Vec<Membership>,
    pub jurisdiction: Jurisdiction,
    /// The units of each team's own area (its unit's subtree), by team.
    pub team_units: Vec<(Uuid, Arc<BTreeSet<String>>)>,
    pub session: Uuid,
    /// Signed in with a temporary password: only changing it (and signing out) is open.
    pub must_change_password: bool,
}

impl Actor {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Unit ids the actor may see, or `None` for "all".
    pub fn unit_ids(&self) -> Option<Vec<String>> {
        match &self.jurisdiction {
            Jurisdiction::All => None,
            Jurisdiction::Units(set) => Some(set.iter().cloned().collect()),
        }
    }

    pub fn sees_unit(&self, unit_id: &str) -> bool {
        match &self.jurisdiction {
            Jurisdiction::All => true,
            Jurisdiction::Units(set) => set.contains(unit_id),
        }
    }

    pub fn team_ids(&self) -> Vec<String> {
        self.teams.iter().map(|m| m.team_id.to_string()).collect()
    }

    pub fn member_of(&self, team: Uuid) -> bool {
        self.teams.iter().any(|m| m.team_id == team)
    }

    /// The units of `team`'s area, when the actor is a member of it.
    pub fn team_units(&self, team: Uuid) -> Option<&BTreeSet<String>> {
        self.team_units
            .iter()
            .find(|(t, _)| *t == team)
            .map(|(_, units)| units.as_ref())
    }

    /// Leader or deputy of `team`: the "leader's chain" that may see its drafts.
    pub fn leads(&self, team: Uuid) -> bool {
        self.role == Role::TeamLeader
            && self
                .teams
                .iter()
                .any(|m| m.team_id == team && m.role.is_leadership())
    }

    /// Teams whose drafts and unreleased work this actor may see.
    pub fn led_team_ids(&self) -> Vec<String> {
        if self.role != Role::TeamLeader {
            return Vec::new();
        }
        self.teams
            .iter()
            .filter(|m| m.role.is_leadership())
            .map(|m| m.team_id.to_string())
            .collect()
    }

    /// Provincial staff and administrators manage reference data in their jurisdiction.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Admin | Role::ProvincialStaff)
    }

    pub fn require(&self, allowed: &[Role], action: &str) -> Result<(), ApiError> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "your role ({}) may not {action}",
                self.role.as_str()
            )))
        }
    }
}
