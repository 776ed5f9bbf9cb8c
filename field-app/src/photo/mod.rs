//! The photo pipeline of the field app (issue 4, item 2): what a photo from the phone's camera
//! or gallery goes through before it is stored in the outbox and uploaded.
//!
//! 1. SHA-256 of the captured original, first, before anything reads the image;
//! 2. headers checked (format, declared size, aspect) before any pixel buffer is allocated, so
//!    decompression bombs and non-images are refused cheaply;
//! 3. decoded with decode-time DCT scaling (JPEG: 1/2, 1/4 or 1/8 while decoding, like libvips'
//!    shrink-on-load) to the smallest size still at least twice the target
//!    ([`PhotoOptions::dct_headroom`]);
//! 4. downscaled (Lanczos3) so the long edge is at most [`PhotoOptions::long_edge`], never up;
//! 5. the EXIF orientation applied (on the small image, where it is cheap);
//! 6. re-encoded as a baseline JPEG (4:2:0 below quality 90, standard Huffman tables) that
//!    carries no metadata at all: only JFIF, tables and the scan (no EXIF, GPS, XMP, ICC,
//!    comments, thumbnails);
//! 7. SHA-256 of the result (the upload's `Content-Digest`).
//!
//! Pure Rust (`jpeg-decoder`, `fast_image_resize`, `jpeg-encoder`, `image` for PNG), so it
//! cross-compiles for Android without system libraries.

pub mod exif;
pub mod markers;
pub mod orient;
pub mod sample;

use std::io::Cursor;

use fast_image_resize as fr;
use serde::{Deserialize, Serialize};

pub use doi178_shared::photo::{Sha256Digest, MAX_PHOTO_DIMENSION, MAX_PHOTO_PIXELS};

/// Default long edge of a processed photo, in pixels.
pub const DEFAULT_LONG_EDGE: u32 = 1600;
/// Default JPEG quality of a processed photo.
pub const DEFAULT_QUALITY: u8 = 80;
/// Default most extreme aspect ratio accepted (long side ÷ short side): phone panoramas stay
/// well below; a 12000×1 "image" does not.
pub const DEFAULT_MAX_ASPECT: u32 = 20;

/// How to process a photo. Every field has a default (`{}` in JSON is the defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhotoOptions {
    /// Longest side of the output, in pixels; smaller photos are never upscaled.
    pub long_edge: u32,
    /// JPEG quality, 1–100.
    pub quality: u8,
    /// Most pixels an input may declare (decompression bombs are refused above).
    pub max_pixels: u64,
    /// Longest side an input may declare.
    pub max_dimension: u32,
    /// Most extreme long-side ÷ short-side ratio an input may declare.
    pub max_aspect: u32,
    /// A JPEG is decoded at 1/2, 1/4 or 1/8 of its size (DCT scaling) only while the decoded
    /// image stays at least this many times the output on each side, leaving the rest of the
    /// reduction to the Lanczos3 filter. 2 (the default) is libvips' `vipsthumbnail` policy: a
    /// 12 MP photo to 1600 px is decoded at full size, a 50 MP one at 1/2. 1 decodes as small as
    /// possible (12 MP at 1/2): faster and less memory, slightly softer (see BENCHMARKS.md).
    pub dct_headroom: u32,
}

impl Default for PhotoOptions {
    fn default() -> Self {
        Self {
            long_edge: DEFAULT_LONG_EDGE,
            quality: DEFAULT_QUALITY,
            max_pixels: MAX_PHOTO_PIXELS,
            max_dimension: MAX_PHOTO_DIMENSION,
            max_aspect: DEFAULT_MAX_ASPECT,
            dct_headroom: 2,
        }
    }
}

/// A processed photo, ready for the outbox.
#[derive(Clone, PartialEq, Eq)]
pub struct ProcessedPhoto {
    /// The re-encoded JPEG (no metadata).
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// SHA-256 of the original bytes as captured, computed before anything else.
    pub sha256_original: Sha256Digest,
    /// SHA-256 of [`Self::jpeg`]: what is uploaded, with this as its `Content-Digest`.
    pub sha256: Sha256Digest,
    /// The EXIF orientation (1–8) found in the original and applied; 1 when there was none.
    pub orientation_applied: u8,
    /// Size of the original as stored in the file (before orientation).
    pub original_width: u32,
    pub original_height: u32,
    /// What the original was.
    pub original_format: SourceFormat,
}

