//! The visit schedule of the demo (which establishment is visited by which team on which day, of
//! which kind, and whether violations are found), the assignments the visits belong to, the
//! current assignments around "today" in every status, and the tips.
//!
//! Everything here is compact (indexes and dates) so that two million visits fit in memory; the
//! database rows are built chunk by chunk when they are inserted.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use chrono::{Datelike, NaiveDate, TimeDelta};
use diesel::ExpressionMethods as _;
use doi178_shared::tip::{TipChannel, TipStatus};
use rand::Rng;
use uuid::Uuid;

use super::establishments::{Est, Sites};
use super::kinds::Kind;
use super::names;
use super::people::{Org, HUE};
use super::{
    at, date, demo_today, history_end, new_id, progress, reserve_seq, rng_for, stream, DemoArgs,
    BATCH,
};
use crate::db::assignments::AssignmentRow;
use crate::db::schema::{assignment_establishments, assignments, tips};
use crate::db::tips::TipRow;
use crate::db::Db;

// The demo's assignments use the product's own vocabularies.
pub use doi178_shared::assignment::{AssignmentKind as AKind, AssignmentStatus as AStatus};

/// What a scheduled visit finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    Clean,
    Violations,
    NotOperating,
    Refused,
}

/// One visit of the schedule.
#[derive(Debug, Clone)]
pub struct Slot {
    pub id: Uuid,
    pub est: u32,
    pub team: u8,
    pub day: NaiveDate,
    pub kind: AKind,
    pub finding: Finding,
    /// Index into [`Plans::specs`]; `u32::MAX` until assigned.
    pub assignment: u32,
    /// Index (into the sorted schedule) of the visit this one follows up; `u32::MAX` if none.
    pub follow_up_of: u32,
}

const NONE: u32 = u32::MAX;

/// The team that inspects an establishment: a commune team for some establishments in its
/// commune, otherwise the province's team.
fn team_for(rng: &mut impl Rng, est: &Est, sites: &Sites, org: &Org) -> u8 {
    let site = sites.get(usize::from(est.site));
    let team = if site.province == HUE {
        match org.commune_team(&site.code) {
            Some(t) if rng.gen_bool(0.5) => t,
            _ => org.hue_team,
        }
    } else {
        org.quang_tri_team
    };
    u8::try_from(team).unwrap_or(0)
}

fn visit_weight(e: &Est) -> f64 {
    let span = (e.open_to - e.open_from).num_days();
    if span < 1 {
        return 0.0;
    }
    let risk = [1.0, 2.0, 4.0][usize::from(e.risk.min(2))];
    let open = if e.operating { 1.0 } else { 0.5 };
    risk * open * e.kind.violation_factor() * (span as f64 / 680.0).min(1.0)
}

fn finding(rng: &mut impl Rng, est: &Est, kind: AKind) -> Finding {
    let roll: f64 = rng.gen();
    if roll < 0.025 || (!est.operating && roll < 0.15) {
        return Finding::NotOperating;
    }
    if roll < 0.03 {
        return Finding::Refused;
    }
    let mut p = 0.10 * est.kind.violation_factor() * (1.0 + 0.6 * f64::from(est.risk));
    match kind {
        AKind::Unannounced | AKind::Tip => p *= 1.6,
        AKind::FollowUp => p *= 0.5,
        AKind::Planned => {}
    }
    if rng.gen_bool(p.clamp(0.0, 0.9)) {
        Finding::Violations
    } else {
        Finding::Clean
    }
}

