//! Administrative units (đơn vị hành chính): the tree, subtree look-ups by materialized path, and
//! lineage from old codes to current ones.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use diesel::prelude::*;
use doi178_shared::unit::{LineageKind, UnitKind, UnitLevel};
use serde::Serialize;

use super::schema::{admin_units, unit_lineage};
use super::AnyConnection;
use crate::actor::Actor;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = admin_units)]
pub struct UnitRow {
    /// `<code-list version>:<code>`, e.g. `2025:46` (Huế) or `2025:19753` (Phường Phú Xuân).
    pub id: String,
    pub code: String,
    pub code_version: String,
    pub name: String,
    pub full_name: String,
    pub name_en: String,
    pub level: UnitLevel,
    pub kind: UnitKind,
    pub parent_id: Option<String>,
    #[serde(skip)]
    pub path: String,
    #[serde(skip)]
    pub search_key: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub area_km2: Option<f64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = unit_lineage)]
pub struct LineageRow {
    pub from_unit: String,
    pub to_unit: String,
    pub kind: LineageKind,
    pub effective: NaiveDate,
}

/// Ids of the units under (and including) each root.
pub fn subtree_ids(conn: &mut AnyConnection, roots: &[String]) -> QueryResult<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for root in roots {
        let root = &canonical_id(conn, root)?;
        let path: Option<String> = admin_units::table
            .filter(admin_units::id.eq(root))
            .select(admin_units::path)
            .first(conn)
            .optional()?;
        if let Some(path) = path {
            let under = admin_units::table
                .filter(admin_units::path.like(format!("{path}%")))
                .select(admin_units::id);
            // SQLite's LIKE is case-insensitive and cannot use the index on `path`, so every
            // call (one per API request, for the caller's jurisdiction) scanned the whole tree;
            // the same prefix as a range of the binary-ordered index reads only the subtree.
            // (PostgreSQL keeps the plain LIKE: its collation need not be byte order.)
            let ids: Vec<String> = if matches!(conn, AnyConnection::Sqlite(_)) {
                under
                    .filter(admin_units::path.ge(&path))
                    .filter(admin_units::path.lt(format!("{path}\u{10FFFF}")))
                    .load(conn)?
            } else {
                under.load(conn)?
            };
            out.extend(ids);
        }
    }
    Ok(out)
}

/// The unit `id` (or a bare official code: see [`canonical_id`]) when the actor may see it.
pub fn get(conn: &mut AnyConnection, actor: &Actor, id: &str) -> QueryResult<Option<UnitRow>> {
    let id = &canonical_id(conn, id)?;
    if !actor.sees_unit(id) {
        return Ok(None);
    }
    admin_units::table
        .filter(admin_units::id.eq(id))
        .select(UnitRow::as_select())
        .first(conn)
        .optional()
}

/// Children of `parent` (or the actor's top-most units of the list in force when `parent` is
/// `None`), in scope. A former unit's children are former units too.
pub fn children(
    conn: &mut AnyConnection,
    actor: &Actor,
    parent: Option<&str>,
) -> QueryResult<Vec<UnitRow>> {
    let mut query = admin_units::table
        .select(UnitRow::as_select())
        .order((admin_units::level.asc(), admin_units::name.asc()))
        .into_boxed();
    if let Some(ids) = actor.unit_ids() {
        query = query.filter(admin_units::id.eq_any(ids));
    }
    let rows: Vec<UnitRow> = match parent {
        Some(p) => {
            let p = canonical_id(conn, p)?;
            query.filter(admin_units::parent_id.eq(p)).load(conn)?
        }
        None => {
            let rows = query.filter(admin_units::valid_to.is_null()).load(conn)?;
            // Roots of the visible forest: units whose parent the actor cannot see.
            rows.iter()
                .filter(|u| u.parent_id.as_deref().is_none_or(|p| !actor.sees_unit(p)))
                .cloned()
                .collect()
        }
    };
    Ok(rows)
}

/// Search by name among the units in force, ignoring case and diacritics.
pub fn search(
    conn: &mut AnyConnection,
    actor: &Actor,
    q: &str,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<UnitRow>> {
    let key = doi178_shared::text::fold(q);
    let mut query = admin_units::table
        .select(UnitRow::as_select())
        .filter(
            admin_units::search_key
                .like(format!("%{}%", escape_like(&key)))
                .escape('\\'),
        )
        .order((
            admin_units::level.asc(),
            admin_units::name.asc(),
            admin_units::id.asc(),
        ))
        .filter(admin_units::valid_to.is_null())
        .offset(offset)
        .limit(limit)
        .into_boxed();
    if let Some(ids) = actor.unit_ids() {
        query = query.filter(admin_units::id.eq_any(ids));
    }
    query.load(conn)
}

/// The id a unit is given by: `version:code` as it is, a bare official code (`46`) as that code
/// in the list in force (`2025:46`). A bare code no unit in force has is returned unchanged, so
/// the caller's "not found" names what the user typed.
pub fn canonical_id(conn: &mut AnyConnection, given: &str) -> QueryResult<String> {
    let given = given.trim();
    if given.contains(':') || given.is_empty() || !given.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(given.to_string());
    }
    let found: Option<String> = admin_units::table
        .filter(admin_units::code.eq(given))
        .filter(admin_units::valid_to.is_null())
        .select(admin_units::id)
        .first(conn)
        .optional()?;
    Ok(found.unwrap_or_else(|| given.to_string()))
}

/// Resolves a code as users type it: a current code, or an old code mapped through lineage.
pub fn resolve_code(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<UnitRow>> {
    let code = code.trim();
    let unit: Option<UnitRow> = if code.contains(':') {
        admin_units::table
            .filter(admin_units::id.eq(code))
            .select(UnitRow::as_select())
            .first(conn)
            .optional()?
    } else {
        admin_units::table
            .filter(admin_units::code.eq(code))
            .filter(admin_units::valid_to.is_null())
            .select(UnitRow::as_select())
            .first(conn)
            .optional()?
    };
    match unit {
        Some(u) if u.valid_to.is_some() => {
            // An old unit: follow lineage to the unit that holds its territory now.
            let target: Option<String> = unit_lineage::table
                .filter(unit_lineage::from_unit.eq(&u.id))
                .filter(unit_lineage::kind.eq(LineageKind::MergedInto))
                .select(unit_lineage::to_unit)
                .first(conn)
                .optional()?;
            match target {
                Some(t) => resolve_code(conn, &t),
                None => Ok(Some(u)),
            }
        }
        other => Ok(other),
    }
}

pub fn insert_all(conn: &mut AnyConnection, rows: &[UnitRow]) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in rows.chunks(500) {
        n += crate::insert_rows!(conn, admin_units::table, chunk)?;
    }
    Ok(n)
}

pub fn count(conn: &mut AnyConnection) -> QueryResult<i64> {
    admin_units::table.count().get_result(conn)
}

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
/// Whether `unit` is `ancestor` or lies under it (follows the parents; at most a few steps).
pub fn is_within(conn: &mut AnyConnection, unit: &str, ancestor: &str) -> QueryResult<bool> {
    let mut at = Some(unit.to_string());
    for _ in 0..8 {
        match at {
            None => return Ok(false),
            Some(u) if u == ancestor => return Ok(true),
            Some(u) => {
                at = admin_units::table
                    .filter(admin_units::id.eq(u))
                    .select(admin_units::parent_id)
                    .first::<Option<String>>(conn)
                    .optional()?
                    .flatten();
            }
        }
    }
    Ok(false)
}

pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
