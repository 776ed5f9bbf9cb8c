//! The `roster` table: the members of the user's teams, replaced whole by every pull page that
//! carries it.

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::schema::roster::dsl as x;
use crate::error::FieldResult;
use crate::types::RosterMember;
use doi178_shared::MemberRole;

#[derive(Queryable)]
struct RosterRow {
    team_id: String,
    user_id: String,
    username: String,
    display_name: String,
    role: MemberRole,
    agency_id: Option<String>,
    agency_name: Option<String>,
}

impl From<RosterRow> for RosterMember {
    fn from(r: RosterRow) -> Self {
        RosterMember {
            team_id: r.team_id,
            user_id: r.user_id,
            username: r.username,
            display_name: r.display_name,
            role: r.role,
            agency_id: r.agency_id,
            agency_name: r.agency_name,
        }
    }
}

/// Replaces the whole roster with `members`.
pub(crate) fn replace_all(c: &mut SqliteConnection, members: &[RosterMember]) -> FieldResult<()> {
    clear(c)?;
    for m in members {
        diesel::replace_into(x::roster)
            .values((
                x::team_id.eq(&m.team_id),
                x::user_id.eq(&m.user_id),
                x::username.eq(&m.username),
                x::display_name.eq(&m.display_name),
                x::role.eq(&m.role),
                x::agency_id.eq(&m.agency_id),
                x::agency_name.eq(&m.agency_name),
            ))
            .execute(c)?;
    }
    Ok(())
}

pub(crate) fn clear(c: &mut SqliteConnection) -> FieldResult<()> {
    diesel::delete(x::roster).execute(c)?;
    Ok(())
}

/// The members of `teams`, by team.
pub(crate) fn of_teams(
    c: &mut SqliteConnection,
    teams: &[String],
) -> FieldResult<Vec<RosterMember>> {
    let rows: Vec<RosterRow> = x::roster
        .filter(x::team_id.eq_any(teams))
        .order(x::team_id)
        .load(c)?;
    Ok(rows.into_iter().map(RosterMember::from).collect())
}

/// The user ids of the members of `team`.
pub(crate) fn user_ids_of(c: &mut SqliteConnection, team: &str) -> FieldResult<Vec<String>> {
    Ok(x::roster
        .filter(x::team_id.eq(team))
        .select(x::user_id)
        .load::<String>(c)?)
}
