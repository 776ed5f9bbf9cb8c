//! Establishments (cơ sở kinh doanh dịch vụ): scoped list with filters and keyset pagination,
//! diacritic-insensitive search, create and update.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use doi178_shared::establishment::{
    EstablishmentDraft, EstablishmentStatus, EstablishmentType, RiskLevel,
};
use uuid::Uuid;

use super::schema::{admin_units, establishments};
use super::units::escape_like;
use super::AnyConnection;
use crate::actor::Actor;
use crate::db::audit_chain::{self as audit, Kind, Who};

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize,
)]
#[diesel(table_name = establishments)]
#[diesel(treat_none_as_null = true)]
pub struct EstablishmentRow {
    pub id: String,
    pub name: String,
    pub establishment_type: EstablishmentType,
    pub unit_id: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub business_reg_no: Option<String>,
    pub licence_no: Option<String>,
    pub licence_issued_on: Option<NaiveDate>,
    pub licence_expires_on: Option<NaiveDate>,
    pub antt_cert_no: Option<String>,
    pub owner_name: Option<String>,
    pub phone: Option<String>,
    pub status: EstablishmentStatus,
    pub opened_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub risk: RiskLevel,
    pub commitment_signed: bool,
    pub commitment_signed_on: Option<NaiveDate>,
    pub search_key: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub seq: i64,
}

