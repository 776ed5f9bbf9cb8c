#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::markers::{self, all_markers};
use super::sample::{camera_jpeg, synthetic_rgb};
use super::*;

const RED: [u8; 3] = [230, 20, 20];
const GREEN: [u8; 3] = [20, 200, 40];
const BLUE: [u8; 3] = [20, 30, 220];
const WHITE: [u8; 3] = [250, 250, 250];

/// Sides of the upright picture.
#[derive(Clone, Copy)]
enum Side {
    Top,
    Bottom,
    Left,
    Right,
}

/// EXIF 2.32, tag Orientation: for each value, which side of the upright picture the stored
/// image's 0th row and 0th column show. Written from the standard's table, independently of
/// `orient::apply`.
fn exif_table(o: u8) -> (Side, Side) {
    use Side::*;
    match o {
        1 => (Top, Left),
        2 => (Top, Right),
        3 => (Bottom, Right),
        4 => (Bottom, Left),
        5 => (Left, Top),
        6 => (Right, Top),
        7 => (Right, Bottom),
        8 => (Left, Bottom),
        _ => unreachable!(),
    }
}

/// The upright test picture: `W`×`H` (landscape), quadrants red | green over blue | white.
const W: usize = 64;
const H: usize = 32;
fn upright(x: usize, y: usize) -> [u8; 3] {
    match (x < W / 2, y < H / 2) {
        (true, true) => RED,
        (false, true) => GREEN,
        (true, false) => BLUE,
        (false, false) => WHITE,
    }
}

/// How a camera with orientation `o` stores the upright picture: (rgb, width, height).
fn stored_for(o: u8) -> (Vec<u8>, u32, u32) {
    let (row0, col0) = exif_table(o);
    let rows_along_y = matches!(row0, Side::Top | Side::Bottom);
    let (sw, sh) = if rows_along_y { (W, H) } else { (H, W) };
    let mut rgb = Vec::with_capacity(sw * sh * 3);
    for r in 0..sh {
        for c in 0..sw {
            let (mut x, mut y) = (0, 0);
            match row0 {
                Side::Top => y = r,
                Side::Bottom => y = H - 1 - r,
                Side::Left => x = r,
                Side::Right => x = W - 1 - r,
            }
            match col0 {
                Side::Top => y = c,
                Side::Bottom => y = H - 1 - c,
                Side::Left => x = c,
                Side::Right => x = W - 1 - c,
            }
            rgb.extend_from_slice(&upright(x, y));
        }
    }
    (rgb, sw as u32, sh as u32)
}

/// Decodes with `image` (zune-jpeg), the decoder the server uses on uploads. It misreads
/// jpeg-encoder's optimised Huffman tables (zune-jpeg 0.5.15; libjpeg-turbo and jpeg-decoder
/// read them), which is why the pipeline keeps the standard tables: these tests would catch it.
fn decode_rgb(jpeg: &[u8]) -> (Vec<u8>, u32, u32) {
    let img = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)
        .unwrap()
        .into_rgb8();
    let (w, h) = img.dimensions();
    (img.into_raw(), w, h)
}

fn close(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(&x, y)| x.abs_diff(y) <= 40)
}

fn pixel(rgb: &[u8], w: u32, x: u32, y: u32) -> [u8; 3] {
    let i = ((y * w + x) * 3) as usize;
    [rgb[i], rgb[i + 1], rgb[i + 2]]
}

#[test]
fn all_eight_orientations_come_out_upright() {
    for o in 1..=8u8 {
        let (rgb, sw, sh) = stored_for(o);
        let jpeg = camera_jpeg(&rgb, sw, sh, 95, o);
        assert_eq!(markers::read_info(&jpeg).unwrap().orientation, o);
        let p = process(&jpeg, &PhotoOptions::default()).unwrap();
        assert_eq!(p.orientation_applied, o);
        assert_eq!((p.width, p.height), (W as u32, H as u32), "orientation {o}");
        assert_eq!((p.original_width, p.original_height), (sw, sh));
        let (out, w, h) = decode_rgb(&p.jpeg);
        assert_eq!((w, h), (W as u32, H as u32));
        let inset = 4;
        for (x, y, want) in [
            (inset, inset, RED),
            (w - 1 - inset, inset, GREEN),
            (inset, h - 1 - inset, BLUE),
            (w - 1 - inset, h - 1 - inset, WHITE),
        ] {
            let got = pixel(&out, w, x, y);
            assert!(
                close(got, want),
                "orientation {o}: ({x},{y}) is {got:?}, want {want:?}"
            );
        }
    }
}