/// The visits of the two demo years, sorted by day.
pub fn schedule(args: &DemoArgs, sites: &Sites, ests: &[Est], org: &Org) -> Vec<Slot> {
    let mut rng = rng_for(args.seed, stream::SCHEDULE);
    let total = args.visits;
    let mut cum = Vec::with_capacity(ests.len());
    let mut acc = 0.0;
    for e in ests {
        acc += visit_weight(e);
        cum.push(acc);
    }
    if total == 0 || acc <= 0.0 {
        return Vec::new();
    }
    let base = ((total as f64) * 0.9).round() as usize;
    let mut slots: Vec<Slot> = Vec::with_capacity(total);
    let base_slot = |rng: &mut rand_chacha::ChaCha8Rng| -> Slot {
        let r = rng.gen_range(0.0..acc);
        let i = cum.partition_point(|c| *c <= r).min(ests.len() - 1);
        let est = &ests[i];
        let span = (est.open_to - est.open_from).num_days().max(0);
        let day = est.open_from + TimeDelta::days(rng.gen_range(0..=span));
        let kind = match rng.gen_range(0..100) {
            0..=77 => AKind::Planned,
            78..=92 => AKind::Unannounced,
            _ => AKind::Tip,
        };
        Slot {
            id: new_id(rng),
            est: i as u32,
            team: team_for(rng, est, sites, org),
            day,
            kind,
            finding: finding(rng, est, kind),
            assignment: NONE,
            follow_up_of: NONE,
        }
    };
    for _ in 0..base.max(1) {
        slots.push(base_slot(&mut rng));
    }
    slots.sort_by_key(|s| s.day);
    // Follow-ups (hậu kiểm) of visits that found violations, 25–60 days later.
    let mut followups = Vec::new();
    for (idx, s) in slots.iter().enumerate() {
        if slots.len() + followups.len() >= total {
            break;
        }
        if s.finding != Finding::Violations || !rng.gen_bool(0.75) {
            continue;
        }
        let est = &ests[s.est as usize];
        let day = s.day + TimeDelta::days(rng.gen_range(25..=60));
        if day > est.open_to || day > history_end() {
            continue;
        }
        followups.push(Slot {
            id: new_id(&mut rng),
            est: s.est,
            team: s.team,
            day,
            kind: AKind::FollowUp,
            finding: finding(&mut rng, est, AKind::FollowUp),
            assignment: NONE,
            follow_up_of: idx as u32,
        });
    }
    slots.extend(followups);
    while slots.len() < total {
        let s = base_slot(&mut rng);
        slots.push(s);
    }
    // Sort by day and fix the follow-up links to the new positions.
    let mut order: Vec<u32> = (0..slots.len() as u32).collect();
    order.sort_by_key(|i| (slots[*i as usize].day, *i));
    let mut new_pos = vec![0u32; slots.len()];
    for (new, old) in order.iter().enumerate() {
        new_pos[*old as usize] = new as u32;
    }
    let mut sorted: Vec<Slot> = order.iter().map(|i| slots[*i as usize].clone()).collect();
    drop(slots);
    for s in &mut sorted {
        if s.follow_up_of != NONE {
            s.follow_up_of = new_pos[s.follow_up_of as usize];
        }
    }
    sorted
}

/// An assignment, compactly.
#[derive(Debug, Clone)]
pub struct Spec {
    pub id: Uuid,
    pub team: u8,
    pub kind: AKind,
    pub status: AStatus,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    /// Index into the schedule of the visit followed up.
    pub follow_up_of: u32,
    /// Index into the tips.
    pub tip: u32,
    pub note: Option<&'static str>,
    /// Establishment indexes.
    pub establishments: Vec<u32>,
    pub last_visit: Option<NaiveDate>,
}

pub struct Plans {
    pub specs: Vec<Spec>,
}

/// A tip, compactly; its row is built when inserted.
#[derive(Debug, Clone)]
pub struct TipSpec {
    pub id: Uuid,
    pub est: Option<u32>,
    /// Site of the tip (commune).
    pub site: u16,
    pub received: NaiveDate,
    pub received_secs: i64,
    pub status: TipStatus,
    pub handled: Option<NaiveDate>,
    pub assignment: u32,
    pub channel: TipChannel,
    pub anonymous: bool,
}

const CHANNELS: &[TipChannel] = &[
    TipChannel::Hotline,
    TipChannel::Letter,
    TipChannel::InPerson,
    TipChannel::Online,
    TipChannel::AgencyReferral,
];
/// Days to handle a tip.
pub const TIP_DAYS: i64 = 15;

fn month_bounds(d: NaiveDate) -> (NaiveDate, NaiveDate) {
    let start = date(d.year(), d.month(), 1);
    let next = if d.month() == 12 {
        date(d.year() + 1, 1, 1)
    } else {
        date(d.year(), d.month() + 1, 1)
    };
    (start, next - TimeDelta::days(1))
}

fn week_bounds(d: NaiveDate) -> (NaiveDate, NaiveDate) {
    let start = d - TimeDelta::days(i64::from(d.weekday().num_days_from_monday()));
    (start, start + TimeDelta::days(6))
}