impl EstablishmentRow {
    /// The row for a validated draft. `id`, `created_at` and `seq` come from the caller (a new
    /// record, or the one being replaced); the search key is the draft's.
    pub fn from_draft(
        draft: &EstablishmentDraft,
        id: String,
        created_at: NaiveDateTime,
        updated_at: NaiveDateTime,
        seq: i64,
    ) -> EstablishmentRow {
        let licence = draft.licence();
        EstablishmentRow {
            id,
            name: draft.name().to_string(),
            establishment_type: draft.establishment_type(),
            unit_id: draft.unit().to_string(),
            address: draft.address().to_string(),
            lat: draft.location().map(|p| p.lat()),
            lon: draft.location().map(|p| p.lon()),
            business_reg_no: licence.business_reg_no().map(str::to_string),
            licence_no: licence.licence_no().map(str::to_string),
            licence_issued_on: licence.licence_issued_on(),
            licence_expires_on: licence.licence_expires_on(),
            antt_cert_no: licence.antt_cert_no().map(str::to_string),
            owner_name: draft.owner_name().map(str::to_string),
            phone: draft.phone().map(|p| p.as_str().to_string()),
            status: draft.status(),
            opened_on: draft.opened_on(),
            closed_on: draft.closed_on(),
            risk: draft.risk(),
            commitment_signed: draft.commitment_signed(),
            commitment_signed_on: draft.commitment_signed_on(),
            search_key: draft.search_key(),
            created_at,
            updated_at,
            seq,
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Restrict to this unit's subtree (already checked to be in scope).
    pub unit_ids: Option<Vec<String>>,
    pub establishment_type: Option<EstablishmentType>,
    pub status: Option<EstablishmentStatus>,
    pub q: Option<String>,
    /// Keyset position: (name, id) of the last item of the previous page.
    pub after: Option<(String, String)>,
    pub limit: i64,
}

pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    filter: &Filter,
) -> QueryResult<Vec<EstablishmentRow>> {
    let mut query = establishments::table
        .select(EstablishmentRow::as_select())
        .order((establishments::name.asc(), establishments::id.asc()))
        .limit(filter.limit)
        .into_boxed();
    if let Some(units) = actor.unit_ids() {
        query = query.filter(establishments::unit_id.eq_any(units));
    }
    if let Some(units) = &filter.unit_ids {
        query = query.filter(establishments::unit_id.eq_any(units.clone()));
    }
    if let Some(t) = &filter.establishment_type {
        query = query.filter(establishments::establishment_type.eq(*t));
    }
    if let Some(s) = &filter.status {
        query = query.filter(establishments::status.eq(*s));
    }
    if let Some(q) = &filter.q {
        for word in doi178_shared::text::fold(q).split_whitespace() {
            query = query.filter(
                establishments::search_key
                    .like(format!("%{}%", escape_like(word)))
                    .escape('\\'),
            );
        }
    }
    if let Some((name, id)) = &filter.after {
        query = query.filter(
            establishments::name
                .gt(name.clone())
                .or(establishments::name
                    .eq(name.clone())
                    .and(establishments::id.gt(id.clone()))),
        );
    }
    query.load(conn)
}

pub fn get(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: Uuid,
) -> QueryResult<Option<EstablishmentRow>> {
    let row = get_unscoped(conn, &id.to_string())?;
    Ok(row.filter(|r| actor.sees_unit(&r.unit_id)))
}

pub fn get_unscoped(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<EstablishmentRow>> {
    crate::on_conn!(conn, |c| {
        establishments::table
            .filter(establishments::id.eq(id))
            .select(EstablishmentRow::as_select())
            .first(c)
            .optional()
    })
}

pub fn insert(conn: &mut AnyConnection, who: &Who, row: &EstablishmentRow) -> QueryResult<()> {
    let change = audit::begin_create(conn, Kind::Establishment, &row.id)?;
    diesel::insert_into(establishments::table)
        .values(row)
        .execute(conn)?;
    change.commit(conn, who)?;
    Ok(())
}

/// Inserts many (imports), with one audit entry per establishment.
pub fn insert_many(
    conn: &mut AnyConnection,
    who: &Who,
    rows: &[EstablishmentRow],
) -> QueryResult<()> {
    crate::db::audit::lock_chain(conn)?;
    for chunk in rows.chunks(200) {
        crate::insert_rows!(conn, establishments::table, chunk)?;
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    audit::created_many(conn, who, Kind::Establishment, &ids)
}

pub fn update(conn: &mut AnyConnection, who: &Who, row: &EstablishmentRow) -> QueryResult<()> {
    let change = audit::begin(conn, Kind::Establishment, &row.id)?;
    diesel::update(establishments::table.filter(establishments::id.eq(&row.id)))
        .set(row)
        .execute(conn)?;
    change.commit(conn, who)?;
    Ok(())
}

/// Establishments in the actor's jurisdiction changed after `seq` (for phone sync).
pub fn changed_since(
    conn: &mut AnyConnection,
    actor: &Actor,
    after: i64,
    up_to: i64,
    limit: i64,
) -> QueryResult<Vec<EstablishmentRow>> {
    let mut query = establishments::table
        .select(EstablishmentRow::as_select())
        .filter(establishments::seq.gt(after))
        .filter(establishments::seq.le(up_to))
        .order(establishments::seq.asc())
        .limit(limit)
        .into_boxed();
    if let Some(units) = actor.unit_ids() {
        query = query.filter(establishments::unit_id.eq_any(units));
    }
    query.load(conn)
}

/// Establishments with the same licence number, or whose folded name and unit match: likely
/// duplicates when importing.
pub fn find_duplicates(
    conn: &mut AnyConnection,
    licence_no: Option<&str>,
    unit_id: &str,
    search_name: &str,
) -> QueryResult<Vec<EstablishmentRow>> {
    let mut out: Vec<EstablishmentRow> = Vec::new();
    if let Some(licence) = licence_no.filter(|l| !l.is_empty()) {
        out = establishments::table
            .filter(establishments::licence_no.eq(licence))
            .select(EstablishmentRow::as_select())
            .load(conn)?;
    }
    let same_name: Vec<EstablishmentRow> = establishments::table
        .filter(establishments::unit_id.eq(unit_id))
        .filter(
            establishments::search_key
                .like(format!("{}%", escape_like(search_name)))
                .escape('\\'),
        )
        .select(EstablishmentRow::as_select())
        .limit(5)
        .load(conn)?;
    for row in same_name {
        if !out.iter().any(|r| r.id == row.id) {
            out.push(row);
        }
    }
    Ok(out)
}

pub fn count(conn: &mut AnyConnection) -> QueryResult<i64> {
    establishments::table.count().get_result(conn)
}

/// The unit path of an establishment's unit (for coverage and scoping).
pub fn unit_of(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<(String, String)>> {
    establishments::table
        .inner_join(admin_units::table)
        .filter(establishments::id.eq(id))
        .select((admin_units::id, admin_units::path))
        .first(conn)
        .optional()
}
