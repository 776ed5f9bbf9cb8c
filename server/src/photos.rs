//! The server side of the photo pipeline: decode with hard limits (decompression bombs and
//! non-images are refused before any large allocation), apply EXIF orientation, re-encode as JPEG
//! (which drops every metadata block: GPS, device, owner), and make a thumbnail.

use std::borrow::Cow;
use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use doi178_shared::photo::{MAX_PHOTO_DIMENSION, MAX_PHOTO_PIXELS};

pub const JPEG_QUALITY: u8 = 85;
pub const THUMB_EDGE: u32 = 320;
const THUMB_QUALITY: u8 = 75;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhotoError {
    #[error("the file is not a JPEG or PNG image")]
    NotAnImage,
    #[error("the image is {0}×{1} pixels; the limit is {MAX_PHOTO_DIMENSION} on a side and {MAX_PHOTO_PIXELS} pixels in all")]
    TooLarge(u32, u32),
    #[error("the image data is damaged: {0}")]
    Corrupt(String),
}

pub struct Processed {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub thumb: Vec<u8>,
    pub thumb_width: u32,
    pub thumb_height: u32,
    /// The photo already fits a thumbnail: `thumb` is `jpeg`.
    pub thumb_is_full: bool,
}

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_PHOTO_DIMENSION);
    l.max_image_height = Some(MAX_PHOTO_DIMENSION);
    // 50 MP of RGBA plus working space.
    l.max_alloc = Some(MAX_PHOTO_PIXELS * 4 + 64 * 1024 * 1024);
    l
}

/// Decodes, checks and re-encodes an uploaded photo.
pub fn process(bytes: &[u8]) -> Result<Processed, PhotoError> {
    let format = image::guess_format(bytes).map_err(|_| PhotoError::NotAnImage)?;
    if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png) {
        return Err(PhotoError::NotAnImage);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(map_err)?;
    let (w, h) = decoder.dimensions();
    if w == 0
        || h == 0
        || w > MAX_PHOTO_DIMENSION
        || h > MAX_PHOTO_DIMENSION
        || u64::from(w) * u64::from(h) > MAX_PHOTO_PIXELS
    {
        return Err(PhotoError::TooLarge(w, h));
    }
    let orientation = decoder.orientation().map_err(map_err)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(map_err)?;
    img.apply_orientation(orientation);
    let rgb = DynamicImage::ImageRgb8(img.into_rgb8());
    let jpeg = encode_jpeg(&rgb, JPEG_QUALITY)?;
    // A photo that already fits is its own thumbnail (`thumbnail` would enlarge it).
    let thumb_is_full = rgb.width() <= THUMB_EDGE && rgb.height() <= THUMB_EDGE;
    let (thumb, thumb_width, thumb_height) = if thumb_is_full {
        (jpeg.clone(), rgb.width(), rgb.height())
    } else {
        let t = rgb.thumbnail(THUMB_EDGE, THUMB_EDGE);
        (encode_jpeg(&t, THUMB_QUALITY)?, t.width(), t.height())
    };
    Ok(Processed {
        jpeg,
        width: rgb.width(),
        height: rgb.height(),
        thumb_width,
        thumb_height,
        thumb,
        thumb_is_full,
    })
}

/// Baseline JPEG with the standard Huffman tables (as the field app writes them), through
/// `jpeg-encoder`: `image`'s own encoder, without SIMD, was 6 % of the server's CPU under load.
fn encode_jpeg(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    // The photo and its thumbnail are 8-bit RGB already; anything else is converted.
    let img: Cow<'_, RgbImage> = match img.as_rgb8() {
        Some(rgb) => Cow::Borrowed(rgb),
        None => Cow::Owned(img.to_rgb8()),
    };
    let side =
        |v: u32| u16::try_from(v).map_err(|_| PhotoError::TooLarge(img.width(), img.height()));
    let (w, h) = (side(img.width())?, side(img.height())?);
    let mut out = Vec::with_capacity(img.as_raw().len() / 8);
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    encoder.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
    encoder
        .encode(img.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| PhotoError::Corrupt(e.to_string()))?;
    Ok(out)
}

fn map_err(e: image::ImageError) -> PhotoError {
    match e {
        image::ImageError::Limits(_) => PhotoError::TooLarge(0, 0),
        image::ImageError::Unsupported(_) => PhotoError::NotAnImage,
        other => PhotoError::Corrupt(other.to_string()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::new_rgb8(w, h);
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn reencodes_png_as_jpeg_with_thumbnail() {
        let p = process(&png(640, 480)).unwrap();
        assert_eq!((p.width, p.height), (640, 480));
        assert_eq!(image::guess_format(&p.jpeg).unwrap(), ImageFormat::Jpeg);
        assert_eq!((p.thumb_width, p.thumb_height), (320, 240));
    }

    #[test]
    fn reencoded_photos_keep_their_colours() {
        let img = image::RgbImage::from_fn(640, 480, |x, y| match (x < 320, y < 240) {
            (true, true) => image::Rgb([200, 30, 30]),
            (false, true) => image::Rgb([30, 30, 200]),
            (true, false) => image::Rgb([30, 180, 30]),
            (false, false) => image::Rgb([240, 240, 240]),
        });
        let mut upload = Vec::new();
        DynamicImage::ImageRgb8(img.clone())
            .write_to(&mut Cursor::new(&mut upload), ImageFormat::Png)
            .unwrap();
        let p = process(&upload).unwrap();
        for (bytes, scale) in [(&p.jpeg, 1), (&p.thumb, 2)] {
            let back = image::load_from_memory_with_format(bytes, ImageFormat::Jpeg)
                .unwrap()
                .into_rgb8();
            assert_eq!(back.dimensions(), (640 / scale, 480 / scale));
            for (x, y) in [(100, 100), (500, 100), (100, 400), (500, 400)] {
                let want = img.get_pixel(x, y).0;
                let got = back.get_pixel(x / scale, y / scale).0;
                for c in 0..3 {
                    assert!(
                        want[c].abs_diff(got[c]) <= 12,
                        "({x}, {y}) at 1/{scale}: {got:?}, want {want:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_photo_smaller_than_a_thumbnail_is_not_enlarged() {
        let p = process(&png(96, 72)).unwrap();
        assert_eq!((p.width, p.height), (96, 72));
        assert_eq!((p.thumb_width, p.thumb_height), (96, 72));
        let p = process(&png(200, 900)).unwrap();
        assert_eq!((p.thumb_width, p.thumb_height), (71, 320));
    }

    #[test]
    fn refuses_non_images_and_bombs() {
        assert_eq!(
            process(b"hello, not an image").err(),
            Some(PhotoError::NotAnImage)
        );
        assert_eq!(process(b"GIF89a....").err(), Some(PhotoError::NotAnImage));
        // 20000 x 20000 black PNG: tiny file, 1.6 GB decoded.
        let bomb = {
            let mut out = Vec::new();
            let enc = image::codecs::png::PngEncoder::new(&mut out);
            let row = vec![0u8; 20_000];
            use image::ImageEncoder;
            let data: Vec<u8> = row.iter().cycle().take(20_000 * 100).copied().collect();
            // Write only a header-sized image to keep the test fast, then patch dimensions.
            enc.write_image(&data, 20_000, 100, image::ExtendedColorType::L8)
                .unwrap();
            out
        };
        assert!(matches!(
            process(&bomb).err(),
            Some(PhotoError::TooLarge(_, _))
        ));
        let mut truncated = png(64, 64);
        truncated.truncate(60);
        assert!(process(&truncated).is_err());
    }
}
