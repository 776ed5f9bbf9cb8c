//! Demo photos: tiny generated JPEGs (64×48, a colour gradient from the photo's id) sent through
//! the same pipeline as an upload (`crate::photos::process`), stored in the photo store with their
//! thumbnail, and their rows. Two threads share the encoding and the (fsync'd) writes.

use anyhow::Context;
use image::{DynamicImage, Rgb, RgbImage};
use sha2::{Digest as _, Sha256};

use super::visits::PhotoJob;
use super::{progress, BATCH};
use crate::db::photos::PhotoRow;
use crate::db::schema::photos;
use crate::db::Db;
use crate::storage::{PhotoStore, Variant};

pub const WIDTH: u32 = 64;
pub const HEIGHT: u32 = 48;

/// The bytes a phone would upload for this photo: a small JPEG.
pub fn upload_bytes(job: &PhotoJob) -> anyhow::Result<Vec<u8>> {
    let b = job.id.as_bytes();
    let (r0, g0, b0) = (b[0], b[1], b[2]);
    let img = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let fx = (x * 255 / WIDTH) as u8;
        let fy = (y * 255 / HEIGHT) as u8;
        Rgb([
            r0.wrapping_add(fx / 2),
            g0.wrapping_add(fy / 2),
            b0.wrapping_add((fx ^ fy) / 4),
        ])
    });
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80);
    DynamicImage::ImageRgb8(img)
        .write_with_encoder(encoder)
        .context("encoding a demo photo")?;
    Ok(out)
}

fn store_one(store: &dyn PhotoStore, job: &PhotoJob) -> anyhow::Result<PhotoRow> {
    let upload = upload_bytes(job)?;
    let p = crate::photos::process(&upload).map_err(|e| anyhow::anyhow!("demo photo: {e}"))?;
    store
        .put(job.id, Variant::Full, &p.jpeg)
        .context("storing a demo photo")?;
    store
        .put(job.id, Variant::Thumbnail, &p.thumb)
        .context("storing a demo thumbnail")?;
    Ok(PhotoRow {
        id: job.id.to_string(),
        upload_sha256: hex::encode(Sha256::digest(&upload)),
        sha256: hex::encode(Sha256::digest(&p.jpeg)),
        size_bytes: p.jpeg.len() as i64,
        width: p.width as i32,
        height: p.height as i32,
        thumb_width: p.thumb_width as i32,
        thumb_height: p.thumb_height as i32,
        taken_at: Some(job.taken_at),
        uploaded_by: job.uploaded_by.clone(),
        created_at: job.created_at,
    })
}

/// Generates, stores and records every photo; returns how many.
pub fn store_all(db: &Db, store: &dyn PhotoStore, jobs: &[PhotoJob]) -> anyhow::Result<usize> {
    if jobs.is_empty() {
        return Ok(0);
    }
    let bar = progress(jobs.len() as u64, "photos");
    let mut done = 0;
    for chunk in jobs.chunks(2_000) {
        let half = chunk.len().div_ceil(2);
        let rows: Vec<PhotoRow> = std::thread::scope(|s| -> anyhow::Result<Vec<PhotoRow>> {
            let bar = &bar;
            let handles: Vec<_> = chunk
                .chunks(half.max(1))
                .map(|part| {
                    s.spawn(move || -> anyhow::Result<Vec<PhotoRow>> {
                        let mut rows = Vec::with_capacity(part.len());
                        for job in part {
                            rows.push(store_one(store, job)?);
                            bar.inc(1);
                        }
                        Ok(rows)
                    })
                })
                .collect();
            let mut rows = Vec::with_capacity(chunk.len());
            for h in handles {
                let part = h
                    .join()
                    .map_err(|_| anyhow::anyhow!("photo thread panicked"))??;
                rows.extend(part);
            }
            Ok(rows)
        })?;
        db.write(|c| -> anyhow::Result<()> {
            for part in rows.chunks(BATCH) {
                crate::insert_rows!(c, photos::table, part).context("inserting photos")?;
            }
            crate::db::audit_chain::bulk(
                c,
                &crate::db::audit_chain::Who::system("demo"),
                "photos",
                rows.len(),
            )?;
            Ok(())
        })?;
        done += rows.len();
    }
    bar.finish_and_clear();
    Ok(done)
}
