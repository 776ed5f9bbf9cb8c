//! A small JPEG header reader: walks the marker segments before the first scan to learn the
//! declared size (before any pixel buffer is allocated), the EXIF orientation, and whether the
//! file ends with an EOI marker. Also lists the markers of a file, which the tests use to prove
//! that nothing but image data is left in our output.

/// One marker segment of a JPEG file (`FF xx`), with its payload (empty for SOI/EOI/RSTn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment<'a> {
    pub marker: u8,
    pub payload: &'a [u8],
}

/// What the headers of a JPEG declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegInfo {
    pub width: u32,
    pub height: u32,
    /// Components of the frame (1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK).
    pub components: u8,
    /// EXIF orientation (1–8); 1 when there is no EXIF or no orientation tag.
    pub orientation: u8,
    /// An EOI marker follows the first scan somewhere (entropy-coded data cannot contain
    /// `FF D9`, byte stuffing turns data `FF` into `FF 00`).
    pub has_eoi: bool,
}

/// Why the headers could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderError {
    /// Not starting with SOI.
    NotJpeg,
    /// The file ends inside the headers, or before a scan.
    Truncated,
    /// A segment length or frame header that makes no sense.
    Malformed,
}

pub const SOI: u8 = 0xD8;
pub const EOI: u8 = 0xD9;
pub const SOS: u8 = 0xDA;
pub const COM: u8 = 0xFE;
pub const APP0: u8 = 0xE0;
pub const APP1: u8 = 0xE1;
pub const APP15: u8 = 0xEF;

fn standalone(marker: u8) -> bool {
    matches!(marker, SOI | EOI | 0x01 | 0xD0..=0xD7)
}

/// Start-of-frame markers (baseline, extended, progressive, lossless, arithmetic…): C0–CF
/// except DHT (C4), JPG (C8) and DAC (CC).
fn is_sof(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// The segments from SOI up to and including the first SOS (whose payload is its header only).
pub fn header_segments(data: &[u8]) -> Result<Vec<Segment<'_>>, HeaderError> {
    if data.len() < 2 || data[0] != 0xFF || data[1] != SOI {
        return Err(HeaderError::NotJpeg);
    }
    let mut out = vec![Segment {
        marker: SOI,
        payload: &[],
    }];
    let mut pos = 2;
    loop {
        // Skip fill bytes (any number of FF before the marker code).
        if pos >= data.len() {
            return Err(HeaderError::Truncated);
        }
        if data[pos] != 0xFF {
            return Err(HeaderError::Malformed);
        }
        while pos < data.len() && data[pos] == 0xFF {
            pos += 1;
        }
        let Some(&marker) = data.get(pos) else {
            return Err(HeaderError::Truncated);
        };
        pos += 1;
        if standalone(marker) {
            if marker == EOI {
                // EOI before any scan: no image.
                return Err(HeaderError::Truncated);
            }
            out.push(Segment {
                marker,
                payload: &[],
            });
            continue;
        }
        let len_bytes = data.get(pos..pos + 2).ok_or(HeaderError::Truncated)?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        if len < 2 {
            return Err(HeaderError::Malformed);
        }
        let payload = data.get(pos + 2..pos + len).ok_or(HeaderError::Truncated)?;
        out.push(Segment { marker, payload });
        pos += len;
        if marker == SOS {
            return Ok(out);
        }
    }
}

/// Every marker of a whole file, in order, including those between and after scans (the
/// entropy-coded data is skipped). Used to audit our output.
pub fn all_markers(data: &[u8]) -> Result<Vec<Segment<'_>>, HeaderError> {
    let mut out = header_segments(data)?;
    let last = out
        .last()
        .map(|s| s.payload.as_ptr() as usize + s.payload.len());
    let mut pos = last.map_or(data.len(), |end| end - data.as_ptr() as usize);
    while pos + 1 < data.len() {
        if data[pos] != 0xFF || data[pos + 1] == 0x00 || data[pos + 1] == 0xFF {
            pos += 1;
            continue;
        }
        let marker = data[pos + 1];
        pos += 2;
        if matches!(marker, 0xD0..=0xD7) {
            continue; // restart markers inside a scan
        }
        if marker == EOI {
            out.push(Segment {
                marker,
                payload: &[],
            });
            return Ok(out);
        }
        let len_bytes = data.get(pos..pos + 2).ok_or(HeaderError::Truncated)?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        let payload = data
            .get(pos + 2..pos + len.max(2))
            .ok_or(HeaderError::Truncated)?;
        out.push(Segment { marker, payload });
        pos += len.max(2);
    }
    Err(HeaderError::Truncated)
}

/// Reads the declared size, components and EXIF orientation from the headers only.
pub fn read_info(data: &[u8]) -> Result<JpegInfo, HeaderError> {
    let segments = header_segments(data)?;
    let mut frame = None;
    let mut orientation = 1;
    let mut scan_end = data.len();
    for s in &segments {
        if is_sof(s.marker) {
            let p = s.payload;
            if p.len() < 6 {
                return Err(HeaderError::Malformed);
            }
            let height = u32::from(u16::from_be_bytes([p[1], p[2]]));
            let width = u32::from(u16::from_be_bytes([p[3], p[4]]));
            frame = Some((width, height, p[5]));
        } else if s.marker == APP1 {
            if let Some(o) = super::exif::orientation(s.payload) {
                orientation = o;
            }
        } else if s.marker == SOS {
            scan_end = s.payload.as_ptr() as usize + s.payload.len() - data.as_ptr() as usize;
        }
    }
    let (width, height, components) = frame.ok_or(HeaderError::Malformed)?;
    let has_eoi = data[scan_end..].windows(2).any(|w| w == [0xFF, EOI]);
    Ok(JpegInfo {
        width,
        height,
        components,
        orientation,
        has_eoi,
    })
}

/// Inserts `segment` (a complete marker segment, `FF xx len…`) right after SOI.
pub fn insert_after_soi(jpeg: &[u8], segment: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(jpeg.len() + segment.len());
    out.extend_from_slice(&jpeg[..2.min(jpeg.len())]);
    out.extend_from_slice(segment);
    out.extend_from_slice(&jpeg[2.min(jpeg.len())..]);
    out
}

/// A complete marker segment with `payload`.
pub fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len() + 2).unwrap_or(u16::MAX);
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out
}