#[test]
fn orientation_with_downscale() {
    // A portrait photo stored landscape (orientation 8), 3200×1600 → upright 800×1600.
    let rgb = synthetic_rgb(3200, 1600, 1);
    let jpeg = camera_jpeg(&rgb, 3200, 1600, 90, 8);
    let p = process(&jpeg, &PhotoOptions::default()).unwrap();
    assert_eq!((p.width, p.height), (800, 1600));
    assert_eq!(decode_rgb(&p.jpeg).1, 800);
}

#[test]
fn output_carries_no_metadata() {
    let rgb = synthetic_rgb(900, 600, 2);
    let input = camera_jpeg(&rgb, 900, 600, 92, 6);
    // The input has what we must strip: EXIF, XMP (with a GPS position) and a comment.
    let input_markers: Vec<u8> = all_markers(&input)
        .unwrap()
        .iter()
        .map(|s| s.marker)
        .collect();
    assert!(input_markers.contains(&markers::APP1));
    assert!(input_markers.contains(&markers::COM));
    let p = process(&input, &PhotoOptions::default()).unwrap();
    let segments = all_markers(&p.jpeg).unwrap();
    assert_eq!(segments.first().map(|s| s.marker), Some(markers::SOI));
    assert_eq!(segments.last().map(|s| s.marker), Some(markers::EOI));
    for s in &segments {
        match s.marker {
            // SOI, EOI, DQT, DHT, DRI, SOS, baseline/progressive frames.
            0xD8 | 0xD9 | 0xDB | 0xC4 | 0xDD | 0xDA | 0xC0 | 0xC2 => {}
            markers::APP0 => assert!(s.payload.starts_with(b"JFIF\0"), "APP0 other than JFIF"),
            m => panic!("marker FF{m:02X} in the output"),
        }
    }
    for needle in [
        &b"Exif"[..],
        b"ICC_PROFILE",
        b"http://ns.adobe.com",
        b"GPS",
        b"doi178",
    ] {
        assert!(
            !p.jpeg.windows(needle.len()).any(|w| w == needle),
            "{:?} found in the output",
            String::from_utf8_lossy(needle)
        );
    }
}

#[test]
fn long_edge_is_respected_and_never_upscaled() {
    let rgb = synthetic_rgb(2500, 1000, 3);
    let jpeg = camera_jpeg(&rgb, 2500, 1000, 85, 0);
    let p = process(&jpeg, &PhotoOptions::default()).unwrap();
    assert_eq!((p.width, p.height), (1600, 640));
    assert_eq!(decode_rgb(&p.jpeg).1, 1600);
    let small = PhotoOptions {
        long_edge: 500,
        ..PhotoOptions::default()
    };
    let p = process(&jpeg, &small).unwrap();
    assert_eq!((p.width, p.height), (500, 200));

    let rgb = synthetic_rgb(640, 480, 4);
    let jpeg = camera_jpeg(&rgb, 640, 480, 85, 1);
    let p = process(&jpeg, &PhotoOptions::default()).unwrap();
    assert_eq!((p.width, p.height), (640, 480));
    assert_eq!(target_size(640, 480, 1600), (640, 480));
    assert_eq!(target_size(4000, 3000, 1600), (1600, 1200));
    assert_eq!(target_size(3000, 4000, 1600), (1200, 1600));
    assert_eq!(target_size(12000, 601, 1600), (1600, 80));
}

