//! The server side of the photo pipeline: decode with hard limits (decompression bombs and
//! non-images are refused before any large allocation), apply EXIF orientation, re-encode as JPEG
//! (which drops every metadata block: GPS, device, owner), and make a thumbnail.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

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
    let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
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

fn encode_jpeg(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    img.write_with_encoder(encoder)
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