fn status_for(window_end: NaiveDate) -> AStatus {
    if window_end < demo_today() {
        AStatus::Done
    } else {
        AStatus::Released
    }
}

/// Establishments each team may inspect (indexes into `ests`).
fn jurisdiction(ests: &[Est], sites: &Sites, org: &Org) -> Vec<Vec<u32>> {
    let mut out = vec![Vec::new(); org.team_info.len()];
    for (i, e) in ests.iter().enumerate() {
        let site = sites.get(usize::from(e.site));
        for (t, info) in org.team_info.iter().enumerate() {
            let inside = match &info.commune {
                Some(c) => *c == site.code,
                None => info.province == site.province,
            };
            if inside {
                out[t].push(i as u32);
            }
        }
    }
    out
}

/// Groups the scheduled visits into assignments, adds the current ones (drafts, released,
/// cancelled) and the tips; sets `Slot::assignment`.
pub fn assignments(
    seed: u64,
    slots: &mut [Slot],
    ests: &[Est],
    sites: &Sites,
    org: &Org,
) -> (Plans, Vec<TipSpec>) {
    let mut rng = rng_for(seed, stream::PLANNING);
    let mut specs: Vec<Spec> = Vec::new();
    let mut tips: Vec<TipSpec> = Vec::new();
    let mut groups: HashMap<(u8, AKind, NaiveDate), u32> = HashMap::new();
    for s in slots.iter_mut() {
        let key_window = match s.kind {
            AKind::Planned => Some(month_bounds(s.day)),
            AKind::Unannounced => Some(week_bounds(s.day)),
            AKind::FollowUp | AKind::Tip => None,
        };
        let idx = match key_window {
            Some((start, end)) => *groups.entry((s.team, s.kind, start)).or_insert_with(|| {
                specs.push(Spec {
                    id: new_id(&mut rng),
                    team: s.team,
                    kind: s.kind,
                    status: status_for(end),
                    window_start: start,
                    window_end: end,
                    follow_up_of: NONE,
                    tip: NONE,
                    note: None,
                    establishments: Vec::new(),
                    last_visit: None,
                });
                (specs.len() - 1) as u32
            }),
            None => {
                let (start, end) = match s.kind {
                    AKind::FollowUp => (s.day - TimeDelta::days(10), s.day + TimeDelta::days(14)),
                    _ => (s.day - TimeDelta::days(2), s.day + TimeDelta::days(7)),
                };
                let mut tip = NONE;
                if s.kind == AKind::Tip {
                    let received = s.day - TimeDelta::days(rng.gen_range(1..=6));
                    let handled = s.day + TimeDelta::days(rng.gen_range(1..=5));
                    tips.push(TipSpec {
                        id: new_id(&mut rng),
                        est: Some(s.est),
                        site: ests[s.est as usize].site,
                        received,
                        received_secs: rng.gen_range(1..12 * 3600),
                        status: if handled < demo_today() {
                            TipStatus::Handled
                        } else {
                            TipStatus::Classified
                        },
                        handled: (handled < demo_today()).then_some(handled),
                        assignment: specs.len() as u32,
                        channel: CHANNELS[rng.gen_range(0..CHANNELS.len())],
                        anonymous: rng.gen_bool(0.4),
                    });
                    tip = (tips.len() - 1) as u32;
                }
                specs.push(Spec {
                    id: new_id(&mut rng),
                    team: s.team,
                    kind: s.kind,
                    status: status_for(end),
                    window_start: start,
                    window_end: end,
                    follow_up_of: s.follow_up_of,
                    tip,
                    note: None,
                    establishments: Vec::new(),
                    last_visit: None,
                });
                (specs.len() - 1) as u32
            }
        };
        s.assignment = idx;
        let spec = &mut specs[idx as usize];
        if !spec.establishments.contains(&s.est) {
            spec.establishments.push(s.est);
        }
        spec.last_visit = Some(spec.last_visit.map_or(s.day, |d| d.max(s.day)));
    }

    // Current work around "today", for every team: released, drafts (one unannounced),
    // a follow-up of the team's latest violation, and a cancelled plan.
    let reach = jurisdiction(ests, sites, org);
    let today = demo_today();
    let mut visited = vec![false; ests.len()];
    let mut last_violation: BTreeMap<u8, u32> = BTreeMap::new();
    for (i, s) in slots.iter().enumerate() {
        visited[s.est as usize] = true;
        if s.finding == Finding::Violations {
            last_violation.insert(s.team, i as u32);
        }
    }
    for (t, pool) in reach.iter().enumerate() {
        let team = u8::try_from(t).unwrap_or(0);
        if pool.is_empty() {
            continue;
        }
        // Never-inspected and high-risk establishments first.
        let mut ranked: Vec<u32> = pool
            .iter()
            .copied()
            .filter(|e| ests[*e as usize].operating)
            .collect();
        if ranked.is_empty() {
            ranked = pool.clone();
        }
        ranked.sort_by_key(|e| {
            let est = &ests[*e as usize];
            (visited[*e as usize], std::cmp::Reverse(est.risk), *e)
        });
        let take = |n: usize, rng: &mut rand_chacha::ChaCha8Rng| -> Vec<u32> {
            let head = ranked.len().min(n * 3).max(1);
            let mut out: Vec<u32> = Vec::new();
            for _ in 0..n * 4 {
                if out.len() >= n.min(ranked.len()) {
                    break;
                }
                let e = ranked[rng.gen_range(0..head)];
                if !out.contains(&e) {
                    out.push(e);
                }
            }
            out
        };
        let add = |specs: &mut Vec<Spec>,
                   rng: &mut rand_chacha::ChaCha8Rng,
                   kind: AKind,
                   status: AStatus,
                   start: NaiveDate,
                   days: i64,
                   ests: Vec<u32>,
                   note: Option<&'static str>| {
            specs.push(Spec {
                id: new_id(rng),
                team,
                kind,
                status,
                window_start: start,
                window_end: start + TimeDelta::days(days),
                follow_up_of: NONE,
                tip: NONE,
                note,
                establishments: ests,
                last_visit: None,
            });
        };
        let released = take(12, &mut rng);
        add(
            &mut specs,
            &mut rng,
            AKind::Planned,
            AStatus::Released,
            today - TimeDelta::days(2),
            27,
            released,
            Some("Kế hoạch kiểm tra tháng 11–12/2026: ưu tiên cơ sở chưa được kiểm tra"),
        );
        let draft = take(15, &mut rng);
        add(
            &mut specs,
            &mut rng,
            AKind::Planned,
            AStatus::Draft,
            date(2026, 12, 16),
            30,
            draft,
            Some("Dự thảo kế hoạch kiểm tra tháng 12/2026 – 01/2027"),
        );
        let secret = take(3, &mut rng);
        add(
            &mut specs,
            &mut rng,
            AKind::Unannounced,
            AStatus::Draft,
            today + TimeDelta::days(6),
            6,
            secret,
            Some("Kiểm tra đột xuất theo dấu hiệu vi phạm"),
        );
        let released_secret = take(2, &mut rng);
        add(
            &mut specs,
            &mut rng,
            AKind::Unannounced,
            AStatus::Released,
            today - TimeDelta::days(1),
            6,
            released_secret,
            Some("Kiểm tra đột xuất"),
        );
        let cancelled = take(5, &mut rng);
        add(
            &mut specs,
            &mut rng,
            AKind::Planned,
            AStatus::Cancelled,
            date(2026, 10, 5),
            20,
            cancelled,
            Some("Hủy do trùng lịch kiểm tra liên ngành của tỉnh"),
        );
        if let Some(v) = last_violation.get(&team) {
            let s = &slots[*v as usize];
            add(
                &mut specs,
                &mut rng,
                AKind::FollowUp,
                AStatus::Released,
                today - TimeDelta::days(3),
                21,
                vec![s.est],
                Some("Hậu kiểm việc khắc phục vi phạm"),
            );
            if let Some(last) = specs.last_mut() {
                last.follow_up_of = *v;
            }
        }
        // Open tips of the team's area: received, being verified, classified with a draft.
        for (status, days_ago) in [
            (TipStatus::Received, 1),
            (TipStatus::Verifying, 4),
            (TipStatus::Classified, 6),
            (TipStatus::Received, 25),
        ] {
            let est = take(1, &mut rng).first().copied();
            let site = est.map_or(ests[pool[0] as usize].site, |e| ests[e as usize].site);
            let mut assignment = NONE;
            if status == TipStatus::Classified {
                if let Some(e) = est {
                    add(
                        &mut specs,
                        &mut rng,
                        AKind::Tip,
                        AStatus::Draft,
                        today + TimeDelta::days(1),
                        7,
                        vec![e],
                        Some("Xác minh tin báo"),
                    );
                    assignment = (specs.len() - 1) as u32;
                }
            }
            tips.push(TipSpec {
                id: new_id(&mut rng),
                est,
                site,
                received: today - TimeDelta::days(days_ago),
                received_secs: rng.gen_range(1..10 * 3600),
                status,
                handled: None,
                assignment,
                channel: CHANNELS[rng.gen_range(0..CHANNELS.len())],
                anonymous: rng.gen_bool(0.5),
            });
            if assignment != NONE {
                if let Some(s) = specs.get_mut(assignment as usize) {
                    s.tip = (tips.len() - 1) as u32;
                }
            }
        }
    }
    // Tips that were handled without an inspection (not founded, or passed to the police).
    let extra = tips.len() / 3;
    for _ in 0..extra {
        let e = rng.gen_range(0..ests.len().max(1));
        let Some(est) = ests.get(e) else { break };
        let received = date(2025, 1, 6) + TimeDelta::days(rng.gen_range(0..670));
        let handled = received + TimeDelta::days(rng.gen_range(2..=20));
        tips.push(TipSpec {
            id: new_id(&mut rng),
            est: rng.gen_bool(0.7).then_some(e as u32),
            site: est.site,
            received,
            received_secs: rng.gen_range(1..12 * 3600),
            status: if handled < today {
                TipStatus::Handled
            } else {
                TipStatus::Verifying
            },
            handled: (handled < today).then_some(handled),
            assignment: NONE,
            channel: CHANNELS[rng.gen_range(0..CHANNELS.len())],
            anonymous: rng.gen_bool(0.4),
        });
    }
    (Plans { specs }, tips)
}

