//! Establishments of the demo: where they are (communes of Huế and Quảng Trị, points inside the
//! commune's boundary, clustered around a few settlement "hubs"), what they are (all types, with
//! Vietnamese names, addresses, papers) and their insertion in streamed transactions.

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use doi178_shared::establishment::{EstablishmentStatus, RiskLevel};
use doi178_shared::unit::{UnitKind, UnitLevel};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use super::geo::{Shape, Shapes};
use super::kinds::Kind;
use super::names;
use super::people::{HUE, QUANG_TRI};
use super::{
    at, date, new_id, progress, reserve_seq, rng_for, stream, DemoArgs, BATCH, ROWS_PER_TX,
};
use crate::db::establishments::EstablishmentRow;
use crate::db::schema::establishments;
use crate::db::units::UnitRow;
use crate::db::Db;

/// A commune where establishments are placed.
pub struct Site {
    pub code: String,
    pub unit_id: String,
    pub full_name: String,
    pub province: &'static str,
    pub urban: bool,
    pub shape: Shape,
    /// Settlement centres (lon, lat) inside the shape.
    pub hubs: Vec<(f64, f64)>,
    /// Relative share of the province's establishments.
    pub weight: f64,
}

pub struct Sites {
    pub sites: Vec<Site>,
    /// Indexes of the Huế and Quảng Trị sites.
    pub hue: Vec<usize>,
    pub quang_tri: Vec<usize>,
}

impl Sites {
    /// Builds the sites from the commune shapes and the unit list (names, kinds).
    pub fn load(seed: u64, mut shapes: Shapes, units: &[UnitRow]) -> anyhow::Result<Sites> {
        let mut rng = rng_for(seed, stream::SITES);
        let mut sites = Vec::new();
        let (mut hue, mut quang_tri) = (Vec::new(), Vec::new());
        for unit in units.iter().filter(|u| u.level == UnitLevel::Commune) {
            let province = match unit.parent_id.as_deref() {
                Some("2025:46") => HUE,
                Some("2025:44") => QUANG_TRI,
                _ => continue,
            };
            let Some(shape) = shapes.take(&unit.code) else {
                continue;
            };
            let urban = unit.kind == UnitKind::Ward;
            let area = shape.area_km2.unwrap_or(50.0).max(1.0);
            // Wards are dense; rural communes get establishments along roads, fewer per km².
            let weight = if urban {
                6.0 + area.sqrt() * 0.5
            } else {
                1.0 + area.sqrt() * 0.1
            };
            let hub_count = if urban {
                2
            } else {
                1 + usize::from(area > 100.0)
            };
            let first = shape.sample_uniform(&mut rng);
            let mut hubs = vec![first];
            for _ in 1..hub_count {
                hubs.push(shape.sample_uniform(&mut rng));
            }
            let idx = sites.len();
            if province == HUE {
                hue.push(idx);
            } else {
                quang_tri.push(idx);
            }
            sites.push(Site {
                code: unit.code.clone(),
                unit_id: unit.id.clone(),
                full_name: unit.full_name.clone(),
                province,
                urban,
                shape,
                hubs,
                weight,
            });
        }
        if hue.is_empty() || quang_tri.is_empty() {
            anyhow::bail!("no commune shapes for Huế or Quảng Trị");
        }
        Ok(Sites {
            sites,
            hue,
            quang_tri,
        })
    }

    pub fn get(&self, idx: usize) -> &Site {
        &self.sites[idx]
    }
}

/// What later phases need to know about an establishment; the row itself is not kept.
#[derive(Debug, Clone)]
pub struct Est {
    pub id: Uuid,
    pub kind: Kind,
    pub site: u16,
    pub lat: f64,
    pub lon: f64,
    /// 0 low, 1 medium, 2 high.
    pub risk: u8,
    /// First and last day it could be visited.
    pub open_from: NaiveDate,
    pub open_to: NaiveDate,
    pub operating: bool,
    /// Organisations (companies) pay double fines.
    pub organisation: bool,
}

/// Type mix of the demo (per mille); every type occurs.
const MIX: &[(Kind, u32)] = &[
    (Kind::Karaoke, 230),
    (Kind::DanceHall, 20),
    (Kind::MassageSauna, 120),
    (Kind::Hotel, 120),
    (Kind::Guesthouse, 220),
    (Kind::Bar, 60),
    (Kind::RestaurantHostess, 100),
    (Kind::Other, 130),
];

fn pick_kind(rng: &mut impl Rng) -> Kind {
    let total: u32 = MIX.iter().map(|(_, w)| w).sum();
    let mut r = rng.gen_range(0..total);
    for (kind, w) in MIX {
        if r < *w {
            return *kind;
        }
        r -= w;
    }
    Kind::Other
}

