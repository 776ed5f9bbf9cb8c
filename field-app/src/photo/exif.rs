//! Just enough EXIF to read (and, for tests and benchmarks, write) the orientation tag.

const ORIENTATION_TAG: u16 = 0x0112;
const TYPE_SHORT: u16 = 3;

/// The orientation (1–8) in an APP1 payload that starts with `Exif\0\0`; `None` when the payload
/// is not EXIF, has no orientation tag, or holds a value out of range.
pub fn orientation(app1: &[u8]) -> Option<u8> {
    let tiff = app1.strip_prefix(b"Exif\0\0")?;
    orientation_in_tiff(tiff)
}

/// The orientation in a TIFF structure (the body of an EXIF block, or a PNG `eXIf` chunk).
pub fn orientation_in_tiff(tiff: &[u8]) -> Option<u8> {
    let big = match tiff.get(0..4)? {
        [b'M', b'M', 0, 42] => true,
        [b'I', b'I', 42, 0] => false,
        _ => return None,
    };
    let u16_at = |p: usize| -> Option<u16> {
        let b = tiff.get(p..p + 2)?;
        Some(if big {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    };
    let u32_at = |p: usize| -> Option<u32> {
        let b = tiff.get(p..p + 4)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some(if big {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    };
    let ifd0 = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd0)?);
    for i in 0..count {
        let entry = ifd0 + 2 + i * 12;
        if u16_at(entry)? != ORIENTATION_TAG {
            continue;
        }
        if u16_at(entry + 2)? != TYPE_SHORT {
            return None;
        }
        let value = u16_at(entry + 8)?;
        return u8::try_from(value).ok().filter(|v| (1..=8).contains(v));
    }
    None
}

/// An APP1 payload (`Exif\0\0` + TIFF) with the orientation tag and a camera make, in big-endian
/// (`MM`) or little-endian (`II`) byte order. For tests and the benchmark's sample photos.
pub fn app1_with_orientation(orientation: u8, big_endian: bool) -> Vec<u8> {
    let make = b"doi178 test camera\0";
    let w16 = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let w32 = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut t = Vec::new();
    t.extend_from_slice(if big_endian { b"MM\0\x2a" } else { b"II\x2a\0" });
    t.extend_from_slice(&w32(8));
    // IFD0: 2 entries, then the next-IFD offset, then the make string.
    let data_offset = 8 + 2 + 2 * 12 + 4;
    t.extend_from_slice(&w16(2));
    // Make (0x010F), ASCII.
    t.extend_from_slice(&w16(0x010F));
    t.extend_from_slice(&w16(2));
    t.extend_from_slice(&w32(make.len() as u32));
    t.extend_from_slice(&w32(data_offset));
    // Orientation, SHORT, value left-justified in the 4-byte field.
    t.extend_from_slice(&w16(ORIENTATION_TAG));
    t.extend_from_slice(&w16(TYPE_SHORT));
    t.extend_from_slice(&w32(1));
    t.extend_from_slice(&w16(u16::from(orientation)));
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&w32(0));
    t.extend_from_slice(make);
    let mut out = b"Exif\0\0".to_vec();
    out.extend_from_slice(&t);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes_in_both_byte_orders() {
        for o in 1..=8 {
            assert_eq!(orientation(&app1_with_orientation(o, true)), Some(o));
            assert_eq!(orientation(&app1_with_orientation(o, false)), Some(o));
        }
        assert_eq!(orientation(&app1_with_orientation(9, true)), None);
        assert_eq!(orientation(b"http://ns.adobe.com/xap/1.0/\0<x/>"), None);
        assert_eq!(orientation(b"Exif\0\0MM\0\x2a\0\0\xff\xff"), None);
    }
}
