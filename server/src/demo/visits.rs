//! The visits of the schedule as the API would have stored them: the submitted body (the wire
//! format `VisitInput`, validated and normalised by `VisitRecord`), its digest, revision 1, the
//! violations with legal basis and proposed fine, and the photo links. Inserted in transactions
//! of [`VISITS_PER_TX`] visits so that memory stays flat however many there are.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, Datelike, NaiveDateTime, TimeDelta, Utc};
use diesel::ExpressionMethods as _;
use doi178_shared::geo::GpsInput;
use doi178_shared::visit::{
    AnswerInput, AnswerResult, Outcome, ReviewStatus, ViolationInput, VisitInput, VisitRecord,
};
use rand::Rng;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::establishments::{Est, Sites};
use super::geo::{gaussian_pair, offset_m};
use super::names;
use super::people::Org;
use super::planning::{Finding, Slot};
use super::reference::{violations_for, Reference, ViolationKind};
use super::{
    at, decree_282_from, demo_today, new_id, progress, reserve_seq, rng_for, stream, BATCH,
};
use crate::db::schema::{visit_photos, visit_revisions, visit_violations, visits};
use crate::db::visits::{RevisionRow, ViolationRow, VisitRow};
use crate::db::Db;

/// Visits per write transaction.
pub const VISITS_PER_TX: usize = 5_000;
/// Most photos a demo generates, whatever its size.
pub const MAX_PHOTOS: usize = 5_000;

/// A photo to generate and store after the visits.
#[derive(Debug, Clone)]
pub struct PhotoJob {
    pub id: Uuid,
    pub uploaded_by: String,
    pub taken_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Default)]
pub struct Inserted {
    pub visits: usize,
    pub with_violations: usize,
    /// Bodies that `VisitRecord::parse` refused (should stay 0; their digest is the body's hash).
    pub invalid: usize,
    pub photo_jobs: Vec<PhotoJob>,
}

/// The seconds after local midnight a visit of this kind usually starts.
fn start_secs(rng: &mut impl Rng, est: &Est) -> i64 {
    let hour = if est.kind.is_nightlife() && rng.gen_bool(0.7) {
        rng.gen_range(19..=22)
    } else {
        rng.gen_range(8..=16)
    };
    hour * 3600 + rng.gen_range(0..60) * 60
}

fn pick_violations(
    rng: &mut impl Rng,
    kinds: &[&'static ViolationKind],
) -> Vec<&'static ViolationKind> {
    let n = match rng.gen_range(0..100) {
        0..=69 => 1,
        70..=94 => 2,
        _ => 3,
    };
    let mut out: Vec<&'static ViolationKind> = Vec::new();
    let total: u32 = kinds.iter().map(|k| k.weight).sum();
    for _ in 0..n * 4 {
        if out.len() >= n || total == 0 {
            break;
        }
        let mut r = rng.gen_range(0..total);
        for k in kinds {
            if r < k.weight {
                if !out.iter().any(|o| std::ptr::eq(*o, *k)) {
                    out.push(k);
                }
                break;
            }
            r -= k.weight;
        }
    }
    out
}

const CLEAN_NOTES: &[&str] = &[
    "Cơ sở chấp hành tốt các quy định; đã nhắc nhở duy trì sổ sách.",
    "Chủ cơ sở có mặt, xuất trình đầy đủ giấy tờ.",
    "Đã tuyên truyền, nhắc nhở ký cam kết không để xảy ra tệ nạn mại dâm.",
    "Nhân viên có hợp đồng lao động, đã khám sức khỏe định kỳ.",
];

struct Ctx<'a> {
    assignment_ids: &'a [Uuid],
    ests: &'a [Est],
    org: &'a Org,
    reference: &'a Reference,
    photo_share: f64,
}

struct Built {
    row: VisitRow,
    revision: RevisionRow,
    violations: Vec<ViolationRow>,
    photos: Vec<Uuid>,
    invalid: bool,
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::<Utc>::from_naive_utc_and_offset(t, Utc)
}

