//! The database side of an import: resolving unit codes (old codes through lineage), matching rows
//! with establishments already registered in the same commune, validating each merged record with
//! `EstablishmentDraft::parse`, and writing the result.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use doi178_shared::establishment::{
    EstablishmentDraft, EstablishmentInput, EstablishmentStatus, EstablishmentType, RiskLevel,
};
use doi178_shared::text::fold;
use doi178_shared::unit::{UnitId, UnitLevel};
use indicatif::ProgressBar;
use uuid::Uuid;

use super::columns::{Columns, Field};
use super::records::{Record, RowError};
use crate::auth::Actor;
use crate::db::establishments::{self, EstablishmentRow};
use crate::db::schema::{admin_units, sync_counter, unit_lineage};
use crate::db::AnyConnection;

/// What the import will do (or did).
#[derive(Debug, Default)]
pub struct Plan {
    pub inserts: Vec<EstablishmentRow>,
    pub updates: Vec<EstablishmentRow>,
    pub unchanged: usize,
    /// Rows that gave a pre-2025 code, filed under the current commune.
    pub remapped: usize,
    /// The current commune each row's code resolved to (rows whose code could be resolved).
    pub units: BTreeMap<usize, String>,
    /// What each valid row does, by row number.
    pub actions: BTreeMap<usize, RowAction>,
}

/// What a valid row of the file does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowAction {
    /// Registers a new establishment.
    Insert,
    /// Updates the registered establishment (id, name) with the same number in the commune.
    Update { id: String, name: String },
    /// Matches a registered establishment (id, name) and changes nothing.
    Unchanged { id: String, name: String },
}

/// The administrative units, to check and resolve the codes of a file in memory.
pub struct Units {
    /// id → (level, current)
    by_id: HashMap<String, (UnitLevel, bool)>,
    /// old unit → units that took over its territory
    successors: HashMap<String, Vec<String>>,
}

impl Units {
    pub fn load(conn: &mut AnyConnection) -> QueryResult<Units> {
        let units: Vec<(String, UnitLevel, Option<NaiveDate>)> = admin_units::table
            .select((admin_units::id, admin_units::level, admin_units::valid_to))
            .load(conn)?;
        let lineage: Vec<(String, String)> = unit_lineage::table
            .select((unit_lineage::from_unit, unit_lineage::to_unit))
            .load(conn)?;
        let mut successors: HashMap<String, Vec<String>> = HashMap::new();
        for (from, to) in lineage {
            successors.entry(from).or_default().push(to);
        }
        Ok(Units {
            by_id: units
                .into_iter()
                .map(|(id, level, valid_to)| (id, (level, valid_to.is_none())))
                .collect(),
            successors,
        })
    }

    /// The current commune a code names: a unit id (`2025:19753`), a bare 5-digit code (the 2025
    /// list first, then the pre-2025 one), or an old code followed through lineage. Returns the
    /// id and whether lineage was used.
    pub fn resolve(&self, raw: &str) -> Result<(String, bool), String> {
        let raw = raw.trim();
        let candidates: Vec<String> = if raw.contains(':') {
            let id = UnitId::parse(raw).map_err(|e| format!("{raw:?}: {}", e.message))?;
            vec![id.to_string()]
        } else if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
            match raw.len() {
                5 => vec![format!("2025:{raw}"), format!("pre2025:{raw}")],
                2 => return Err(format!("{raw} is a province code; give the commune (xã, phường, đặc khu) code, 5 digits")),
                3 => return Err(format!("{raw} is a district code; give the commune (xã, phường, đặc khu) code, 5 digits")),
                _ => return Err(format!("{raw:?} is not a commune code: use 5 digits (e.g. 19753) or a unit id (e.g. 2025:19753)")),
            }
        } else {
            return Err(format!(
                "{raw:?} is not a commune code: use 5 digits (e.g. 19753) or a unit id (e.g. 2025:19753)"
            ));
        };
        let Some(id) = candidates.iter().find(|c| self.by_id.contains_key(*c)) else {
            let hint = if self.by_id.is_empty() {
                " (the database has no administrative units yet; load them first)"
            } else {
                ""
            };
            return Err(format!("unknown commune code {raw}{hint}"));
        };
        let (level, current) = &self.by_id[id];
        if *current {
            return self.commune(id, raw).map(|id| (id, false));
        }
        if *level != UnitLevel::Commune {
            return Err(format!(
                "{raw} is a former {level}, not a commune; give the commune code"
            ));
        }
        // An old unit: follow lineage (possibly over several steps) to the current units.
        let mut found = BTreeSet::new();
        let mut seen = BTreeSet::from([id.clone()]);
        let mut frontier = vec![id.clone()];
        while let Some(unit) = frontier.pop() {
            for next in self.successors.get(&unit).into_iter().flatten() {
                if !seen.insert(next.clone()) {
                    continue;
                }
                match self.by_id.get(next) {
                    Some((_, true)) => {
                        found.insert(next.clone());
                    }
                    Some((_, false)) => frontier.push(next.clone()),
                    None => {}
                }
            }
        }
        let found: Vec<String> = found.into_iter().collect();
        match found.as_slice() {
            [] => Err(format!(
                "{raw} ({id}) is a code from before the 2025 reorganisation and no current commune \
                 is recorded for it; give the current commune code"
            )),
            [one] => self.commune(one, raw).map(|id| (id, true)),
            many => Err(format!(
                "the former commune {raw} ({id}) was divided between {}; give the current code of \
                 the commune where the establishment is",
                many.join(", ")
            )),
        }
    }

    fn commune(&self, id: &str, raw: &str) -> Result<String, String> {
        match self.by_id.get(id) {
            Some((UnitLevel::Commune, _)) => Ok(id.to_string()),
            Some((level, _)) => Err(format!(
                "{raw} is a {level}, not a commune; give the commune (xã, phường, đặc khu) code"
            )),
            None => Err(format!("unknown commune code {raw}")),
        }
    }
}

