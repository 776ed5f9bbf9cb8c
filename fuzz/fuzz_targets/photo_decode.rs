//! An uploaded photo as `PUT /api/v1/photos/{id}` processes it: format sniffing, the size and
//! allocation limits, decode, EXIF orientation, re-encoding and the thumbnail.
#![no_main]

use doi178_fuzz::photos::process;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = process(data) {
        assert!(p.width > 0 && p.height > 0);
        assert!(p.thumb_width <= doi178_fuzz::photos::THUMB_EDGE);
        assert!(p.thumb_height <= doi178_fuzz::photos::THUMB_EDGE);
    }
});
