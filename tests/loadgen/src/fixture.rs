//! The phones' people: commune teams of inspectors added to the demo data before the server
//! starts, one team per commune that has establishments, `team_size` inspectors each, with the
//! demo password. Realistic team sizes matter: a phone pulls its own team's changes, so 500 phones
//! on the demo's five teams would each download the others' visits.

use chrono::Utc;
use diesel::dsl::count_star;
use diesel::prelude::*;
use doi178_server::db::schema::{establishments, team_members, teams, users};
use doi178_server::db::{AnyConnection, Db};

/// Creates `users` inspector accounts `load.pNNNN` in teams of `team_size`; returns the usernames.
pub fn add_phone_users(
    database_url: &str,
    users_n: usize,
    team_size: usize,
) -> anyhow::Result<Vec<String>> {
    let db = Db::open(database_url, 2)?;
    let team_size = team_size.max(1);
    db.write(|c: &mut AnyConnection| -> anyhow::Result<Vec<String>> {
        let hash: String = users::table
            .filter(users::username.eq("kiemtra.hue"))
            .select(users::password_hash)
            .first(c)?;
        // Communes with the most establishments first.
        let mut units: Vec<(String, i64)> = establishments::table
            .group_by(establishments::unit_id)
            .select((establishments::unit_id, count_star()))
            .load(c)?;
        units.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        anyhow::ensure!(!units.is_empty(), "the demo data has no establishments");
        let now = Utc::now().naive_utc();
        let mut names = Vec::with_capacity(users_n);
        let mut team_id = String::new();
        for i in 0..users_n {
            let unit = &units[(i / team_size) % units.len()].0;
            if i % team_size == 0 {
                team_id = uuid::Uuid::new_v4().to_string();
                diesel::insert_into(teams::table)
                    .values((
                        teams::id.eq(&team_id),
                        teams::name.eq(format!("Đội 178 tải thử {}", i / team_size + 1)),
                        teams::level.eq("commune"),
                        teams::unit_id.eq(unit),
                        teams::created_at.eq(now),
                        teams::updated_at.eq(now),
                    ))
                    .execute(c)?;
            }
            let user_id = uuid::Uuid::new_v4().to_string();
            let username = format!("load.p{i:04}");
            diesel::insert_into(users::table)
                .values((
                    users::id.eq(&user_id),
                    users::username.eq(&username),
                    users::display_name.eq(format!("Điện thoại tải thử {i}")),
                    users::password_hash.eq(&hash),
                    users::role.eq("inspector"),
                    users::unit_id.eq(Some(unit)),
                    users::active.eq(true),
                    users::created_at.eq(now),
                    users::updated_at.eq(now),
                ))
                .execute(c)?;
            diesel::insert_into(team_members::table)
                .values((
                    team_members::team_id.eq(&team_id),
                    team_members::user_id.eq(&user_id),
                    team_members::role.eq("member"),
                ))
                .execute(c)?;
            names.push(username);
        }
        Ok(names)
    })
}
