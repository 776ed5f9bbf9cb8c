//! Authentication (passwords, tokens) and the authorisation layer (`Actor`).

pub mod actor;
pub mod passwords;
pub mod tokens;

pub use actor::{Actor, Jurisdiction, Membership};