#[test]
fn hashes_are_of_the_original_and_of_the_output() {
    let rgb = synthetic_rgb(300, 200, 5);
    let jpeg = camera_jpeg(&rgb, 300, 200, 85, 3);
    let p = process(&jpeg, &PhotoOptions::default()).unwrap();
    assert_eq!(p.sha256_original, Sha256Digest::of(&jpeg));
    assert_eq!(p.sha256, Sha256Digest::of(&p.jpeg));
    assert_ne!(p.sha256, p.sha256_original);
    let s = p.summary();
    assert_eq!(s.sha256_original, Sha256Digest::of(&jpeg).to_hex());
    assert_eq!(s.size_bytes, p.jpeg.len() as u64);
    // Deterministic: the same original gives the same bytes.
    assert_eq!(
        process(&jpeg, &PhotoOptions::default()).unwrap().jpeg,
        p.jpeg
    );
}

fn png(rgb: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbImage::from_raw(w, h, rgb.to_vec())
        .unwrap()
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

#[test]
fn png_is_accepted() {
    let (rgb, w, h) = stored_for(1);
    let p = process(&png(&rgb, w, h), &PhotoOptions::default()).unwrap();
    assert_eq!(p.original_format, SourceFormat::Png);
    assert_eq!((p.width, p.height), (w, h));
    let (out, ow, _) = decode_rgb(&p.jpeg);
    assert!(close(pixel(&out, ow, 3, 3), RED));
    assert!(close(pixel(&out, ow, ow - 4, 3), GREEN));

    // Large PNG: downscaled too; transparent areas become white.
    let img = image::RgbaImage::from_fn(2000, 1000, |x, _| {
        image::Rgba([0, 0, 0, if x < 1000 { 0 } else { 255 }])
    });
    let mut bytes = Vec::new();
    img.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    let p = process(&bytes, &PhotoOptions::default()).unwrap();
    assert_eq!((p.width, p.height), (1600, 800));
    let (out, ow, _) = decode_rgb(&p.jpeg);
    assert!(close(pixel(&out, ow, 10, 10), WHITE));
    assert!(close(pixel(&out, ow, 1590, 10), [0, 0, 0]));
}

/// A tiny JPEG whose frame header is patched to declare `w`×`h`.
fn jpeg_declaring(w: u16, h: u16) -> Vec<u8> {
    let rgb = synthetic_rgb(16, 16, 6);
    let mut jpeg = camera_jpeg(&rgb, 16, 16, 80, 0);
    let sof = jpeg
        .windows(2)
        .position(|m| m == [0xFF, 0xC0])
        .expect("baseline frame");
    jpeg[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    jpeg
}

/// A PNG signature and IHDR declaring `w`×`h`, and no pixel data at all.
fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    out.extend_from_slice(&w.to_be_bytes());
    out.extend_from_slice(&h.to_be_bytes());
    out.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    out
}

#[test]
fn bombs_are_refused_from_the_headers() {
    // 100000×100000 RGB would be 30 GB: refused from the 29-byte header, which has no pixel data
    // at all (a decoder that got that far would report missing data, not the size).
    let bomb = png_declaring(100_000, 100_000);
    assert!(bomb.len() < 40);
    let e = process(&bomb, &PhotoOptions::default()).unwrap_err();
    assert!(
        matches!(
            e,
            PhotoError::TooLarge {
                width: 100_000,
                height: 100_000,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.code(), "photo_too_large");
    // JPEG sizes stop at 65535: a 16×16 file declaring 65000×65000 (12.7 GB of RGB).
    let bomb = jpeg_declaring(65_000, 65_000);
    assert!(bomb.len() < 2_000);
    let e = process(&bomb, &PhotoOptions::default()).unwrap_err();
    assert!(
        matches!(e, PhotoError::TooLarge { width: 65_000, .. }),
        "{e:?}"
    );
    // Within the side limit but over 50 MP.
    let e = process(&jpeg_declaring(9_000, 9_000), &PhotoOptions::default()).unwrap_err();
    assert!(matches!(e, PhotoError::TooLarge { .. }), "{e:?}");
    // Absurd shape.
    let e = process(&jpeg_declaring(12_000, 100), &PhotoOptions::default()).unwrap_err();
    assert!(matches!(e, PhotoError::BadAspect { .. }), "{e:?}");
    assert_eq!(e.code(), "photo_bad_aspect");
    let e = process(&png_declaring(0, 10), &PhotoOptions::default()).unwrap_err();
    assert_eq!(e.code(), "photo_corrupt");
}

#[test]
fn truncated_files_are_refused() {
    let rgb = synthetic_rgb(400, 300, 7);
    let jpeg = camera_jpeg(&rgb, 400, 300, 90, 6);
    for cut in [
        jpeg.len() - 2,
        jpeg.len() * 2 / 3,
        jpeg.len() / 3,
        300,
        20,
        3,
    ] {
        let e = process(&jpeg[..cut], &PhotoOptions::default()).unwrap_err();
        assert_eq!(e, PhotoError::Truncated, "cut at {cut}");
        assert_eq!(e.code(), "photo_truncated");
    }
    let png = png(&rgb, 400, 300);
    for cut in [png.len() - 20, png.len() / 2, 40] {
        let e = process(&png[..cut], &PhotoOptions::default()).unwrap_err();
        assert_eq!(e, PhotoError::Truncated, "cut at {cut}");
    }
}

#[test]
fn non_images_and_other_formats_are_named() {
    let opts = PhotoOptions::default();
    assert_eq!(process(b"", &opts).unwrap_err(), PhotoError::Empty);
    assert_eq!(
        process(b"hello, this is not a photo", &opts).unwrap_err(),
        PhotoError::NotAnImage
    );
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
    let e = process(heic, &opts).unwrap_err();
    assert_eq!(e, PhotoError::UnsupportedFormat("HEIC/HEIF"));
    assert_eq!(e.code(), "photo_unsupported_format");
    assert!(e.to_string().contains("HEIC"));
    assert!(e.message_vi().contains("HEIC"));
    assert_eq!(
        process(b"GIF89a\x01\0\x01\0", &opts).unwrap_err(),
        PhotoError::UnsupportedFormat("GIF")
    );
    // Random bytes after a JPEG signature.
    let e = process(b"\xFF\xD8\xFF\xE0\0\x04ab\x12\x34", &opts).unwrap_err();
    assert!(matches!(e, PhotoError::Corrupt(_)), "{e:?}");
}

#[test]
fn errors_have_stable_codes_and_both_languages() {
    let all = [
        PhotoError::Empty,
        PhotoError::NotAnImage,
        PhotoError::UnsupportedFormat("HEIC/HEIF"),
        PhotoError::TooLarge {
            width: 1,
            height: 2,
            max_pixels: 3,
            max_dimension: 4,
        },
        PhotoError::BadAspect {
            width: 1,
            height: 2,
            max_aspect: 3,
        },
        PhotoError::Truncated,
        PhotoError::Corrupt("x".into()),
        PhotoError::Encode("y".into()),
    ];
    let mut codes: Vec<&str> = all.iter().map(PhotoError::code).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), all.len());
    for e in &all {
        let v = e.view();
        assert!(v.code.starts_with("photo_"));
        assert!(!v.message.is_empty() && !v.message_vi.is_empty());
        assert_ne!(v.message, v.message_vi);
    }
}

#[test]
fn default_options() {
    let o = PhotoOptions::default();
    assert_eq!((o.long_edge, o.quality), (1600, 80));
    assert_eq!(o.max_pixels, 50_000_000);
}

#[test]
fn dct_scaled_decode_keeps_exact_output_size() {
    // 2000×1000 to a 200 px long edge: decoded at 1/4 (500×250, at least twice the output),
    // or at 1/8 (250×125) with no headroom; either way exactly 200×100, upright.
    let rgb = synthetic_rgb(2000, 1000, 8);
    let jpeg = camera_jpeg(&rgb, 2000, 1000, 90, 6);
    for headroom in [1, 2, 3] {
        let opts = PhotoOptions {
            long_edge: 200,
            dct_headroom: headroom,
            ..PhotoOptions::default()
        };
        let p = process(&jpeg, &opts).unwrap();
        assert_eq!((p.width, p.height), (100, 200), "headroom {headroom}");
        assert_eq!(decode_rgb(&p.jpeg).1, 100);
    }
}

#[test]
fn progressive_and_grey_jpegs_are_read() {
    let rgb = synthetic_rgb(320, 240, 9);
    let mut progressive = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut progressive, 90);
    enc.set_progressive(true);
    enc.encode(&rgb, 320, 240, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    assert!(all_markers(&progressive)
        .unwrap()
        .iter()
        .any(|s| s.marker == 0xC2));
    let p = process(&progressive, &PhotoOptions::default()).unwrap();
    assert_eq!((p.width, p.height), (320, 240));
    // A progressive file cut short is refused, not shown half grey.
    let cut = &progressive[..progressive.len() * 3 / 4];
    assert_eq!(
        process(cut, &PhotoOptions::default()).unwrap_err(),
        PhotoError::Truncated
    );

    let grey: Vec<u8> = rgb.chunks_exact(3).map(|p| p[1]).collect();
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 90)
        .encode(&grey, 320, 240, jpeg_encoder::ColorType::Luma)
        .unwrap();
    let p = process(&jpeg, &PhotoOptions::default()).unwrap();
    assert_eq!((p.width, p.height), (320, 240));
    let (out, w, _) = decode_rgb(&p.jpeg);
    let px = pixel(&out, w, 100, 100);
    assert!(
        px[0].abs_diff(px[1]) <= 3 && px[1].abs_diff(px[2]) <= 3,
        "{px:?}"
    );
}

