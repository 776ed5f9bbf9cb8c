//! Core of the doi178 field app. Filled in by the field-app issue; for now it re-exports the domain.
pub use doi178_shared as shared;
pub mod photo;
