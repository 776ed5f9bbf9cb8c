//! Unit ids of the demo's places, in the code list in force (the units themselves are the shipped
//! reference data, loaded by [`crate::service::reference::ensure`]).

use crate::service::reference::units::{unit_id as versioned, CURRENT};

pub fn unit_id(code: &str) -> String {
    versioned(CURRENT, code)
}
