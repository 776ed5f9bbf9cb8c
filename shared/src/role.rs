//! People: the four roles of the system, a member's role in a team, team levels, usernames and
//! the password policy.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, DomainResult};

domain_enum! {
    /// What an account may do. Jurisdiction (which units) comes from the account's unit and teams.
    pub enum Role ("role") {
        /// Whole country: reference data, accounts, every province.
        Admin = "admin", "Quản trị hệ thống", "Administrator";
        /// Provincial (or commune) staff of the standing agency: coverage, reports, teams.
        ProvincialStaff = "provincial_staff", "Cán bộ cấp tỉnh", "Provincial staff";
        /// Leader or deputy of a team: plans, releases, reviews.
        TeamLeader = "team_leader", "Đội trưởng", "Team leader";
        /// Team member who records visits on a phone.
        Inspector = "inspector", "Thành viên đoàn kiểm tra", "Inspector";
    }
}

domain_enum! {
    /// A member's role inside one team (đội trưởng / đội phó / thành viên).
    pub enum MemberRole ("role") {
        Leader = "leader", "Đội trưởng", "Leader";
        Deputy = "deputy", "Đội phó", "Deputy";
        Member = "member", "Thành viên", "Member";
    }
}

impl MemberRole {
    /// Leader and deputies form the team's "leader's chain": they plan and see drafts.
    pub const fn is_leadership(self) -> bool {
        matches!(self, MemberRole::Leader | MemberRole::Deputy)
    }
}

domain_enum! {
    /// The level a team works at; its jurisdiction is the subtree of its unit.
    pub enum TeamLevel ("level") {
        Province = "province", "Cấp tỉnh", "Province";
        Commune = "commune", "Cấp xã", "Commune";
    }
}

domain_enum! {
    /// Agencies that second members to a team (police, health, culture, …).
    pub enum AgencyKind ("agency_kind") {
        Police = "police", "Công an", "Police";
        Health = "health", "Y tế", "Health";
        LabourSocial = "labour_social", "Lao động - Thương binh và Xã hội", "Labour and social affairs";
        Culture = "culture", "Văn hóa, Thể thao và Du lịch", "Culture, sports and tourism";
        /// Sở Du lịch, where a province has one apart from culture (Huế).
        Tourism = "tourism", "Du lịch", "Tourism";
        Trade = "trade", "Công Thương", "Industry and trade";
        PeoplesCommittee = "peoples_committee", "Ủy ban nhân dân", "People's Committee";
        Other = "other", "Khác", "Other";
    }
}

/// Shortest and longest username.
pub const USERNAME_LEN: (usize, usize) = (3, 64);
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted (argon2 hashes anything, but a megabyte "password" is an attack).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A login name: 3–64 characters, lowercase ASCII letters, digits, `.`, `_`, `-`, starting with a
/// letter (`doitruong.hue`). Input is lowercased, so sign-in is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> DomainResult<Self> {
        let s = s.trim().to_ascii_lowercase();
        if s.is_empty() {
            return Err(DomainError::required("username"));
        }
        let n = s.chars().count();
        if n < USERNAME_LEN.0 || n > USERNAME_LEN.1 {
            return Err(DomainError::out_of_range(
                "username",
                format!(
                    "must be {} to {} characters long",
                    USERNAME_LEN.0, USERNAME_LEN.1
                ),
            ));
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(DomainError::invalid("username", "must start with a letter"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(DomainError::invalid(
                "username",
                "may contain only letters a-z without accents, digits, '.', '_' and '-'",
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Username {
    type Error = DomainError;
    fn try_from(s: String) -> DomainResult<Self> {
        Self::parse(&s)
    }
}

impl From<Username> for String {
    fn from(u: Username) -> Self {
        u.0
    }
}

/// The password policy for new accounts: 10 to 256 characters, not only digits, not only one
/// repeated character. Long passphrases are encouraged over character-class rules (NIST 800-63B).
pub fn check_password_policy(password: &str) -> DomainResult<()> {
    let n = password.chars().count();
    if n == 0 {
        return Err(DomainError::required("password"));
    }
    if n < MIN_PASSWORD_CHARS {
        return Err(DomainError::out_of_range(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters long"),
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(DomainError::too_long("password", MAX_PASSWORD_CHARS));
    }
    if password.chars().all(|c| c.is_ascii_digit()) {
        return Err(DomainError::invalid("password", "must not be only digits"));
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next() {
        if chars.all(|c| c == first) {
            return Err(DomainError::invalid(
                "password",
                "must not repeat one character",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn enums_are_consistent() {
        test_domain_enum!(Role);
        test_domain_enum!(MemberRole);
        test_domain_enum!(TeamLevel);
        test_domain_enum!(AgencyKind);
    }

    #[test]
    fn leadership_is_leader_and_deputy() {
        assert!(MemberRole::Leader.is_leadership());
        assert!(MemberRole::Deputy.is_leadership());
        assert!(!MemberRole::Member.is_leadership());
    }

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(
            Username::parse(" DoiTruong.Hue ").unwrap().as_str(),
            "doitruong.hue"
        );
        assert_eq!(Username::parse("").unwrap_err().code, "required");
        assert_eq!(Username::parse("ab").unwrap_err().code, "out_of_range");
        assert_eq!(Username::parse("1abc").unwrap_err().code, "invalid");
        assert_eq!(Username::parse("đội.hue").unwrap_err().code, "invalid");
        assert_eq!(Username::parse("a b c").unwrap_err().field, "username");
        let u: Username = serde_json::from_str("\"Kiemtra.Hue\"").unwrap();
        assert_eq!(serde_json::to_string(&u).unwrap(), "\"kiemtra.hue\"");
    }

    #[test]
    fn password_policy() {
        assert!(check_password_policy("doi178-demo").is_ok());
        assert_eq!(check_password_policy("").unwrap_err().code, "required");
        assert_eq!(
            check_password_policy("short").unwrap_err().code,
            "out_of_range"
        );
        assert_eq!(
            check_password_policy("12345678901").unwrap_err().code,
            "invalid"
        );
        assert_eq!(
            check_password_policy("aaaaaaaaaaaa").unwrap_err().code,
            "invalid"
        );
        assert_eq!(
            check_password_policy(&"ab".repeat(200)).unwrap_err().code,
            "too_long"
        );
        assert_eq!(check_password_policy("x").unwrap_err().field, "password");
    }
}