/// Key for matching paper numbers: case, diacritics and spaces ignored.
fn paper_key(s: &str) -> String {
    fold(s).chars().filter(|c| !c.is_whitespace()).collect()
}

/// Checks every record against the database and decides what to write. Problems are added to
/// `errors`; the plan is meaningful only when none were added. With a `scope`, a commune outside
/// the actor's jurisdiction is a row error (the command line imports with no scope).
#[allow(clippy::too_many_arguments)]
pub fn plan(
    conn: &mut AnyConnection,
    columns: &Columns,
    records: &[Record],
    now: NaiveDateTime,
    bar: &ProgressBar,
    errors: &mut Vec<RowError>,
    scope: Option<&Actor>,
) -> QueryResult<Plan> {
    let units = Units::load(conn)?;
    let mut resolved: Vec<Option<(String, bool)>> = Vec::with_capacity(records.len());
    let mut plan = Plan::default();
    for record in records {
        let Some(raw) = record.unit.as_deref() else {
            // A blank or unreadable cell, reported already.
            resolved.push(None);
            continue;
        };
        match units.resolve(raw) {
            Ok((unit, _)) if scope.is_some_and(|a| !a.sees_unit(&unit)) => {
                errors.push(RowError {
                    row: record.row,
                    column: Some(columns.name(Field::Unit)),
                    message: format!(
                        "the commune {raw} ({unit}) is outside your jurisdiction; import only \
                         establishments of the communes you manage"
                    ),
                });
                resolved.push(None);
            }
            Ok(r) => {
                plan.units.insert(record.row, r.0.clone());
                resolved.push(Some(r));
            }
            Err(message) => {
                errors.push(RowError {
                    row: record.row,
                    column: Some(columns.name(Field::Unit)),
                    message,
                });
                resolved.push(None);
            }
        }
    }

    // Establishments already registered in the communes of the file.
    let unit_ids: BTreeSet<&str> = resolved.iter().flatten().map(|(u, _)| u.as_str()).collect();
    let unit_ids: Vec<&str> = unit_ids.into_iter().collect();
    let mut existing: Vec<EstablishmentRow> = Vec::new();
    for chunk in unit_ids.chunks(500) {
        existing.extend(
            crate::db::schema::establishments::table
                .filter(
                    crate::db::schema::establishments::unit_id
                        .eq_any(chunk.iter().map(|u| u.to_string()).collect::<Vec<String>>()),
                )
                .select(EstablishmentRow::as_select())
                .load(conn)?,
        );
    }
    let mut by_reg_no: HashMap<(String, String), usize> = HashMap::new();
    let mut by_licence: HashMap<(String, String), usize> = HashMap::new();
    for (i, row) in existing.iter().enumerate() {
        if let Some(no) = row.business_reg_no.as_deref() {
            by_reg_no
                .entry((row.unit_id.clone(), paper_key(no)))
                .or_insert(i);
        }
        if let Some(no) = row.licence_no.as_deref() {
            by_licence
                .entry((row.unit_id.clone(), paper_key(no)))
                .or_insert(i);
        }
    }

    let mut file_reg_no: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut file_licence: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut claimed: BTreeMap<usize, usize> = BTreeMap::new();
    for (record, resolved) in records.iter().zip(resolved) {
        bar.inc(1);
        let Some((unit, remapped)) = resolved else {
            continue;
        };
        if !record.cells_ok {
            // Its cell errors are reported already; matching needs sound values.
            continue;
        }
        let mut error = |field: Option<Field>, message: String| {
            errors.push(RowError {
                row: record.row,
                column: field.map(|f| columns.name(f)),
                message,
            });
        };
        let reg_key = record
            .business_reg_no
            .as_deref()
            .map(paper_key)
            .filter(|k| !k.is_empty())
            .map(|k| (unit.clone(), k));
        let licence_key = record
            .licence_no
            .as_deref()
            .map(paper_key)
            .filter(|k| !k.is_empty())
            .map(|k| (unit.clone(), k));

        // The same establishment twice in the file.
        let mut ok = true;
        for (key, seen, field) in [
            (&reg_key, &mut file_reg_no, Field::BusinessRegNo),
            (&licence_key, &mut file_licence, Field::LicenceNo),
        ] {
            if let Some(key) = key {
                match seen.entry(key.clone()) {
                    Entry::Occupied(first) => {
                        error(
                            Some(field),
                            format!(
                                "the same {} appears in row {} for the same commune: the file lists \
                                 this establishment twice",
                                columns.name(field),
                                first.get()
                            ),
                        );
                        ok = false;
                    }
                    Entry::Vacant(slot) => {
                        slot.insert(record.row);
                    }
                }
            }
        }

        // An establishment already registered in the commune.
        let by_reg = reg_key.as_ref().and_then(|k| by_reg_no.get(k).copied());
        let by_lic = licence_key
            .as_ref()
            .and_then(|k| by_licence.get(k).copied());
        let matched = match (by_reg, by_lic) {
            (Some(a), Some(b)) if a != b => {
                error(
                    Some(Field::LicenceNo),
                    format!(
                        "{} matches the registered establishment \"{}\" but {} matches another one, \
                         \"{}\"; correct one of the two numbers",
                        columns.name(Field::BusinessRegNo),
                        existing[a].name,
                        columns.name(Field::LicenceNo),
                        existing[b].name
                    ),
                );
                ok = false;
                None
            }
            (Some(a), _) => Some(a),
            (None, b) => b,
        };
        if let Some(i) = matched {
            match claimed.entry(i) {
                Entry::Occupied(first) => {
                    error(
                        None,
                        format!(
                            "row {} already updates the registered establishment \"{}\": the file \
                             lists it twice",
                            first.get(),
                            existing[i].name
                        ),
                    );
                    ok = false;
                }
                Entry::Vacant(slot) => {
                    slot.insert(record.row);
                }
            }
        }
        if !ok {
            continue;
        }

        let old = matched.map(|i| &existing[i]);
        let input = match merge(record, old, &unit) {
            Ok(input) => input,
            Err(message) => {
                error(None, message);
                continue;
            }
        };
        let draft = match EstablishmentDraft::parse(input) {
            Ok(draft) => draft,
            Err(e) => {
                error(Field::from_key(&e.field), e.message);
                continue;
            }
        };
        if remapped {
            plan.remapped += 1;
        }
        match old {
            None => {
                plan.actions.insert(record.row, RowAction::Insert);
                plan.inserts.push(EstablishmentRow::from_draft(
                    &draft,
                    Uuid::new_v4().to_string(),
                    now,
                    now,
                    0,
                ))
            }
            Some(old) => {
                let new = EstablishmentRow::from_draft(
                    &draft,
                    old.id.clone(),
                    old.created_at,
                    old.updated_at,
                    old.seq,
                );
                let (id, name) = (old.id.clone(), old.name.clone());
                if new == *old {
                    plan.unchanged += 1;
                    plan.actions
                        .insert(record.row, RowAction::Unchanged { id, name });
                } else {
                    plan.actions
                        .insert(record.row, RowAction::Update { id, name });
                    plan.updates.push(EstablishmentRow {
                        updated_at: now,
                        ..new
                    });
                }
            }
        }
    }
    Ok(plan)
}