/// CRC-32 (IEEE) for hand-made PNG chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn png_exif_orientation_is_applied() {
    let (rgb, sw, sh) = stored_for(6);
    let mut bytes = png(&rgb, sw, sh);
    // An eXIf chunk (PNG 1.5) right after IHDR (8 + 25 bytes).
    let tiff = &exif::app1_with_orientation(6, false)[6..];
    let mut chunk = (tiff.len() as u32).to_be_bytes().to_vec();
    let mut body = b"eXIf".to_vec();
    body.extend_from_slice(tiff);
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&crc32(&body).to_be_bytes());
    bytes.splice(33..33, chunk);
    let p = process(&bytes, &PhotoOptions::default()).unwrap();
    assert_eq!(p.orientation_applied, 6);
    assert_eq!((p.width, p.height), (W as u32, H as u32));
    let (out, w, _) = decode_rgb(&p.jpeg);
    assert!(close(pixel(&out, w, 4, 4), RED));
    assert!(close(pixel(&out, w, w - 5, 4), GREEN));
}

#[test]
fn damaged_files_give_errors_not_panics() {
    let rgb = synthetic_rgb(96, 64, 10);
    let jpeg = camera_jpeg(&rgb, 96, 64, 85, 6);
    let png = png(&rgb, 96, 64);
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut ok, mut refused) = (0, 0);
    for original in [&jpeg, &png] {
        for _ in 0..300 {
            let mut bytes = original.clone();
            for _ in 0..1 + next() % 4 {
                let i = (next() % bytes.len() as u64) as usize;
                bytes[i] = (next() & 0xFF) as u8;
            }
            match process(&bytes, &PhotoOptions::default()) {
                Ok(p) => {
                    ok += 1;
                    assert!(p.width.max(p.height) <= DEFAULT_LONG_EDGE);
                    assert_eq!(p.sha256, Sha256Digest::of(&p.jpeg));
                }
                Err(e) => {
                    refused += 1;
                    assert!(e.code().starts_with("photo_"));
                }
            }
        }
    }
    // Most single-byte damage in entropy-coded data still decodes; some must be refused.
    assert!(ok > 0 && refused > 0, "ok {ok}, refused {refused}");
}
