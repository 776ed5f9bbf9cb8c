//! A later official change of the administrative units (a resolution merging or renaming units):
//! a new code list loaded from a file (`doi178-server units load`), its lineage
//! (`units import-lineage`), and the records that follow it: establishments, tips, teams and
//! accounts in a unit no longer in force move to its successor (the coverage, counted per
//! establishment's unit, follows them), each move audited.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use doi178_shared::text::{fold, unaccent};
use doi178_shared::unit::{LineageKind, UnitKind, UnitLevel};
use serde::Deserialize;

use super::lineage::RowError;
use super::units::unit_id;
use crate::db::audit_chain::{self, Kind, Who};
use crate::db::schema::{admin_units, establishments, teams, tips, unit_lineage, users};
use crate::db::units::UnitRow;
use crate::db::AnyConnection;

#[derive(Debug, Deserialize)]
struct ListRecord {
    code: Option<String>,
    full_name: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    name_en: Option<String>,
    #[serde(default)]
    unit_type: Option<String>,
    #[serde(default)]
    parent_code: Option<String>,
}

/// Reads a list of units (CSV: `code`, `full_name`, optionally `name`, `name_en`, `unit_type`,
/// and `parent_code`, empty for a province) as the code list `code_list` in force from
/// `valid_from`. Every wrong row is reported with its line; nothing is returned then.
pub fn parse_list(
    text: &str,
    code_list: &str,
    valid_from: NaiveDate,
) -> Result<Vec<UnitRow>, Vec<RowError>> {
    let mut reader = super::lineage::open_csv(
        text,
        &["code", "full_name"],
        "the file needs code, full_name and, for a commune, parent_code",
    )?;
    let mut errors = Vec::new();
    let mut provinces: Vec<UnitRow> = Vec::new();
    let mut communes: Vec<(usize, UnitRow, String)> = Vec::new();
    let mut codes = BTreeSet::new();
    for (i, record) in reader.deserialize::<ListRecord>().enumerate() {
        let line = i + 2;
        let mut error = |column: &str, message: String| {
            errors.push(RowError {
                line,
                column: column.to_string(),
                message,
            })
        };
        let r = match record {
            Ok(r) => r,
            Err(e) => {
                error("*", format!("the row does not read: {e}"));
                continue;
            }
        };
        let code = r.code.unwrap_or_default();
        if !matches!(code.len(), 2 | 5) || !code.bytes().all(|b| b.is_ascii_digit()) {
            error(
                "code",
                format!(
                    "{code:?} is not an official code (2 digits for a province, 5 for a commune)"
                ),
            );
            continue;
        }
        if !codes.insert(code.clone()) {
            error("code", format!("{code} is listed twice"));
            continue;
        }
        let full_name = r.full_name.unwrap_or_default();
        if full_name.is_empty() {
            error(
                "full_name",
                "the full name (\"Phường Phú Xuân\") is required".into(),
            );
            continue;
        }
        let level = if code.len() == 2 {
            UnitLevel::Province
        } else {
            UnitLevel::Commune
        };
        let type_text = r
            .unit_type
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| full_name.clone());
        let Some(kind) = UnitKind::from_vietnamese_at_level(&type_text, level) else {
            error(
                "unit_type",
                format!("{type_text:?} is not a {level} unit type (Tỉnh, Thành phố, Xã, Phường, Đặc khu)"),
            );
            continue;
        };
        let name = r
            .name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| super::units::short_name(&full_name));
        let id = unit_id(code_list, &code);
        let row = UnitRow {
            path: format!("/{id}/"),
            id,
            code: code.clone(),
            code_version: code_list.to_string(),
            name_en: r
                .name_en
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| unaccent(&name)),
            name,
            search_key: fold(&full_name),
            full_name,
            level,
            kind,
            parent_id: None,
            valid_from,
            valid_to: None,
            area_km2: None,
        };
        match (level, r.parent_code.filter(|p| !p.is_empty())) {
            (UnitLevel::Province, None) => provinces.push(row),
            (UnitLevel::Province, Some(_)) => error(
                "parent_code",
                "a province has no parent; leave it empty".into(),
            ),
            (_, Some(parent)) => communes.push((line, row, parent)),
            (_, None) => error(
                "parent_code",
                "a commune needs the code of its province".into(),
            ),
        }
    }
    let mut rows = provinces;
    let by_code: BTreeMap<String, String> = rows
        .iter()
        .map(|p| (p.code.clone(), p.id.clone()))
        .collect();
    for (line, mut row, parent) in communes {
        match by_code.get(&parent) {
            Some(parent_id) => {
                row.path = format!("/{parent_id}/{}/", row.id);
                row.parent_id = Some(parent_id.clone());
                rows.push(row);
            }
            None => errors.push(RowError {
                line,
                column: "parent_code".into(),
                message: format!("no province {parent} in this file"),
            }),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(RowError {
            line: 1,
            column: "*".into(),
            message: "the file lists no unit".into(),
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// What loading a list did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ListLoad {
    pub added: usize,
    pub updated: usize,
    /// Units of the lists in force before, now closed the day before the new list.
    pub closed: usize,
}

/// Stores the list `rows` (one code list, as [`parse_list`] read it) and closes every unit of
/// another list still in force the day before it starts. A list loaded again is applied in
/// place. Refuses a list starting on or before the one in force.
pub fn load_list(conn: &mut AnyConnection, rows: &[UnitRow]) -> anyhow::Result<ListLoad> {
    let Some(first) = rows.first() else {
        anyhow::bail!("the list is empty");
    };
    let version = first.code_version.clone();
    let starts = first.valid_from;
    let in_force: Vec<(String, NaiveDate)> = admin_units::table
        .filter(admin_units::valid_to.is_null())
        .filter(admin_units::code_version.ne(&version))
        .select((admin_units::code_version, admin_units::valid_from))
        .distinct()
        .load(conn)?;
    if let Some((other, from)) = in_force.iter().find(|(_, from)| *from >= starts) {
        anyhow::bail!(
            "the list {other} in force since {} starts on or after {}; a new list must start later",
            from.format("%d/%m/%Y"),
            starts.format("%d/%m/%Y")
        );
    }
    let day_before = starts.pred_opt().unwrap_or(starts);
    let closed = diesel::update(
        admin_units::table
            .filter(admin_units::valid_to.is_null())
            .filter(admin_units::code_version.ne(&version)),
    )
    .set(admin_units::valid_to.eq(Some(day_before)))
    .execute(conn)?;
    let applied = super::units::apply(conn, rows)?;
    audit_chain::bulk(
        conn,
        &Who::system("units load"),
        "admin_units",
        applied.added + applied.updated + closed,
    )?;
    Ok(ListLoad {
        added: applied.added,
        updated: applied.updated,
        closed,
    })
}

/// Records moved to the successor of their unit.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Relabelled {
    pub establishments: usize,
    pub tips: usize,
    pub teams: usize,
    pub users: usize,
    /// Programmes whose targets for a province were moved to its successor.
    pub programmes: usize,
    /// Units no longer in force that records still name and lineage does not lead out of.
    pub without_successor: BTreeSet<String>,
}

/// The unit in force that holds `unit`'s territory: itself when in force, else its successor
/// through lineage (merged into or renamed; a split names its main successor), over several
/// steps.
fn successor(
    unit: &str,
    in_force: &BTreeSet<String>,
    next: &BTreeMap<String, String>,
) -> Option<String> {
    let mut at = unit.to_string();
    for _ in 0..8 {
        if in_force.contains(&at) {
            return Some(at);
        }
        at = next.get(&at)?.clone();
    }
    None
}

/// Moves every establishment, tip, team and account whose unit is no longer in force to the
/// unit that succeeds it, each with its audit entry; the coverage rollups of the groups that
/// changed are rebuilt, and moved establishments get a new change number (phones resync them).
pub fn relabel(conn: &mut AnyConnection, who: &Who) -> anyhow::Result<Relabelled> {
    let in_force: BTreeSet<String> = admin_units::table
        .filter(admin_units::valid_to.is_null())
        .select(admin_units::id)
        .load(conn)?
        .into_iter()
        .collect();
    let mut next: BTreeMap<String, String> = BTreeMap::new();
    let pairs: Vec<(String, String, LineageKind)> = unit_lineage::table
        .select((
            unit_lineage::from_unit,
            unit_lineage::to_unit,
            unit_lineage::kind,
        ))
        .order((unit_lineage::from_unit, unit_lineage::to_unit))
        .load(conn)?;
    for (from, to, kind) in pairs {
        if kind != LineageKind::SplitFrom {
            next.entry(from).or_insert(to);
        }
    }
    let mut out = Relabelled::default();
    let target = |unit: &str, out: &mut Relabelled| -> Option<String> {
        let found = successor(unit, &in_force, &next);
        if found.is_none() {
            out.without_successor.insert(unit.to_string());
        }
        found.filter(|s| s != unit)
    };

    let ests: Vec<(
        String,
        String,
        doi178_shared::establishment::EstablishmentType,
    )> = establishments::table
        .inner_join(admin_units::table)
        .filter(admin_units::valid_to.is_not_null())
        .select((
            establishments::id,
            establishments::unit_id,
            establishments::establishment_type,
        ))
        .load(conn)?;
    let mut groups = BTreeSet::new();
    for (id, unit, kind) in ests {
        let Some(to) = target(&unit, &mut out) else {
            continue;
        };
        let change = audit_chain::begin(conn, Kind::Establishment, &id)?;
        let seq = crate::db::next_seq(conn)?;
        diesel::update(establishments::table.filter(establishments::id.eq(&id)))
            .set((
                establishments::unit_id.eq(&to),
                establishments::seq.eq(seq),
                establishments::updated_at.eq(crate::clock::now()),
            ))
            .execute(conn)?;
        change.commit(conn, who)?;
        groups.insert((unit, kind));
        groups.insert((to, kind));
        out.establishments += 1;
    }
    if !groups.is_empty() {
        crate::db::coverage::refresh_rollup_groups(conn, &groups)?;
    }

    let tip_units: Vec<(String, String)> = tips::table
        .inner_join(admin_units::table)
        .filter(admin_units::valid_to.is_not_null())
        .select((tips::id, tips::unit_id))
        .load(conn)?;
    for (id, unit) in tip_units {
        let Some(to) = target(&unit, &mut out) else {
            continue;
        };
        let change = audit_chain::begin(conn, Kind::Tip, &id)?;
        diesel::update(tips::table.filter(tips::id.eq(&id)))
            .set(tips::unit_id.eq(&to))
            .execute(conn)?;
        change.commit(conn, who)?;
        out.tips += 1;
    }

    let team_units: Vec<(String, String)> = teams::table
        .inner_join(admin_units::table)
        .filter(admin_units::valid_to.is_not_null())
        .select((teams::id, teams::unit_id))
        .load(conn)?;
    for (id, unit) in team_units {
        let Some(to) = target(&unit, &mut out) else {
            continue;
        };
        let change = audit_chain::begin(conn, Kind::Team, &id)?;
        diesel::update(teams::table.filter(teams::id.eq(&id)))
            .set((
                teams::unit_id.eq(&to),
                teams::updated_at.eq(crate::clock::now()),
            ))
            .execute(conn)?;
        change.commit(conn, who)?;
        out.teams += 1;
    }

    let user_units: Vec<(String, Option<String>)> = users::table
        .inner_join(admin_units::table)
        .filter(admin_units::valid_to.is_not_null())
        .select((users::id, users::unit_id))
        .load(conn)?;
    for (id, unit) in user_units {
        let Some(unit) = unit else { continue };
        let Some(to) = target(&unit, &mut out) else {
            continue;
        };
        let change = audit_chain::begin(conn, Kind::User, &id)?;
        diesel::update(users::table.filter(users::id.eq(&id)))
            .set((
                users::unit_id.eq(Some(&to)),
                users::updated_at.eq(crate::clock::now()),
            ))
            .execute(conn)?;
        change.commit(conn, who)?;
        out.users += 1;
    }

    // A programme's own targets for a province follow the province.
    use crate::db::schema::programmes;
    let overrides: Vec<(String, String)> = programmes::table
        .select((programmes::id, programmes::province_overrides))
        .load(conn)?;
    for (id, text) in overrides {
        let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&text)
        else {
            continue;
        };
        let mut moved = false;
        let mut renamed = serde_json::Map::new();
        for (unit, targets) in map {
            let key = match in_force.contains(&unit) {
                true => unit,
                false => match target(&unit, &mut out) {
                    Some(to) => {
                        moved = true;
                        to
                    }
                    None => unit,
                },
            };
            renamed.insert(key, targets);
        }
        if moved {
            let change = audit_chain::begin(conn, Kind::Programme, &id)?;
            diesel::update(programmes::table.filter(programmes::id.eq(&id)))
                .set(
                    programmes::province_overrides
                        .eq(serde_json::Value::Object(renamed).to_string()),
                )
                .execute(conn)?;
            change.commit(conn, who)?;
            out.programmes += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_list_file_reads_with_parents_and_kinds() {
        let rows = parse_list(
            "code,full_name,parent_code\n46,Thành phố Huế,\n19753,Phường Phú Xuân Mới,46\n19999,Xã Mới,46\n",
            "2027",
            day(2027, 1, 1),
        )
        .unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].id, "2027:46");
        assert_eq!(rows[0].kind, UnitKind::CentralCity);
        assert_eq!(rows[1].path, "/2027:46/2027:19753/");
        assert_eq!(rows[1].name, "Phú Xuân Mới");
        assert_eq!(rows[1].name_en, "Phu Xuan Moi");
        assert_eq!(rows[2].kind, UnitKind::Commune);
    }

    #[test]
    fn every_wrong_row_is_named_with_its_line_and_column() {
        let errors = parse_list(
            "code,full_name,parent_code\n46,Thành phố Huế,\n4,Tỉnh X,\n19753,,46\n19754,Phường Y,99\n46,Thành phố Huế,\n19755,Quận Z,46\n",
            "2027",
            day(2027, 1, 1),
        )
        .unwrap_err();
        let found: Vec<(usize, &str)> =
            errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(
            found,
            [
                (3, "code"),
                (4, "full_name"),
                (6, "code"),
                (7, "unit_type"),
                (5, "parent_code"),
            ]
        );
        let missing = parse_list("ma,ten\n46,Huế\n", "2027", day(2027, 1, 1)).unwrap_err();
        assert_eq!(missing[0].column, "code");
    }

    #[test]
    fn a_successor_is_followed_over_several_steps() {
        let in_force: BTreeSet<String> = ["c".to_string()].into();
        let next: BTreeMap<String, String> = [
            ("a".to_string(), "b".to_string()),
            ("b".to_string(), "c".to_string()),
        ]
        .into();
        assert_eq!(successor("a", &in_force, &next).as_deref(), Some("c"));
        assert_eq!(successor("c", &in_force, &next).as_deref(), Some("c"));
        assert_eq!(successor("x", &in_force, &next), None);
    }
}