/// Deterministic stream of establishment rows: first the Huế ones, then Quảng Trị.
pub struct Generator<'a> {
    rng: ChaCha8Rng,
    sites: &'a Sites,
    hue_cum: Vec<f64>,
    qt_cum: Vec<f64>,
    hue_count: usize,
    total: usize,
    produced: usize,
}

/// Quảng Trị gets one establishment for every eight in Huế (at least 10).
pub fn quang_tri_count(hue: usize) -> usize {
    if hue == 0 {
        0
    } else {
        (hue / 8).max(10)
    }
}

fn cumulative(sites: &Sites, idx: &[usize]) -> Vec<f64> {
    let mut acc = 0.0;
    idx.iter()
        .map(|i| {
            acc += sites.get(*i).weight;
            acc
        })
        .collect()
}

fn pick_cum(rng: &mut impl Rng, cum: &[f64]) -> usize {
    let total = cum.last().copied().unwrap_or(0.0);
    let r = rng.gen_range(0.0..total.max(f64::MIN_POSITIVE));
    cum.partition_point(|c| *c <= r)
        .min(cum.len().saturating_sub(1))
}

impl<'a> Generator<'a> {
    pub fn new(seed: u64, sites: &'a Sites, hue_count: usize) -> Generator<'a> {
        Generator {
            rng: rng_for(seed, stream::ESTABLISHMENTS),
            hue_cum: cumulative(sites, &sites.hue),
            qt_cum: cumulative(sites, &sites.quang_tri),
            sites,
            hue_count,
            total: hue_count + quang_tri_count(hue_count),
            produced: 0,
        }
    }

    pub fn total(&self) -> usize {
        self.total
    }

    fn papers_no(rng: &mut impl Rng, province: &str, organisation: bool) -> String {
        let tax_prefix = if province == HUE { "33" } else { "32" };
        if organisation {
            format!("{tax_prefix}{:08}", rng.gen_range(0..100_000_000u32))
        } else {
            format!("{tax_prefix}A8{:06}", rng.gen_range(0..1_000_000u32))
        }
    }

    /// The next establishment, or `None` when all have been produced.
    pub fn next_row(&mut self) -> Option<(EstablishmentRow, Est)> {
        if self.produced >= self.total {
            return None;
        }
        let n = self.produced;
        self.produced += 1;
        let rng = &mut self.rng;
        let in_hue = n < self.hue_count;
        // The first establishments of each province cycle through all types so that even a tiny
        // demo has every type.
        let local = if in_hue { n } else { n - self.hue_count };
        let kind = if local < Kind::ALL.len() {
            Kind::ALL[local]
        } else {
            pick_kind(rng)
        };
        let site_idx = if in_hue {
            self.sites.hue[pick_cum(rng, &self.hue_cum)]
        } else {
            self.sites.quang_tri[pick_cum(rng, &self.qt_cum)]
        };
        let site = self.sites.get(site_idx);
        let (lon, lat) = if rng.gen_bool(0.75) {
            let hub = site.hubs[rng.gen_range(0..site.hubs.len())];
            let sigma = if site.urban { 700.0 } else { 1800.0 };
            site.shape.sample_near(rng, hub, sigma)
        } else {
            site.shape.sample_uniform(rng)
        };
        let id = new_id(rng);
        let name = names::establishment_name(rng, kind);
        let address = names::address(rng, site.province, site.urban, &site.full_name);
        let owner = names::person(rng).full();
        let phone = rng.gen_bool(0.9).then(|| names::phone(rng, site.province));
        let organisation = matches!(kind, Kind::Hotel | Kind::DanceHall) || rng.gen_bool(0.2);
        let business_reg_no = Some(Self::papers_no(rng, site.province, organisation));

        // Opened mostly before the history starts; some open during it.
        let opened_on = if rng.gen_bool(0.85) {
            date(2008, 1, 1) + chrono::TimeDelta::days(rng.gen_range(0..6200))
        } else {
            date(2025, 1, 5) + chrono::TimeDelta::days(rng.gen_range(0..560))
        };
        let status_roll: f64 = rng.gen();
        let (status, closed_on) = if status_roll < 0.05 {
            let closed = date(2025, 6, 1) + chrono::TimeDelta::days(rng.gen_range(0..500));
            (
                EstablishmentStatus::Closed,
                Some(closed.max(opened_on + chrono::TimeDelta::days(60))),
            )
        } else if status_roll < 0.09 {
            (EstablishmentStatus::Suspended, None)
        } else {
            (EstablishmentStatus::Operating, None)
        };
        let risk_roll: f64 = rng.gen::<f64>() * kind.violation_factor();
        let risk: u8 = if risk_roll > 0.85 {
            2
        } else if risk_roll > 0.45 {
            1
        } else {
            0
        };
        let needs_licence = matches!(
            kind,
            Kind::Karaoke | Kind::DanceHall | Kind::MassageSauna | Kind::Hotel
        );
        let (licence_no, issued, expires) = if needs_licence && rng.gen_bool(0.93) {
            let issued =
                opened_on.max(date(2015, 1, 1)) + chrono::TimeDelta::days(rng.gen_range(0..400));
            let agency = if site.province == HUE {
                "SVHTT"
            } else {
                "SVHTTDL"
            };
            let no = format!("{}/{}/GP-{agency}", rng.gen_range(1..=480), issued.year());
            let expires = (rng.gen_bool(0.6))
                .then(|| issued + chrono::TimeDelta::days(365 * rng.gen_range(3..=10)));
            (Some(no), Some(issued), expires)
        } else {
            (None, None, None)
        };
        let antt_cert_no = (kind.needs_antt() && rng.gen_bool(0.9))
            .then(|| format!("{}/ĐKANTT", rng.gen_range(1..=2500)));
        let commitment_signed = rng.gen_bool(0.8);
        let commitment_signed_on = commitment_signed.then(|| {
            opened_on.max(date(2023, 1, 1)) + chrono::TimeDelta::days(rng.gen_range(0..600))
        });
        let created_at = if opened_on < date(2024, 11, 1) {
            at(date(2024, 11, 20), rng.gen_range(7 * 3600..10 * 3600))
        } else {
            at(
                opened_on + chrono::TimeDelta::days(rng.gen_range(1..10)),
                rng.gen_range(1..10 * 3600),
            )
        };
        let updated_at = match closed_on {
            Some(c) => at(c, 9 * 3600).max(created_at),
            None => created_at,
        };
        let search_key = {
            let parts = [
                Some(name.as_str()),
                Some(address.as_str()),
                Some(owner.as_str()),
                phone.as_deref(),
                business_reg_no.as_deref(),
                licence_no.as_deref(),
                antt_cert_no.as_deref(),
            ];
            let joined: Vec<&str> = parts.into_iter().flatten().collect();
            doi178_shared::text::fold(&joined.join(" "))
        };
        let open_from = opened_on.max(super::history_start());
        let open_to = match closed_on {
            Some(c) => c - chrono::TimeDelta::days(1),
            None => super::history_end(),
        };
        let est = Est {
            id,
            kind,
            site: u16::try_from(site_idx).unwrap_or(u16::MAX),
            lat,
            lon,
            risk,
            open_from,
            open_to,
            operating: status == EstablishmentStatus::Operating,
            organisation,
        };
        let row = EstablishmentRow {
            id: id.to_string(),
            name,
            establishment_type: kind.establishment_type(),
            unit_id: site.unit_id.clone(),
            address,
            lat: Some(lat),
            lon: Some(lon),
            business_reg_no,
            licence_no,
            licence_issued_on: issued,
            licence_expires_on: expires,
            antt_cert_no,
            owner_name: Some(owner),
            phone,
            status,
            opened_on: Some(opened_on),
            closed_on,
            risk: [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High][usize::from(risk)],
            commitment_signed,
            commitment_signed_on,
            search_key,
            created_at,
            updated_at,
            seq: 0,
        };
        Some((row, est))
    }
}

/// Generates every establishment and inserts them in transactions of [`ROWS_PER_TX`] rows.
pub fn generate_and_insert(db: &Db, args: &DemoArgs, sites: &Sites) -> anyhow::Result<Vec<Est>> {
    let mut generator = Generator::new(args.seed, sites, args.establishments);
    let total = generator.total();
    let bar = progress(total as u64, "establishments");
    let mut out = Vec::with_capacity(total);
    let mut rows: Vec<EstablishmentRow> = Vec::with_capacity(ROWS_PER_TX.min(total));
    loop {
        rows.clear();
        while rows.len() < ROWS_PER_TX {
            match generator.next_row() {
                Some((row, est)) => {
                    rows.push(row);
                    out.push(est);
                }
                None => break,
            }
        }
        if rows.is_empty() {
            break;
        }
        db.write(|c| -> anyhow::Result<()> {
            let first = reserve_seq(c, rows.len())?;
            for (i, row) in rows.iter_mut().enumerate() {
                row.seq = first + i as i64;
            }
            for chunk in rows.chunks(BATCH) {
                crate::insert_rows!(c, establishments::table, chunk)
                    .context("inserting establishments")?;
                bar.inc(chunk.len() as u64);
            }
            crate::db::audit_chain::bulk(
                c,
                &crate::db::audit_chain::Who::system("demo"),
                "establishments",
                rows.len(),
            )?;
            Ok(())
        })?;
    }
    bar.finish_and_clear();
    Ok(out)
}