impl std::fmt::Debug for ProcessedPhoto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessedPhoto")
            .field("jpeg_bytes", &self.jpeg.len())
            .field("width", &self.width)
            .field("height", &self.height)
            .field("sha256_original", &self.sha256_original)
            .field("sha256", &self.sha256)
            .field("orientation_applied", &self.orientation_applied)
            .field("original", &(self.original_width, self.original_height))
            .field("original_format", &self.original_format)
            .finish()
    }
}

/// What a processed photo says about itself, for the command surface (the bytes go to the
/// outbox, not through JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoSummary {
    pub width: u32,
    pub height: u32,
    pub size_bytes: u64,
    /// Lowercase hex.
    pub sha256_original: String,
    /// Lowercase hex.
    pub sha256: String,
    pub orientation_applied: u8,
    pub original_width: u32,
    pub original_height: u32,
    pub original_format: SourceFormat,
}

impl ProcessedPhoto {
    pub fn summary(&self) -> PhotoSummary {
        PhotoSummary {
            width: self.width,
            height: self.height,
            size_bytes: self.jpeg.len() as u64,
            sha256_original: self.sha256_original.to_hex(),
            sha256: self.sha256.to_hex(),
            orientation_applied: self.orientation_applied,
            original_width: self.original_width,
            original_height: self.original_height,
            original_format: self.original_format,
        }
    }
}

/// Formats the pipeline reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    Jpeg,
    Png,
}

/// Why a photo was refused. Each has a stable [`code`](PhotoError::code) and messages in
/// English ([`Display`](std::fmt::Display)) and Vietnamese ([`PhotoError::message_vi`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is not an image (JPEG or PNG expected)")]
    NotAnImage,
    #[error("{0} photos are not supported; set the camera to JPEG (\"Most compatible\") or choose a JPEG or PNG")]
    UnsupportedFormat(&'static str),
    #[error("the image declares {width}×{height} pixels, more than the {max_pixels} pixels or {max_dimension} pixels a side allowed")]
    TooLarge {
        width: u32,
        height: u32,
        max_pixels: u64,
        max_dimension: u32,
    },
    #[error(
        "the image declares {width}×{height} pixels, a shape more elongated than {max_aspect}:1"
    )]
    BadAspect {
        width: u32,
        height: u32,
        max_aspect: u32,
    },
    #[error("the image file is cut short (incomplete copy or download)")]
    Truncated,
    #[error("the image data is damaged: {0}")]
    Corrupt(String),
    #[error("the photo could not be re-encoded: {0}")]
    Encode(String),
}

/// An error as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoErrorView {
    pub code: String,
    pub message: String,
    pub message_vi: String,
}

