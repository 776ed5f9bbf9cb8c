//! Applies an EXIF orientation to a packed RGB buffer (after downscaling, where it is cheap).

/// The displayed size of a `w`×`h` stored image with `orientation`.
pub fn oriented_size(orientation: u8, w: u32, h: u32) -> (u32, u32) {
    if (5..=8).contains(&orientation) {
        (h, w)
    } else {
        (w, h)
    }
}

/// Returns the upright image of the stored `src` (`w`×`h`, 3 bytes a pixel) and its size.
/// Orientations (EXIF 2.32 §4.6.4, tag 0x0112): 1 as stored, 2 mirrored left-right, 3 turned
/// 180°, 4 mirrored top-bottom, 5 transposed, 6 turned 90° clockwise, 7 transversed, 8 turned
/// 90° counter-clockwise (the stored image is turned that way to display it).
pub fn apply(orientation: u8, src: Vec<u8>, w: u32, h: u32) -> (Vec<u8>, u32, u32) {
    if !(2..=8).contains(&orientation) {
        return (src, w, h);
    }
    let (ow, oh) = oriented_size(orientation, w, h);
    let (w, h) = (w as usize, h as usize);
    let (ow_u, oh_u) = (ow as usize, oh as usize);
    let mut dst = vec![0u8; src.len()];
    for y in 0..oh_u {
        let row = &mut dst[y * ow_u * 3..(y + 1) * ow_u * 3];
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            // The stored pixel shown at (x, y).
            let (sx, sy) = match orientation {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (y, h - 1 - x),
                7 => (w - 1 - y, h - 1 - x),
                _ => (w - 1 - y, x), // 8
            };
            let s = (sy * w + sx) * 3;
            px.copy_from_slice(&src[s..s + 3]);
        }
    }
    (dst, ow, oh)
}