fn build(
    rng: &mut impl Rng,
    cx: &Ctx<'_>,
    slot: &Slot,
    minutes: &mut HashMap<(u8, i32), u32>,
) -> anyhow::Result<Built> {
    let est = &cx.ests[slot.est as usize];
    let team = cx
        .org
        .team_info
        .get(usize::from(slot.team))
        .context("visit of an unknown team")?;
    let template = cx.reference.template(est.kind);

    // Members present: three to five, the one who submits first.
    let mut members = names::shuffled(rng, &team.members);
    members.truncate(rng.gen_range(3..=5).min(members.len()));
    let submitter = members
        .first()
        .map(|u| cx.org.user_id(*u).to_string())
        .unwrap_or_default();
    let members_present: Vec<Uuid> = members
        .iter()
        .filter_map(|u| Uuid::parse_str(cx.org.user_id(*u)).ok())
        .collect();

    // Times: the slot's day is the local (UTC+7) date.
    let local = start_secs(rng, est);
    let started = at(slot.day, local - 7 * 3600);
    let ended = started + TimeDelta::minutes(rng.gen_range(30..=150));
    let received = if rng.gen_bool(0.1) {
        ended + TimeDelta::hours(rng.gen_range(12..=48))
    } else {
        ended + TimeDelta::minutes(rng.gen_range(2..=180))
    };

    // GPS: mostly at the door, sometimes far off, sometimes no fix (basements).
    let (gps, phone_warning) = match rng.gen_range(0..100) {
        0..=91 => {
            let (dx, dy) = gaussian_pair(rng);
            let (lon, lat) = offset_m((est.lon, est.lat), dx * 12.0, dy * 12.0);
            let acc: f64 = rng.gen_range(4.0..25.0);
            (Some((lat, lon, (acc * 10.0).round() / 10.0)), None)
        }
        92..=94 => {
            let dist = rng.gen_range(350.0..900.0);
            let angle = rng.gen_range(0.0..std::f64::consts::TAU);
            let (lon, lat) = offset_m((est.lon, est.lat), dist * angle.cos(), dist * angle.sin());
            (Some((lat, lon, rng.gen_range(8.0..60.0_f64).round())), None)
        }
        _ => (
            None,
            Some("Không bắt được tín hiệu GPS (tầng hầm)".to_string()),
        ),
    };
    let gps = gps.map(|(lat, lon, accuracy_m)| GpsInput {
        lat: (lat * 1e6).round() / 1e6,
        lon: (lon * 1e6).round() / 1e6,
        accuracy_m,
    });

    let new_decree = slot.day >= decree_282_from();
    let (outcome, found) = match slot.finding {
        Finding::Clean => (Outcome::NoViolation, Vec::new()),
        Finding::NotOperating => (Outcome::NotOperating, Vec::new()),
        Finding::Refused => (Outcome::Refused, Vec::new()),
        Finding::Violations => {
            let found = pick_violations(rng, &violations_for(est.kind, new_decree));
            if found.is_empty() {
                (Outcome::NoViolation, found)
            } else {
                (Outcome::ViolationsFound, found)
            }
        }
    };
    let violations: Vec<ViolationInput> = found
        .iter()
        .map(|k| {
            let (lo, hi) = k.fine_m;
            let steps = (hi.saturating_sub(lo)) * 2;
            let millions_x2 = i64::from(lo * 2 + rng.gen_range(0..=steps));
            let mut fine = millions_x2 * 500_000;
            if est.organisation {
                fine *= 2;
            }
            let (code, basis) = if new_decree {
                (k.code_new, k.basis_new)
            } else {
                (
                    k.code_old.unwrap_or(k.code_new),
                    k.basis_old.unwrap_or(k.basis_new),
                )
            };
            ViolationInput {
                code: code.to_string(),
                description: k.description.to_string(),
                legal_basis: basis.to_string(),
                proposed_fine_vnd: fine,
            }
        })
        .collect();
    let answers: Vec<AnswerInput> = match outcome {
        Outcome::NotOperating | Outcome::Refused => Vec::new(),
        _ => template
            .item_codes
            .iter()
            .map(|item| {
                let failed = found.iter().any(|k| k.item == item);
                let result = if failed {
                    AnswerResult::Fail
                } else if rng.gen_bool(0.06) {
                    AnswerResult::NotApplicable
                } else {
                    AnswerResult::Pass
                };
                AnswerInput {
                    item: item.clone(),
                    result,
                    note: failed.then(|| "Đã lập biên bản".to_string()),
                }
            })
            .collect(),
    };
    let minutes_no = (!violations.is_empty()).then(|| {
        let n = minutes.entry((slot.team, slot.day.year())).or_insert(0);
        *n += 1;
        format!("{:03}/BB-VPHC/{}", n, slot.day.year())
    });
    let follow_up_on = (!violations.is_empty()).then(|| slot.day + TimeDelta::days(30));
    let photos: Vec<Uuid> = {
        let p = if violations.is_empty() { 0.04 } else { 0.5 } * cx.photo_share;
        if rng.gen_bool(p.clamp(0.0, 1.0)) {
            (0..rng.gen_range(1..=3)).map(|_| new_id(rng)).collect()
        } else {
            Vec::new()
        }
    };
    let notes = match outcome {
        Outcome::NotOperating => Some("Cơ sở đóng cửa, không hoạt động tại thời điểm kiểm tra.".to_string()),
        Outcome::Refused => Some("Chủ cơ sở không hợp tác, không cho đoàn vào kiểm tra; đã lập biên bản có người chứng kiến.".to_string()),
        Outcome::NoViolation if rng.gen_bool(0.3) => Some(CLEAN_NOTES[rng.gen_range(0..CLEAN_NOTES.len())].to_string()),
        _ => None,
    };
    let input = VisitInput {
        establishment_id: est.id,
        team_id: team.id,
        assignment_id: cx.assignment_ids.get(slot.assignment as usize).copied(),
        members_present,
        started_at: utc(started),
        ended_at: utc(ended),
        gps,
        gps_warning: phone_warning,
        template_id: template.id,
        template_version: u32::try_from(template.version).unwrap_or(1),
        answers,
        outcome,
        violations,
        minutes_no,
        follow_up_on,
        photo_ids: photos.clone(),
        notes,
    };
    finish(input, slot, est, &submitter, received, photos)
}

