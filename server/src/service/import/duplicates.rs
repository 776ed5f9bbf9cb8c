//! Likely duplicates in an import preview: a row that would register a new establishment although
//! one with the same licence or registration number is already known (in another commune, or in
//! another row of the file), or one with a close name at a close address already exists in the same
//! commune (registered, or an earlier row of the file). Names and addresses are compared on the
//! shared search folding (case and diacritics ignored), so "Nha nghi Hoa" is "Nhà nghỉ Hoa".
//!
//! These are warnings, not errors: the importer itself updates an establishment whose number is
//! registered in the same commune, and refuses a file that lists the same number twice for a
//! commune. What is left is for a person to judge.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use doi178_shared::text::fold;

use super::plan::{Plan, RowAction};
use super::records::Record;
use crate::auth::Actor;
use crate::db::establishments::EstablishmentRow;
use crate::db::schema::establishments;
use crate::db::AnyConnection;

/// Why a row looks like an establishment already known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The same licence number (or business registration number).
    SameNumber { number: String },
    /// A close name at a close address in the same commune.
    CloseNameAddress,
}

/// What the row looks like a duplicate of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Other {
    Registered {
        id: String,
        name: String,
        address: String,
        unit_id: String,
    },
    /// Another row of the file.
    Row(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub reason: Reason,
    pub other: Other,
}