fn tip_content(kind: Kind, commune: &str, variant: usize) -> String {
    let what = match kind {
        Kind::Karaoke => "quán karaoke",
        Kind::DanceHall => "vũ trường",
        Kind::MassageSauna => "cơ sở massage, xông hơi",
        Kind::Hotel => "khách sạn",
        Kind::Guesthouse => "nhà nghỉ",
        Kind::Bar => "quán bar",
        Kind::RestaurantHostess => "nhà hàng",
        Kind::Other => "quán cà phê",
    };
    match variant % 4 {
        0 => format!("Người dân phản ánh {what} tại {commune} có nhân viên nữ ngồi tiếp khách, nghi có hoạt động mua bán dâm."),
        1 => format!("Tin báo {what} tại {commune} hoạt động quá giờ quy định, khách ra vào nhiều vào ban đêm."),
        2 => format!("Phản ánh {what} tại {commune} không đăng ký lưu trú, có người lạ thường xuyên ra vào."),
        _ => format!("Đơn tố giác {what} tại {commune} có dấu hiệu môi giới mại dâm qua mạng xã hội."),
    }
}

fn leader_id(org: &Org, team: u8) -> String {
    org.team_info
        .get(usize::from(team))
        .and_then(|t| t.members.first())
        .map(|u| org.user_id(*u).to_string())
        .unwrap_or_default()
}