impl PhotoError {
    /// A stable code for the UI and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "photo_empty",
            Self::NotAnImage => "photo_not_an_image",
            Self::UnsupportedFormat(_) => "photo_unsupported_format",
            Self::TooLarge { .. } => "photo_too_large",
            Self::BadAspect { .. } => "photo_bad_aspect",
            Self::Truncated => "photo_truncated",
            Self::Corrupt(_) => "photo_corrupt",
            Self::Encode(_) => "photo_encode_failed",
        }
    }

    /// The message in Vietnamese.
    pub fn message_vi(&self) -> String {
        match self {
            Self::Empty => "Tệp rỗng, không có dữ liệu ảnh.".into(),
            Self::NotAnImage => "Tệp này không phải là ảnh (cần ảnh JPEG hoặc PNG).".into(),
            Self::UnsupportedFormat(f) => format!(
                "Không hỗ trợ ảnh {f}. Hãy đặt máy ảnh lưu ảnh JPEG (\"Tương thích nhất\") hoặc chọn ảnh JPEG/PNG."
            ),
            Self::TooLarge {
                width,
                height,
                max_pixels,
                max_dimension,
            } => format!(
                "Ảnh khai báo kích thước {width}×{height} điểm ảnh, vượt giới hạn {max_pixels} điểm ảnh hoặc {max_dimension} điểm ảnh mỗi cạnh."
            ),
            Self::BadAspect {
                width,
                height,
                max_aspect,
            } => format!(
                "Ảnh khai báo kích thước {width}×{height} điểm ảnh, tỉ lệ các cạnh vượt quá {max_aspect}:1."
            ),
            Self::Truncated => {
                "Tệp ảnh bị thiếu phần cuối (sao chép hoặc tải về chưa xong).".into()
            }
            Self::Corrupt(detail) => format!("Dữ liệu ảnh bị hỏng: {detail}"),
            Self::Encode(detail) => format!("Không mã hoá lại được ảnh: {detail}"),
        }
    }

    pub fn view(&self) -> PhotoErrorView {
        PhotoErrorView {
            code: self.code().into(),
            message: self.to_string(),
            message_vi: self.message_vi(),
        }
    }
}

/// The format of `bytes` from its signature; other known image formats get a clear refusal.
fn sniff(bytes: &[u8]) -> Result<SourceFormat, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(SourceFormat::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(SourceFormat::Png);
    }
    if bytes.get(4..8) == Some(b"ftyp") {
        let brand = bytes.get(8..12).unwrap_or_default();
        return Err(PhotoError::UnsupportedFormat(match brand {
            b"avif" | b"avis" => "AVIF",
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"mif1" | b"msf1" | b"heim" | b"heis" => {
                "HEIC/HEIF"
            }
            _ => return Err(PhotoError::NotAnImage),
        }));
    }
    if bytes.starts_with(b"GIF8") {
        return Err(PhotoError::UnsupportedFormat("GIF"));
    }
    if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return Err(PhotoError::UnsupportedFormat("WebP"));
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return Err(PhotoError::UnsupportedFormat("TIFF/RAW"));
    }
    if bytes.starts_with(b"BM") {
        return Err(PhotoError::UnsupportedFormat("BMP"));
    }
    Err(PhotoError::NotAnImage)
}

/// Refuses declared sizes that are empty, too large or absurdly elongated.
fn check_declared(width: u32, height: u32, opts: &PhotoOptions) -> Result<(), PhotoError> {
    if width == 0 || height == 0 {
        return Err(PhotoError::Corrupt(format!(
            "the image declares {width}×{height} pixels"
        )));
    }
    if width > opts.max_dimension
        || height > opts.max_dimension
        || u64::from(width) * u64::from(height) > opts.max_pixels
    {
        return Err(PhotoError::TooLarge {
            width,
            height,
            max_pixels: opts.max_pixels,
            max_dimension: opts.max_dimension,
        });
    }
    let (long, short) = (width.max(height), width.min(height));
    if u64::from(long) > u64::from(short) * u64::from(opts.max_aspect.max(1)) {
        return Err(PhotoError::BadAspect {
            width,
            height,
            max_aspect: opts.max_aspect,
        });
    }
    Ok(())
}

/// The size of `w`×`h` fitted in a `long_edge` square, never larger than it is.
pub fn target_size(w: u32, h: u32, long_edge: u32) -> (u32, u32) {
    let long = w.max(h);
    if long <= long_edge || long_edge == 0 {
        return (w, h);
    }
    let scale = |v: u32| -> u32 {
        let scaled = (u64::from(v) * u64::from(long_edge) + u64::from(long) / 2) / u64::from(long);
        u32::try_from(scaled)
            .unwrap_or(long_edge)
            .clamp(1, long_edge)
    };
    if w >= h {
        (long_edge, scale(h))
    } else {
        (scale(w), long_edge)
    }
}

