//! Test fixtures: images the tests upload as photos.

use std::io::Cursor;

/// `img` encoded as a JPEG.
pub fn encode_jpeg(img: image::RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg)
        .expect("encode a JPEG");
    out
}

/// A `w`×`h` JPEG whose pixel at (x, y) is `f(x, y)`.
pub fn jpeg_from_fn(w: u32, h: u32, mut f: impl FnMut(u32, u32) -> [u8; 3]) -> Vec<u8> {
    encode_jpeg(image::RgbImage::from_fn(w, h, |x, y| image::Rgb(f(x, y))))
}

/// A small (96×64) JPEG whose pixels depend on `seed` (every photo differs).
pub fn jpeg(seed: u32) -> Vec<u8> {
    jpeg_from_fn(96, 64, |x, y| {
        [
            (x.wrapping_mul(3).wrapping_add(seed)) as u8,
            (y.wrapping_mul(5).wrapping_add(seed / 7)) as u8,
            (seed % 251) as u8,
        ]
    })
}

/// A `w`×`h` JPEG of a plain gradient (always the same bytes for the same size).
pub fn gradient_jpeg(w: u32, h: u32) -> Vec<u8> {
    jpeg_from_fn(w, h, |x, y| [(x * 3) as u8, (y * 5) as u8, 90])
}

/// A 64×48 JPEG, different for each `n` (the field app's photos).
pub fn small_jpeg(n: u32) -> Vec<u8> {
    jpeg_from_fn(64, 48, |x, y| {
        [
            (x * 4 + n * 37) as u8,
            (y * 5 + n * 11) as u8,
            ((x + y + n) * 3) as u8,
        ]
    })
}

/// A noisy 320×240 JPEG (about 50–80 kB: noise does not compress), different for each `n`.
pub fn noise_jpeg(n: u32) -> Vec<u8> {
    let mut x = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    jpeg_from_fn(320, 240, |_, _| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        [x as u8, (x >> 8) as u8, (x >> 16) as u8]
    })
}

/// A `side`×`side` PNG of noise (barely compressible): about 3 bytes per pixel.
pub fn noise_png(side: u32) -> Vec<u8> {
    let mut state: u32 = 0x1780_2025;
    let img = image::RgbImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        image::Rgb([a, b, c])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode a PNG");
    out.into_inner()
}

/// A real JPEG whose frame header (SOF0) is patched to declare `w`×`h`.
pub fn jpeg_declaring(w: u16, h: u16) -> Vec<u8> {
    let mut bytes = gradient_jpeg(16, 16);
    let sof = bytes
        .windows(2)
        .position(|p| p == [0xFF, 0xC0])
        .expect("a baseline JPEG has SOF0");
    // FF C0, length (2), precision (1), height (2), width (2).
    bytes[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    bytes
}

/// A JPEG with a comment segment (COM) inserted after SOI.
pub fn jpeg_with_comment(comment: &[u8]) -> Vec<u8> {
    let plain = gradient_jpeg(24, 16);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&((comment.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(comment);
    out.extend_from_slice(&plain[2..]);
    out
}