/// The input for a row: the registered establishment's data (or defaults: operating, medium risk)
/// overlaid with every value the row gives. A blank cell never erases a stored value.
fn merge(
    record: &Record,
    old: Option<&EstablishmentRow>,
    unit: &str,
) -> Result<EstablishmentInput, String> {
    let mut input = match old {
        Some(row) => input_from_row(row),
        None => EstablishmentInput {
            name: String::new(),
            establishment_type: EstablishmentType::Other,
            unit: unit.to_string(),
            address: String::new(),
            lat: None,
            lon: None,
            business_reg_no: None,
            licence_no: None,
            licence_issued_on: None,
            licence_expires_on: None,
            antt_cert_no: None,
            owner_name: None,
            phone: None,
            status: EstablishmentStatus::Operating,
            opened_on: None,
            closed_on: None,
            risk: RiskLevel::Medium,
            commitment_signed: false,
            commitment_signed_on: None,
        },
    };
    input.unit = unit.to_string();
    fn set<T: Clone>(target: &mut T, value: &Option<T>) {
        if let Some(v) = value {
            *target = v.clone();
        }
    }
    fn set_opt<T: Clone>(target: &mut Option<T>, value: &Option<T>) {
        if value.is_some() {
            target.clone_from(value);
        }
    }
    set(&mut input.name, &record.name);
    set(&mut input.establishment_type, &record.establishment_type);
    set(&mut input.address, &record.address);
    set_opt(&mut input.business_reg_no, &record.business_reg_no);
    set_opt(&mut input.licence_no, &record.licence_no);
    set_opt(&mut input.licence_issued_on, &record.licence_issued_on);
    set_opt(&mut input.licence_expires_on, &record.licence_expires_on);
    set_opt(&mut input.antt_cert_no, &record.antt_cert_no);
    set_opt(&mut input.owner_name, &record.owner_name);
    set_opt(&mut input.phone, &record.phone);
    if record.lat.is_some() || record.lon.is_some() {
        input.lat = record.lat;
        input.lon = record.lon;
    }
    if let Some(status) = record.status {
        input.status = status;
        if status != EstablishmentStatus::Closed {
            input.closed_on = None;
        }
    }
    set_opt(&mut input.opened_on, &record.opened_on);
    set_opt(&mut input.closed_on, &record.closed_on);
    set(&mut input.risk, &record.risk);
    match (record.commitment_signed, record.commitment_signed_on) {
        (Some(false), None) => {
            input.commitment_signed = false;
            input.commitment_signed_on = None;
        }
        (signed, Some(on)) => {
            input.commitment_signed = signed.unwrap_or(true);
            input.commitment_signed_on = Some(on);
        }
        (Some(true), None) => input.commitment_signed = true,
        (None, None) => {}
    }
    Ok(input)
}

