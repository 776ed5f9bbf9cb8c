//! An establishment list uploaded as a workbook: the ZIP container, the sheet XML and the cells.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    doi178_fuzz::keep_caught_panics();
    doi178_fuzz::import::parse("list.xlsx", data);
});