/// Validates like the API, and builds the rows as `service::visits::prepare` would.
fn finish(
    input: VisitInput,
    slot: &Slot,
    est: &Est,
    submitter: &str,
    received: NaiveDateTime,
    photos: Vec<Uuid>,
) -> anyhow::Result<Built> {
    let id = slot.id.to_string();
    let (input, digest, invalid) = match VisitRecord::parse(input.clone(), utc(received)) {
        Ok(record) => {
            let digest = record.digest();
            (record.into_input(), digest, false)
        }
        Err(e) => {
            tracing::warn!(visit = %id, error = ?e, "demo visit does not validate");
            (input, String::new(), true)
        }
    };
    let body = serde_json::to_string(&input)?;
    let digest = if invalid {
        hex::encode(Sha256::digest(body.as_bytes()))
    } else {
        digest
    };
    let (distance_m, gps_warning) = doi178_shared::geo::gps_distance_and_warning(
        input.gps.as_ref().map(|g| (g.lat, g.lon)),
        Some((est.lat, est.lon)),
        input.gps_warning.as_deref(),
    );
    let violations: Vec<ViolationRow> = input
        .violations
        .iter()
        .enumerate()
        .map(|(i, v)| ViolationRow {
            visit_id: id.clone(),
            idx: i as i32,
            code: v.code.clone(),
            description: v.description.clone(),
            legal_basis: v.legal_basis.clone(),
            proposed_fine_vnd: v.proposed_fine_vnd,
        })
        .collect();
    let reviewed = received.date() + TimeDelta::days(10) < demo_today();
    let updated_at = if reviewed {
        received + TimeDelta::days(2)
    } else {
        received
    };
    let row = VisitRow {
        id: id.clone(),
        revision: 1,
        establishment_id: input.establishment_id.to_string(),
        team_id: input.team_id.to_string(),
        assignment_id: input.assignment_id.map(|a| a.to_string()),
        submitted_by: submitter.to_string(),
        started_at: input.started_at.naive_utc(),
        ended_at: input.ended_at.naive_utc(),
        received_at: received,
        lat: input.gps.as_ref().map(|g| g.lat),
        lon: input.gps.as_ref().map(|g| g.lon),
        accuracy_m: input.gps.as_ref().map(|g| g.accuracy_m),
        distance_m,
        gps_warning,
        template_id: input.template_id.to_string(),
        template_version: i32::try_from(input.template_version).unwrap_or(1),
        outcome: input.outcome,
        minutes_no: input.minutes_no.clone(),
        follow_up_on: input.follow_up_on,
        violation_count: violations.len() as i32,
        total_fine_vnd: violations.iter().map(|v| v.proposed_fine_vnd).sum(),
        review_status: if reviewed {
            ReviewStatus::Accepted
        } else {
            ReviewStatus::Submitted
        },
        review_comment: None,
        original_digest: digest.clone(),
        digest: digest.clone(),
        body: body.clone(),
        updated_at,
        seq: 0,
    };
    let revision = RevisionRow {
        visit_id: id,
        revision: 1,
        body,
        digest,
        submitted_by: submitter.to_string(),
        received_at: received,
        reason: None,
    };
    Ok(Built {
        row,
        revision,
        violations,
        photos,
        invalid,
    })
}

