//! Teams (Đội kiểm tra liên ngành): a name, the level they work at and the unit whose subtree is
//! their jurisdiction. A province team sits on a province, a commune team on a commune.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{DomainError, DomainResult};
use crate::role::{MemberRole, TeamLevel};
use crate::text::clean_line;
use crate::unit::{UnitId, UnitLevel};

/// A team as staff submit it. Unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamInput {
    pub name: String,
    pub level: TeamLevel,
    /// `"2025:46"` for a province team, `"2025:19753"` for a commune team.
    pub unit_id: String,
}

/// A validated team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamDraft {
    name: String,
    level: TeamLevel,
    unit: UnitId,
}

impl TeamDraft {
    /// Rules: name required (≤ 120); the unit's level matches the team's level.
    pub fn parse(input: TeamInput) -> DomainResult<Self> {
        let name = clean_line("name", &input.name, 120)?;
        let unit = UnitId::parse(&input.unit_id).map_err(|e| e.with_field("unit_id"))?;
        let expected = match input.level {
            TeamLevel::Province => UnitLevel::Province,
            TeamLevel::Commune => UnitLevel::Commune,
        };
        if unit.level_hint() != expected {
            return Err(DomainError::inconsistent(
                "unit_id",
                format!(
                    "a {} team works on a {}-level unit",
                    input.level,
                    expected.as_str()
                ),
            ));
        }
        Ok(Self {
            name,
            level: input.level,
            unit,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn level(&self) -> TeamLevel {
        self.level
    }
    pub fn unit(&self) -> &UnitId {
        &self.unit
    }
}

/// A member of a team with their role in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    pub user_id: Uuid,
    pub role: MemberRole,
}

/// At least this many members take part in an inspection (Circular 05/2006/TT-BLĐTBXH).
pub const MIN_MEMBERS_AT_INSPECTION: usize = 3;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn team_level_matches_unit_level() {
        let ok = TeamDraft::parse(TeamInput {
            name: " Đội 178 tỉnh Huế ".into(),
            level: TeamLevel::Province,
            unit_id: "2025:46".into(),
        })
        .unwrap();
        assert_eq!(ok.name(), "Đội 178 tỉnh Huế");
        assert_eq!(ok.unit().to_string(), "2025:46");
        let e = TeamDraft::parse(TeamInput {
            name: "x".into(),
            level: TeamLevel::Commune,
            unit_id: "2025:46".into(),
        })
        .unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("unit_id", "inconsistent")
        );
        let e = TeamDraft::parse(TeamInput {
            name: "x".into(),
            level: TeamLevel::Commune,
            unit_id: "19753".into(),
        })
        .unwrap_err();
        assert_eq!(e.field, "unit_id");
        let e = TeamDraft::parse(TeamInput {
            name: "".into(),
            level: TeamLevel::Commune,
            unit_id: "2025:19753".into(),
        })
        .unwrap_err();
        assert_eq!(e.field, "name");
    }
}