/// Runs the whole pipeline on the bytes of a captured or chosen photo.
pub fn process(original: &[u8], opts: &PhotoOptions) -> Result<ProcessedPhoto, PhotoError> {
    // At capture time, before anything else looks at the bytes.
    let sha256_original = Sha256Digest::of(original);
    let format = sniff(original)?;
    let decoded = match format {
        SourceFormat::Jpeg => decode_jpeg(original, opts)?,
        SourceFormat::Png => decode_png(original, opts)?,
    };
    let (tw, th) = target_size(decoded.width, decoded.height, opts.long_edge);
    let (rgb, w, h) = resize(decoded.rgb, decoded.width, decoded.height, tw, th)?;
    let (rgb, width, height) = orient::apply(decoded.orientation, rgb, w, h);
    let jpeg = encode(&rgb, width, height, opts.quality)?;
    let sha256 = Sha256Digest::of(&jpeg);
    Ok(ProcessedPhoto {
        jpeg,
        width,
        height,
        sha256_original,
        sha256,
        orientation_applied: decoded.orientation,
        original_width: decoded.original_width,
        original_height: decoded.original_height,
        original_format: format,
    })
}

/// A decoded RGB image, possibly already reduced by DCT scaling.
struct Decoded {
    rgb: Vec<u8>,
    width: u32,
    height: u32,
    orientation: u8,
    original_width: u32,
    original_height: u32,
}

fn decode_jpeg(bytes: &[u8], opts: &PhotoOptions) -> Result<Decoded, PhotoError> {
    use markers::HeaderError;
    let info = markers::read_info(bytes).map_err(|e| match e {
        HeaderError::NotJpeg => PhotoError::NotAnImage,
        HeaderError::Truncated => PhotoError::Truncated,
        HeaderError::Malformed => PhotoError::Corrupt("malformed JPEG headers".into()),
    })?;
    check_declared(info.width, info.height, opts)?;
    if !info.has_eoi {
        return Err(PhotoError::Truncated);
    }
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    // Beyond what the declared (checked) size needs: the decoder refuses rather than allocates.
    decoder.set_max_decoding_buffer_size(
        usize::try_from(opts.max_pixels.saturating_mul(4)).unwrap_or(usize::MAX),
    );
    decoder.read_info().map_err(jpeg_err)?;
    let (tw, th) = target_size(info.width, info.height, opts.long_edge);
    // The decoder picks the smallest of 1/8, 1/4, 1/2, 1 that is at least the size asked.
    let headroom = opts.dct_headroom.max(1);
    let (w, h) = decoder
        .scale(
            u16::try_from(tw.saturating_mul(headroom)).unwrap_or(u16::MAX),
            u16::try_from(th.saturating_mul(headroom)).unwrap_or(u16::MAX),
        )
        .map_err(jpeg_err)?;
    let pixels = decoder.decode().map_err(jpeg_err)?;
    let format = decoder
        .info()
        .ok_or_else(|| PhotoError::Corrupt("no frame".into()))?
        .pixel_format;
    let (w, h) = (u32::from(w), u32::from(h));
    let n = w as usize * h as usize;
    use jpeg_decoder::PixelFormat;
    let rgb = match format {
        PixelFormat::RGB24 => pixels,
        PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        PixelFormat::L16 => pixels
            .chunks_exact(2)
            .flat_map(|c| [c[0], c[0], c[0]])
            .collect(),
        PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|c| {
                // Adobe CMYK JPEGs are stored inverted; jpeg-decoder hands them back as stored.
                let k = u16::from(c[3]);
                [0, 1, 2].map(|i| ((u16::from(c[i]) * k + 127) / 255) as u8)
            })
            .collect(),
    };
    if rgb.len() < n * 3 {
        return Err(PhotoError::Truncated);
    }
    Ok(Decoded {
        rgb,
        width: w,
        height: h,
        orientation: info.orientation,
        original_width: info.width,
        original_height: info.height,
    })
}

fn jpeg_err(e: jpeg_decoder::Error) -> PhotoError {
    match e {
        jpeg_decoder::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            PhotoError::Truncated
        }
        jpeg_decoder::Error::Unsupported(f) => {
            PhotoError::Corrupt(format!("unsupported JPEG feature: {f:?}"))
        }
        other => PhotoError::Corrupt(other.to_string()),
    }
}

