//! Deterministic sample photos for tests and the benchmark: photographic-looking content
//! (gradients, shapes with hard edges, fine texture and sensor-like noise), encoded as a
//! phone would (JPEG quality 92) with an EXIF block carrying the orientation and a comment, so
//! the pipeline has metadata to strip.

use super::{exif, markers};

/// A small deterministic PRNG (xorshift64*), so samples are identical on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// `width`×`height` packed RGB: a sky-to-ground gradient, a few discs and boxes with hard edges,
/// a fine stripe texture, and per-pixel noise of about ±10 levels.
pub fn synthetic_rgb(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let shapes: Vec<(f32, f32, f32, [f32; 3])> = (0..12)
        .map(|_| {
            let cx = (rng.next() % width.max(1) as u64) as f32;
            let cy = (rng.next() % height.max(1) as u64) as f32;
            let r = (rng.next() % (width.min(height).max(8) as u64 / 4)) as f32 + 4.0;
            let c = [0, 1, 2].map(|_| (rng.next() % 256) as f32);
            (cx, cy, r, c)
        })
        .collect();
    let mut out = vec![0u8; w * h * 3];
    for y in 0..h {
        let fy = y as f32 / h.max(1) as f32;
        let base = [
            90.0 + 120.0 * (1.0 - fy),
            120.0 + 80.0 * (1.0 - fy),
            200.0 * (1.0 - fy) + 40.0,
        ];
        for x in 0..w {
            let fx = x as f32 / w.max(1) as f32;
            let mut c = [base[0] + 30.0 * fx, base[1] - 20.0 * fx, base[2]];
            for &(cx, cy, r, col) in &shapes {
                let (dx, dy) = (x as f32 - cx, y as f32 - cy);
                if dx.abs() < r && dy.abs() < r && (dx * dx + dy * dy < r * r || (x / 7) % 3 == 0) {
                    c = col;
                }
            }
            // Fine texture (grass, fabric) and sensor noise.
            let texture = if (x + 2 * y) % 5 < 2 { 12.0 } else { -6.0 };
            let r = rng.next();
            let i = (y * w + x) * 3;
            for k in 0..3 {
                let noise = ((r >> (k * 8)) & 0x1F) as f32 - 15.5;
                out[i + k] = (c[k] + texture * (fy + 0.2) + noise).clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

/// Encodes packed RGB as a phone camera would: JPEG at `quality`, then an EXIF APP1 with
/// `orientation` (1–8, none when 0), an XMP block and a comment.
pub fn camera_jpeg(rgb: &[u8], width: u32, height: u32, quality: u8, orientation: u8) -> Vec<u8> {
    let mut jpeg = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, quality);
    if quality >= 90 {
        // Phones use 4:2:0 even at high quality.
        encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    }
    #[allow(clippy::expect_used)]
    encoder
        .encode(
            rgb,
            width as u16,
            height as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .expect("sample encodes");
    let mut meta = Vec::new();
    if orientation != 0 {
        meta.extend(markers::segment(
            markers::APP1,
            &exif::app1_with_orientation(orientation, true),
        ));
    }
    meta.extend(markers::segment(
        markers::APP1,
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'><GPS>16.4637,107.5909</GPS></x:xmpmeta>",
    ));
    meta.extend(markers::segment(markers::COM, b"taken by doi178 sample"));
    markers::insert_after_soi(&jpeg, &meta)
}

/// A 12-megapixel (4000×3000) sample photo as a phone would store it, orientation 6 (the phone
/// was held upright).
pub fn twelve_mp(seed: u64) -> Vec<u8> {
    camera_jpeg(&synthetic_rgb(4000, 3000, seed), 4000, 3000, 92, 6)
}