/// Inserts the assignments (with their establishment links) and the tips.
pub fn insert_assignments_and_tips(
    db: &Db,
    plans: &Plans,
    tips_specs: &[TipSpec],
    slots: &[Slot],
    ests: &[Est],
    sites: &Sites,
    org: &Org,
) -> anyhow::Result<()> {
    let bar = progress((plans.specs.len() + tips_specs.len()) as u64, "assignments");
    const PER_TX: usize = 20_000;
    for chunk in plans.specs.chunks(PER_TX) {
        db.write(|c| -> anyhow::Result<()> {
            let first = reserve_seq(c, chunk.len())?;
            let mut rows = Vec::with_capacity(chunk.len());
            let mut links: Vec<(String, String)> = Vec::new();
            for (i, s) in chunk.iter().enumerate() {
                let created = at(s.window_start - TimeDelta::days(7), 8 * 3600 + 1800);
                let released_at = match s.status {
                    AStatus::Draft => None,
                    AStatus::Cancelled => Some(at(s.window_start - TimeDelta::days(2), 9 * 3600)),
                    _ if s.kind == AKind::Unannounced => Some(at(s.window_start, 7 * 3600)),
                    _ => Some(at(s.window_start - TimeDelta::days(2), 9 * 3600)),
                };
                let closed_at = match s.status {
                    AStatus::Done => Some(at(
                        s.last_visit.unwrap_or(s.window_end) + TimeDelta::days(1),
                        10 * 3600,
                    )),
                    AStatus::Cancelled => Some(at(s.window_start + TimeDelta::days(1), 15 * 3600)),
                    _ => None,
                };
                let updated_at = closed_at.or(released_at).unwrap_or(created);
                rows.push(AssignmentRow {
                    id: s.id.to_string(),
                    team_id: org.teams[usize::from(s.team)].id.clone(),
                    kind: s.kind,
                    status: s.status,
                    window_start: s.window_start,
                    window_end: s.window_end,
                    note: s.note.map(str::to_string),
                    tip_id: tips_specs.get(s.tip as usize).map(|t| t.id.to_string()),
                    follow_up_of: slots.get(s.follow_up_of as usize).map(|v| v.id.to_string()),
                    created_by: leader_id(org, s.team),
                    created_at: created,
                    released_at,
                    closed_at,
                    updated_at,
                    seq: first + i as i64,
                });
                for e in &s.establishments {
                    if let Some(est) = ests.get(*e as usize) {
                        links.push((s.id.to_string(), est.id.to_string()));
                    }
                }
            }
            for part in rows.chunks(BATCH) {
                crate::insert_rows!(c, assignments::table, part)
                    .context("inserting assignments")?;
            }
            for part in links.chunks(BATCH * 2) {
                let values: Vec<_> = part
                    .iter()
                    .map(|(a, e)| {
                        (
                            assignment_establishments::assignment_id.eq(a.as_str()),
                            assignment_establishments::establishment_id.eq(e.as_str()),
                        )
                    })
                    .collect();
                crate::insert_rows!(c, assignment_establishments::table, values)
                    .context("inserting assignment links")?;
            }
            crate::db::audit_chain::bulk(
                c,
                &crate::db::audit_chain::Who::system("demo"),
                "assignments",
                rows.len(),
            )?;
            bar.inc(chunk.len() as u64);
            Ok(())
        })?;
    }
    let hue_staff = org.user_id(org.hue_staff).to_string();
    let qt_staff = org
        .users
        .iter()
        .find(|u| u.username == "tinh.quangtri")
        .map(|u| u.id.clone())
        .unwrap_or_else(|| hue_staff.clone());
    let mut rng = rng_for(0, stream::TIPS);
    for chunk in tips_specs.chunks(PER_TX) {
        db.write(|c| -> anyhow::Result<()> {
            let mut rows = Vec::with_capacity(chunk.len());
            for (i, t) in chunk.iter().enumerate() {
                let site = sites.get(usize::from(t.site));
                let kind = t
                    .est
                    .and_then(|e| ests.get(e as usize))
                    .map_or(Kind::Karaoke, |e| e.kind);
                let received_at = at(t.received, t.received_secs);
                let handled_at = t.handled.map(|d| at(d, 10 * 3600));
                rows.push(TipRow {
                    id: t.id.to_string(),
                    channel: t.channel,
                    received_at,
                    content: tip_content(kind, &site.full_name, i + t.received.ordinal() as usize),
                    unit_id: site.unit_id.clone(),
                    establishment_id: t
                        .est
                        .and_then(|e| ests.get(e as usize))
                        .map(|e| e.id.to_string()),
                    reporter_contact: (!t.anonymous).then(|| names::phone(&mut rng, site.province)),
                    deadline: t.received + TimeDelta::days(TIP_DAYS),
                    status: t.status,
                    handled_at,
                    assignment_id: plans
                        .specs
                        .get(t.assignment as usize)
                        .map(|a| a.id.to_string()),
                    created_by: if site.province == HUE {
                        hue_staff.clone()
                    } else {
                        qt_staff.clone()
                    },
                    created_at: received_at,
                    updated_at: handled_at.unwrap_or(received_at),
                });
            }
            for part in rows.chunks(BATCH) {
                crate::insert_rows!(c, tips::table, part).context("inserting tips")?;
            }
            crate::db::audit_chain::bulk(
                c,
                &crate::db::audit_chain::Who::system("demo"),
                "tips",
                rows.len(),
            )?;
            bar.inc(chunk.len() as u64);
            Ok(())
        })?;
    }
    bar.finish_and_clear();
    Ok(())
}