/// Builds and inserts every visit of the schedule.
#[allow(clippy::too_many_arguments)]
pub fn insert_all(
    db: &Db,
    seed: u64,
    slots: &[Slot],
    assignment_ids: &[Uuid],
    ests: &[Est],
    _sites: &Sites,
    org: &Org,
    reference: &Reference,
) -> anyhow::Result<Inserted> {
    let mut rng = rng_for(seed, stream::VISITS);
    // About one photo for every 25 visits; without scaling, a quarter of a photo per visit.
    let budget = (slots.len() / 25).clamp(10, MAX_PHOTOS);
    let photo_share = (budget as f64 / (slots.len().max(1) as f64 * 0.26)).min(1.0);
    let cx = Ctx {
        assignment_ids,
        ests,
        org,
        reference,
        photo_share,
    };
    let mut minutes: HashMap<(u8, i32), u32> = HashMap::new();
    let mut out = Inserted::default();
    let bar = progress(slots.len() as u64, "visits");
    for chunk in slots.chunks(VISITS_PER_TX) {
        let mut built = Vec::with_capacity(chunk.len());
        for slot in chunk {
            built.push(build(&mut rng, &cx, slot, &mut minutes)?);
        }
        db.write(|c| -> anyhow::Result<()> {
            let first = reserve_seq(c, built.len())?;
            for (i, b) in built.iter_mut().enumerate() {
                b.row.seq = first + i as i64;
            }
            let rows: Vec<&VisitRow> = built.iter().map(|b| &b.row).collect();
            for part in rows.chunks(BATCH) {
                let part: Vec<VisitRow> = part.iter().map(|r| (*r).clone()).collect();
                crate::insert_rows!(c, visits::table, &part).context("inserting visits")?;
            }
            let revisions: Vec<RevisionRow> = built.iter().map(|b| b.revision.clone()).collect();
            for part in revisions.chunks(BATCH) {
                crate::insert_rows!(c, visit_revisions::table, part)
                    .context("inserting visit revisions")?;
            }
            let violations: Vec<ViolationRow> = built
                .iter()
                .flat_map(|b| b.violations.iter().cloned())
                .collect();
            for part in violations.chunks(BATCH) {
                crate::insert_rows!(c, visit_violations::table, part)
                    .context("inserting violations")?;
            }
            let links: Vec<(String, String)> = built
                .iter()
                .flat_map(|b| b.photos.iter().map(|p| (b.row.id.clone(), p.to_string())))
                .collect();
            for part in links.chunks(BATCH) {
                let values: Vec<_> = part
                    .iter()
                    .map(|(v, p)| {
                        (
                            visit_photos::visit_id.eq(v.as_str()),
                            visit_photos::photo_id.eq(p.as_str()),
                        )
                    })
                    .collect();
                crate::insert_rows!(c, visit_photos::table, values)
                    .context("inserting photo links")?;
            }
            crate::db::audit_chain::bulk(
                c,
                &crate::db::audit_chain::Who::system("demo"),
                "visits",
                built.len(),
            )?;
            Ok(())
        })?;
        for b in &built {
            out.visits += 1;
            out.invalid += usize::from(b.invalid);
            if b.row.violation_count > 0 {
                out.with_violations += 1;
            }
            for p in &b.photos {
                if out.photo_jobs.len() < MAX_PHOTOS {
                    out.photo_jobs.push(PhotoJob {
                        id: *p,
                        uploaded_by: b.row.submitted_by.clone(),
                        taken_at: b.row.started_at + TimeDelta::minutes(10),
                        created_at: b.row.received_at,
                    });
                }
            }
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    if out.invalid > 0 {
        tracing::warn!(
            invalid = out.invalid,
            "some demo visits do not pass VisitRecord::parse"
        );
    }
    Ok(out)
}
