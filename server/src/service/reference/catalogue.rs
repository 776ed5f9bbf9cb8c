//! The agencies that second members to teams and the default checklist template of each
//! establishment type, as shipped in `server/data/` (`agencies.csv`, `checklists.json`).

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::NaiveDate;
use diesel::prelude::*;
use doi178_shared::checklist::{ChecklistItem, ChecklistTemplate, ChecklistTemplateInput};
use doi178_shared::establishment::EstablishmentType;
use doi178_shared::AgencyKind;
use serde::Deserialize;
use uuid::Uuid;

use super::data;
use super::units::Applied;
use crate::db::agencies::AgencyRow;
use crate::db::audit_chain::Who;
use crate::db::schema::{agencies, checklist_templates};
use crate::db::templates::TemplateRow;
use crate::db::AnyConnection;

#[derive(Debug, Deserialize)]
struct AgencyRecord {
    id: Uuid,
    kind: AgencyKind,
    name: String,
}

/// The national agencies (no unit): one per kind.
pub fn agencies() -> anyhow::Result<Vec<AgencyRow>> {
    let mut rows = Vec::new();
    for (i, record) in csv::Reader::from_reader(data::AGENCIES_CSV.as_bytes())
        .deserialize::<AgencyRecord>()
        .enumerate()
    {
        let a = record.with_context(|| format!("agencies.csv, row {}", i + 2))?;
        rows.push(AgencyRow {
            id: a.id.to_string(),
            kind: a.kind,
            name: a.name,
            unit_id: None,
        });
    }
    Ok(rows)
}

/// Adds the missing agencies and renames the ones whose shipped name changed.
pub fn apply_agencies(conn: &mut AnyConnection, rows: &[AgencyRow]) -> QueryResult<Applied> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let stored: BTreeMap<String, AgencyRow> = agencies::table
        .filter(agencies::id.eq_any(ids))
        .select(AgencyRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let mut applied = Applied::default();
    let mut missing = Vec::new();
    for row in rows {
        match stored.get(&row.id) {
            None => missing.push(row.clone()),
            Some(old) if old.name != row.name || old.kind != row.kind => {
                diesel::update(agencies::table.filter(agencies::id.eq(&row.id)))
                    .set((agencies::name.eq(&row.name), agencies::kind.eq(row.kind)))
                    .execute(conn)?;
                applied.updated += 1;
            }
            Some(_) => {}
        }
    }
    if !missing.is_empty() {
        applied.added = crate::db::agencies::insert_all(conn, &missing)?;
    }
    Ok(applied)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemRecord {
    text: String,
    text_en: Option<String>,
    legal_basis: Option<String>,
    sanction_ref: Option<String>,
    #[serde(default)]
    violation_code: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TemplateRecord {
    id: Uuid,
    version: u32,
    establishment_type: EstablishmentType,
    title: String,
    items: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Checklists {
    valid_from: NaiveDate,
    items: BTreeMap<String, ItemRecord>,
    templates: Vec<TemplateRecord>,
}

/// The shipped templates, each checked by the same rules as one an administrator submits.
pub fn templates() -> anyhow::Result<Vec<ChecklistTemplate>> {
    let lists: Checklists =
        serde_json::from_str(data::CHECKLISTS_JSON).context("checklists.json")?;
    let mut out = Vec::new();
    for t in lists.templates {
        let items =
            t.items
                .iter()
                .map(|code| {
                    let item = lists.items.get(code).with_context(|| {
                        format!("template {} names unknown item {code}", t.title)
                    })?;
                    Ok(ChecklistItem {
                        code: code.clone(),
                        text: item.text.clone(),
                        text_en: item.text_en.clone(),
                        legal_basis: item.legal_basis.clone(),
                        sanction_ref: item.sanction_ref.clone(),
                        violation_code: item.violation_code.clone(),
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
        let template = ChecklistTemplate::parse(ChecklistTemplateInput {
            id: t.id,
            establishment_type: t.establishment_type,
            version: t.version,
            title: t.title.clone(),
            items,
            valid_from: lists.valid_from,
        })
        .map_err(|e| anyhow::anyhow!("template {}: {e}", t.title))?;
        out.push(template);
    }
    Ok(out)
}

/// Adds each shipped template that the database does not hold yet, as the next version of its
/// establishment type; never changes a stored version (visits name the version they answered).
pub fn apply_templates(
    conn: &mut AnyConnection,
    who: &Who,
    shipped: &[ChecklistTemplate],
) -> QueryResult<Applied> {
    let mut applied = Applied::default();
    let created_at = crate::clock::now();
    for t in shipped {
        let id = t.id().to_string();
        let exists: i64 = checklist_templates::table
            .filter(checklist_templates::id.eq(&id))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            continue;
        }
        let latest = crate::db::templates::latest_version(conn, t.establishment_type())?;
        let row = TemplateRow {
            id,
            establishment_type: t.establishment_type(),
            version: latest.unwrap_or(0) + 1,
            title: t.title().to_string(),
            items: serde_json::to_string(t.items())
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?,
            valid_from: t.valid_from(),
            created_at,
            seq: crate::db::next_seq(conn)?,
        };
        crate::db::templates::insert(conn, who, &row)?;
        applied.added += 1;
    }
    Ok(applied)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_establishment_type_has_a_vietnamese_checklist_with_an_english_translation() {
        let templates = templates().unwrap();
        for &t in EstablishmentType::ALL {
            let template = templates
                .iter()
                .find(|x| x.establishment_type() == t)
                .unwrap_or_else(|| panic!("no checklist for {t}"));
            assert!(
                template.title().starts_with("Phiếu kiểm tra"),
                "{}",
                template.title()
            );
            for item in template.items() {
                assert!(item.text_en.is_some(), "{} has no English", item.code);
                assert_ne!(Some(&item.text), item.text_en.as_ref(), "{}", item.code);
            }
        }
        let karaoke = templates
            .iter()
            .find(|x| x.establishment_type() == EstablishmentType::Karaoke)
            .unwrap();
        let c06 = karaoke.items().iter().find(|i| i.code == "C06").unwrap();
        assert_eq!(
            c06.text,
            "Không sử dụng người dưới 18 tuổi làm công việc trực tiếp phục vụ khách"
        );
        assert_eq!(
            c06.text_en.as_deref(),
            Some("No worker under 18 in customer-facing work")
        );
    }

    #[test]
    fn one_agency_of_each_kind_with_health_as_the_standing_agency() {
        let rows = agencies().unwrap();
        for &kind in AgencyKind::ALL {
            assert_eq!(rows.iter().filter(|a| a.kind == kind).count(), 1, "{kind}");
        }
        let health = rows.iter().find(|a| a.kind == AgencyKind::Health).unwrap();
        assert!(health.name.contains("thường trực"), "{}", health.name);
    }
}