fn decode_png(bytes: &[u8], opts: &PhotoOptions) -> Result<Decoded, PhotoError> {
    use image::ImageDecoder as _;
    // IHDR is always the first chunk: width and height at bytes 16..24.
    let ihdr = bytes.get(8..24).ok_or(PhotoError::Truncated)?;
    if &ihdr[4..8] != b"IHDR" {
        return Err(PhotoError::Corrupt("PNG without IHDR".into()));
    }
    let width = u32::from_be_bytes([ihdr[8], ihdr[9], ihdr[10], ihdr[11]]);
    let height = u32::from_be_bytes([ihdr[12], ihdr[13], ihdr[14], ihdr[15]]);
    check_declared(width, height, opts)?;
    // Every PNG ends with an IEND chunk (searched from the end: found at once).
    if !bytes[8..].windows(4).rev().any(|w| w == b"IEND") {
        return Err(PhotoError::Truncated);
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(opts.max_dimension);
    limits.max_image_height = Some(opts.max_dimension);
    limits.max_alloc = Some(opts.max_pixels.saturating_mul(8));
    let mut decoder =
        image::codecs::png::PngDecoder::with_limits(Cursor::new(bytes), limits).map_err(png_err)?;
    let orientation = decoder
        .exif_metadata()
        .ok()
        .flatten()
        .and_then(|tiff| exif::orientation_in_tiff(&tiff))
        .unwrap_or(1);
    let img = image::DynamicImage::from_decoder(decoder).map_err(png_err)?;
    let rgb = if img.color().has_alpha() {
        // Transparent areas show as white, as in a gallery.
        let rgba = img.into_rgba8();
        rgba.pixels()
            .flat_map(|p| {
                let a = u16::from(p[3]);
                [0, 1, 2].map(|i| ((u16::from(p[i]) * a + 255 * (255 - a) + 127) / 255) as u8)
            })
            .collect()
    } else {
        img.into_rgb8().into_raw()
    };
    Ok(Decoded {
        rgb,
        width,
        height,
        orientation,
        original_width: width,
        original_height: height,
    })
}

fn png_err(e: image::ImageError) -> PhotoError {
    match e {
        image::ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            PhotoError::Truncated
        }
        image::ImageError::Limits(_) => PhotoError::Corrupt("PNG over the size limits".into()),
        other => {
            let msg = other.to_string();
            if msg.contains("EOF") || msg.contains("end of") || msg.contains("unexpected end") {
                PhotoError::Truncated
            } else {
                PhotoError::Corrupt(msg)
            }
        }
    }
}

fn resize(
    rgb: Vec<u8>,
    w: u32,
    h: u32,
    tw: u32,
    th: u32,
) -> Result<(Vec<u8>, u32, u32), PhotoError> {
    if (w, h) == (tw, th) {
        return Ok((rgb, w, h));
    }
    let src = fr::images::Image::from_vec_u8(w, h, rgb, fr::PixelType::U8x3)
        .map_err(|e| PhotoError::Corrupt(e.to_string()))?;
    let mut dst = fr::images::Image::new(tw, th, fr::PixelType::U8x3);
    let options =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
    fr::Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| PhotoError::Corrupt(e.to_string()))?;
    Ok((dst.into_vec(), tw, th))
}

/// Baseline JPEG, 4:2:0 below quality 90 (as libjpeg and libvips do), the standard Huffman
/// tables, no metadata segment. Not jpeg-encoder's optimised Huffman tables: they would save
/// about 5 %, but zune-jpeg 0.5 (the server's decoder, through `image`) decodes them into wrong
/// colours (libjpeg-turbo and jpeg-decoder read them right).
fn encode(rgb: &[u8], w: u32, h: u32, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let (w16, h16) = (
        u16::try_from(w).map_err(|_| PhotoError::Encode("too wide".into()))?,
        u16::try_from(h).map_err(|_| PhotoError::Encode("too tall".into()))?,
    );
    let mut out = Vec::with_capacity(rgb.len() / 8);
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
    encoder.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
    encoder
        .encode(rgb, w16, h16, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| PhotoError::Encode(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests;
