//! Tips and complaints (tố giác, tin báo), scoped by the unit they concern.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use doi178_shared::tip::{TipChannel, TipStatus};
use uuid::Uuid;

use super::schema::tips;
use super::AnyConnection;
use crate::actor::Actor;
use crate::db::audit_chain::{self as audit, Kind, Who};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize)]
#[diesel(table_name = tips)]
#[diesel(treat_none_as_null = true)]
pub struct TipRow {
    pub id: String,
    pub channel: TipChannel,
    pub received_at: NaiveDateTime,
    pub content: String,
    pub unit_id: String,
    pub establishment_id: Option<String>,
    pub reporter_contact: Option<String>,
    pub deadline: NaiveDate,
    pub status: TipStatus,
    pub handled_at: Option<NaiveDateTime>,
    pub assignment_id: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Which tips to list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Only tips in this status.
    pub status: Option<TipStatus>,
    /// Only tips not yet handled.
    pub open: bool,
    /// Only tips not handled whose deadline is before this day (overdue on it).
    pub overdue_on: Option<NaiveDate>,
    /// Start after this tip (its receipt time and id), for the next page.
    pub before: Option<(NaiveDateTime, String)>,
    /// At most this many; `None` for all of them.
    pub limit: Option<i64>,
}

/// Narrows `$query` over tips to `$actor`'s jurisdiction and `$filter`.
macro_rules! narrowed {
    ($query:expr, $actor:expr, $filter:expr) => {{
        let mut query = $query;
        if let Some(units) = $actor.unit_ids() {
            query = query.filter(tips::unit_id.eq_any(units));
        }
        if let Some(s) = &$filter.status {
            query = query.filter(tips::status.eq(*s));
        }
        if $filter.open {
            query = query.filter(tips::status.ne(TipStatus::Handled));
        }
        if let Some(day) = $filter.overdue_on {
            query = query
                .filter(tips::handled_at.is_null())
                .filter(tips::deadline.lt(day));
        }
        query
    }};
}

/// Tips are for staff and team leaders; inspectors learn of them only through assignments.
/// Newest first (then by id).
pub fn list(conn: &mut AnyConnection, actor: &Actor, filter: &Filter) -> QueryResult<Vec<TipRow>> {
    if actor.role == doi178_shared::Role::Inspector {
        return Ok(Vec::new());
    }
    let mut query = narrowed!(
        tips::table
            .select(TipRow::as_select())
            .order((tips::received_at.desc(), tips::id.asc()))
            .into_boxed(),
        actor,
        filter
    );
    if let Some((at, id)) = filter.before.clone() {
        query = query.filter(
            tips::received_at
                .lt(at)
                .or(tips::received_at.eq(at).and(tips::id.gt(id))),
        );
    }
    if let Some(limit) = filter.limit {
        query = query.limit(limit.max(1));
    }
    query.load(conn)
}

/// How many tips of `filter` (its `before` and `limit` aside) `actor` may see.
pub fn count(conn: &mut AnyConnection, actor: &Actor, filter: &Filter) -> QueryResult<i64> {
    if actor.role == doi178_shared::Role::Inspector {
        return Ok(0);
    }
    narrowed!(tips::table.count().into_boxed(), actor, filter).get_result(conn)
}

pub fn get(conn: &mut AnyConnection, actor: &Actor, id: Uuid) -> QueryResult<Option<TipRow>> {
    if actor.role == doi178_shared::Role::Inspector {
        return Ok(None);
    }
    let row: Option<TipRow> = tips::table
        .filter(tips::id.eq(id.to_string()))
        .select(TipRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.filter(|t| actor.sees_unit(&t.unit_id)))
}

/// The ids of every tip linked to an establishment, newest first, *unscoped*: read each through
/// [`get`] to apply the caller's visibility.
pub fn ids_of_establishment(
    conn: &mut AnyConnection,
    establishment_id: &str,
) -> QueryResult<Vec<String>> {
    tips::table
        .filter(tips::establishment_id.eq(establishment_id))
        .order(tips::received_at.desc())
        .select(tips::id)
        .load(conn)
}

pub fn insert(conn: &mut AnyConnection, who: &Who, row: &TipRow) -> QueryResult<()> {
    let change = audit::begin_create(conn, Kind::Tip, &row.id)?;
    diesel::insert_into(tips::table).values(row).execute(conn)?;
    change.commit(conn, who)?;
    Ok(())
}

pub fn update(conn: &mut AnyConnection, who: &Who, row: &TipRow) -> QueryResult<()> {
    let change = audit::begin(conn, Kind::Tip, &row.id)?;
    diesel::update(tips::table.filter(tips::id.eq(&row.id)))
        .set(row)
        .execute(conn)?;
    change.commit(conn, who)?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use diesel::sql_types::Text;
    use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
    use doi178_shared::tip::TipStatus;

    #[derive(QueryableByName)]
    struct One {
        #[diesel(sql_type = Text)]
        s: TipStatus,
    }

    #[test]
    fn a_domain_enum_is_a_text_column_of_its_wire_code() {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        let read: Vec<One> = diesel::sql_query("SELECT ? AS s")
            .bind::<Text, _>(TipStatus::Classified)
            .load(&mut c)
            .unwrap();
        assert_eq!(read[0].s, TipStatus::Classified);
        let text: Vec<TextRow> = diesel::sql_query("SELECT ? AS s")
            .bind::<Text, _>(TipStatus::Verifying)
            .load(&mut c)
            .unwrap();
        assert_eq!(text[0].s, "verifying");
        let unknown = diesel::sql_query("SELECT 'shredded' AS s").load::<One>(&mut c);
        let err = unknown.err().unwrap().to_string();
        assert!(err.contains("shredded"), "{err}");
    }

    #[derive(QueryableByName)]
    struct TextRow {
        #[diesel(sql_type = Text)]
        s: String,
    }
}