/// Text for comparing names and addresses: folded, punctuation as spaces, spaces collapsed.
pub fn compare_key(s: &str) -> String {
    let folded = fold(s);
    let spaced: String = folded
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Levenshtein similarity in [0, 1] over characters.
fn similarity(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    1.0 - prev[b.len()] as f64 / longest as f64
}

/// Names that probably designate the same business ("Karaoke Hoa Mai" / "KARAOKE HOA MAI.").
pub fn close_names(a: &str, b: &str) -> bool {
    let (a, b) = (compare_key(a), compare_key(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    a == b || similarity(&a, &b) >= 0.85
}

/// Addresses that probably designate the same place: the house numbers agree, and the text is
/// close or one address is the other with more detail ("12 Lê Lợi" / "12 Le Loi, phường Phú Xuân").
pub fn close_addresses(a: &str, b: &str) -> bool {
    let (a, b) = (compare_key(a), compare_key(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    let long_words: BTreeSet<&str> = long.split(' ').collect();
    let numbers_agree = short
        .split(' ')
        .filter(|w| w.chars().any(|c| c.is_ascii_digit()))
        .all(|w| long_words.contains(w));
    if !numbers_agree {
        return false;
    }
    let short_words: Vec<&str> = short.split(' ').collect();
    (short_words.len() >= 2 && short_words.iter().all(|w| long_words.contains(w)))
        || similarity(short, long) >= 0.75
}

fn paper_key(s: &str) -> String {
    fold(s).chars().filter(|c| !c.is_whitespace()).collect()
}

fn numbers_of(record: &Record) -> Vec<&str> {
    [
        record.licence_no.as_deref(),
        record.business_reg_no.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .filter(|n| !n.is_empty())
    .collect()
}

/// Likely duplicates of the rows that would register a new establishment (or that are invalid, so
/// the person fixing them sees it too), by row number. Only establishments the actor may see are
/// compared with.
pub fn find(
    conn: &mut AnyConnection,
    actor: &Actor,
    records: &[Record],
    plan: &Plan,
) -> QueryResult<BTreeMap<usize, Vec<Duplicate>>> {
    let candidates: Vec<&Record> = records
        .iter()
        .filter(|r| matches!(plan.actions.get(&r.row), None | Some(RowAction::Insert)))
        .collect();
    let mut out: BTreeMap<usize, Vec<Duplicate>> = BTreeMap::new();
    if candidates.is_empty() {
        return Ok(out);
    }

    // Registered establishments with the same numbers (any commune the actor sees).
    let numbers: BTreeSet<String> = candidates
        .iter()
        .flat_map(|r| numbers_of(r))
        .map(str::to_string)
        .collect();
    let numbers: Vec<String> = numbers.into_iter().collect();
    let mut by_number: Vec<EstablishmentRow> = Vec::new();
    for chunk in numbers.chunks(300) {
        by_number.extend(
            establishments::table
                .filter(
                    establishments::licence_no
                        .eq_any(chunk.to_vec())
                        .or(establishments::business_reg_no.eq_any(chunk.to_vec())),
                )
                .select(EstablishmentRow::as_select())
                .load(conn)?,
        );
    }
    by_number.retain(|e| actor.sees_unit(&e.unit_id));

    // Registered establishments in the communes of the candidates.
    let units: BTreeSet<String> = candidates
        .iter()
        .filter_map(|r| plan.units.get(&r.row).cloned())
        .collect();
    let units: Vec<String> = units.into_iter().collect();
    let mut in_units: Vec<EstablishmentRow> = Vec::new();
    for chunk in units.chunks(300) {
        in_units.extend(
            establishments::table
                .filter(establishments::unit_id.eq_any(chunk.to_vec()))
                .select(EstablishmentRow::as_select())
                .load(conn)?,
        );
    }

    let registered = |e: &EstablishmentRow| Other::Registered {
        id: e.id.clone(),
        name: e.name.clone(),
        address: e.address.clone(),
        unit_id: e.unit_id.clone(),
    };
    for (i, record) in candidates.iter().enumerate() {
        let mut found: Vec<Duplicate> = Vec::new();
        let keys: Vec<(String, &str)> = numbers_of(record)
            .into_iter()
            .map(|n| (paper_key(n), n))
            .collect();
        for e in &by_number {
            let hit = keys.iter().find(|(k, _)| {
                [e.licence_no.as_deref(), e.business_reg_no.as_deref()]
                    .into_iter()
                    .flatten()
                    .any(|n| paper_key(n) == *k)
            });
            if let Some((_, number)) = hit {
                found.push(Duplicate {
                    reason: Reason::SameNumber {
                        number: (*number).to_string(),
                    },
                    other: registered(e),
                });
            }
        }
        let unit = plan.units.get(&record.row);
        let (name, address) = (
            record.name.as_deref().unwrap_or(""),
            record.address.as_deref().unwrap_or(""),
        );
        if let Some(unit) = unit {
            for e in in_units.iter().filter(|e| &e.unit_id == unit) {
                if found.iter().any(|d| d.other == registered(e)) {
                    continue;
                }
                if close_names(name, &e.name) && close_addresses(address, &e.address) {
                    found.push(Duplicate {
                        reason: Reason::CloseNameAddress,
                        other: registered(e),
                    });
                }
            }
        }
        // Earlier rows of the file.
        for earlier in &candidates[..i] {
            let same_number = numbers_of(earlier).into_iter().find(|n| {
                let k = paper_key(n);
                keys.iter().any(|(key, _)| *key == k)
            });
            if let Some(number) = same_number {
                found.push(Duplicate {
                    reason: Reason::SameNumber {
                        number: number.to_string(),
                    },
                    other: Other::Row(earlier.row),
                });
                continue;
            }
            if unit.is_some()
                && plan.units.get(&earlier.row) == unit
                && close_names(name, earlier.name.as_deref().unwrap_or(""))
                && close_addresses(address, earlier.address.as_deref().unwrap_or(""))
            {
                found.push(Duplicate {
                    reason: Reason::CloseNameAddress,
                    other: Other::Row(earlier.row),
                });
            }
        }
        if !found.is_empty() {
            out.insert(record.row, found);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_without_case_diacritics_or_punctuation() {
        assert!(close_names("Nhà nghỉ Hoa", "NHA NGHI HOA."));
        assert!(close_names("Karaoke Hoa Mai", "Karaoke Hoa  Mai 2"));
        assert!(!close_names("Karaoke Hoa Mai", "Khách sạn Sông Hương"));
        assert!(!close_names("", ""));
    }

    #[test]
    fn addresses_need_the_same_house_number() {
        assert!(close_addresses("12 Lê Lợi", "12 Le Loi, phường Phú Xuân"));
        assert!(close_addresses("12 Lê Lợi, Phú Xuân", "12 Lê Lợi Phú Xuân"));
        assert!(!close_addresses("12 Lê Lợi", "14 Lê Lợi"));
        assert!(!close_addresses("12 Lê Lợi", "12 Trần Hưng Đạo"));
    }
}