fn input_from_row(row: &EstablishmentRow) -> EstablishmentInput {
    EstablishmentInput {
        name: row.name.clone(),
        establishment_type: row.establishment_type,
        unit: row.unit_id.clone(),
        address: row.address.clone(),
        lat: row.lat,
        lon: row.lon,
        business_reg_no: row.business_reg_no.clone(),
        licence_no: row.licence_no.clone(),
        licence_issued_on: row.licence_issued_on,
        licence_expires_on: row.licence_expires_on,
        antt_cert_no: row.antt_cert_no.clone(),
        owner_name: row.owner_name.clone(),
        phone: row.phone.clone(),
        status: row.status,
        opened_on: row.opened_on,
        closed_on: row.closed_on,
        risk: row.risk,
        commitment_signed: row.commitment_signed,
        commitment_signed_on: row.commitment_signed_on,
    }
}

/// Takes `n` consecutive values of the global change counter; returns the first.
fn reserve_seq(conn: &mut AnyConnection, n: usize) -> QueryResult<i64> {
    let n = i64::try_from(n.max(1)).unwrap_or(i64::MAX);
    let last: i64 = diesel::update(sync_counter::table.filter(sync_counter::id.eq(1)))
        .set(sync_counter::value.eq(sync_counter::value + n))
        .returning(sync_counter::value)
        .get_result(conn)?;
    Ok(last - n + 1)
}

/// Writes the plan: new change numbers for every inserted and updated establishment.
pub fn apply(
    conn: &mut AnyConnection,
    who: &crate::db::audit_chain::Who,
    plan: &mut Plan,
    bar: &ProgressBar,
) -> QueryResult<()> {
    let n = plan.inserts.len() + plan.updates.len();
    if n == 0 {
        return Ok(());
    }
    let first = reserve_seq(conn, n)?;
    let rows = plan.inserts.iter_mut().chain(plan.updates.iter_mut());
    for (seq, row) in (first..).zip(rows) {
        row.seq = seq;
    }
    // Coverage rollup groups to recompute: the ones the rows are in, and the ones updated rows
    // leave.
    let mut groups: BTreeSet<crate::db::coverage::Group> = plan
        .inserts
        .iter()
        .chain(plan.updates.iter())
        .map(|r| (r.unit_id.clone(), r.establishment_type))
        .collect();
    for row in &plan.updates {
        if let Some(old) = crate::db::coverage::group_of(conn, &row.id)? {
            groups.insert(old);
        }
    }
    for chunk in plan.inserts.chunks(200) {
        establishments::insert_many(conn, who, chunk)?;
        bar.inc(chunk.len() as u64);
    }
    for row in &plan.updates {
        establishments::update(conn, who, row)?;
        bar.inc(1);
    }
    crate::db::coverage::refresh_rollup_groups(conn, &groups)?;
    Ok(())
}
