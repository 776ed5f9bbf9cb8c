//! doi178 domain: the types, validation rules and small calculations shared by the server and the
//! field app. Pure: no IO, no HTTP, no database. A value of a type from here is valid by construction.

#[macro_use]
mod macros;

pub mod assignment;
pub mod checklist;
pub mod coverage;
pub mod error;
pub mod establishment;
pub mod geo;
pub mod lang;
pub mod pagination;
pub mod photo;
pub mod problem;
pub mod programme;
pub mod role;
pub mod sync;
pub mod team;
pub mod text;
pub mod time;
pub mod tip;
pub mod unit;
pub mod visit;
pub mod wire;

pub use error::{DomainError, DomainResult};
pub use problem::ProblemCode;
pub use role::{check_password_policy, AgencyKind, MemberRole, Role, TeamLevel, Username};
