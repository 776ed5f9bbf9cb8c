//! The password policy for real (non-demo) accounts, applied wherever a password is set: at least
//! 12 characters (long passphrases over character-class rules, as NIST SP 800-63B advises), not
//! the username nor containing it, and not one of the 10,000 most common passwords (with digits or
//! punctuation merely added around it). Demo accounts keep their documented demo password: the
//! demo generator writes them directly and never goes through this check.

use doi178_shared::ProblemCode;
use std::collections::HashSet;
use std::sync::OnceLock;

use crate::error::ApiError;

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = doi178_shared::role::MAX_PASSWORD_CHARS;

/// Shipped with its source and licence in `common-passwords.README.md`.
const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

fn refuse(code: ProblemCode, detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(code, "password", detail)
}

/// True when `password`, ignoring case and any digits or punctuation added before or after it,
/// is a common password.
pub fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    let set = common_passwords();
    if set.contains(lower.as_str()) {
        return true;
    }
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    !core.is_empty() && set.contains(core)
}

/// Checks a new password for the account `username`; a 422 problem naming `password` otherwise.
pub fn check(username: &str, password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if n == 0 {
        return Err(refuse(ProblemCode::Required, "a password is required"));
    }
    if n < MIN_CHARS {
        return Err(refuse(
            ProblemCode::TooShort,
            format!(
                "the password must be at least {MIN_CHARS} characters long (a few words make a \
                 good one)"
            ),
        ));
    }
    if n > MAX_CHARS {
        return Err(refuse(
            ProblemCode::TooLong,
            format!("the password must be at most {MAX_CHARS} characters long"),
        ));
    }
    if password.chars().all(|c| c.is_ascii_digit()) {
        return Err(refuse(
            ProblemCode::Invalid,
            "the password must not be only digits",
        ));
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next() {
        if chars.all(|c| c == first) {
            return Err(refuse(
                ProblemCode::Invalid,
                "the password must not repeat one character",
            ));
        }
    }
    let user = username.trim().to_lowercase();
    if !user.is_empty() && password.to_lowercase().contains(&user) {
        return Err(refuse(
            ProblemCode::ContainsUsername,
            "the password must not be or contain the username",
        ));
    }
    if is_common(password) {
        return Err(refuse(
            ProblemCode::CommonPassword,
            "this password is among the most common ones and would be guessed first; choose \
             another",
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn code(user: &str, pw: &str) -> ProblemCode {
        let e = check(user, pw).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("password"), "{e}");
        assert_eq!(e.status.as_u16(), 422);
        e.code
    }

    #[test]
    fn the_list_is_shipped_and_complete() {
        let set = common_passwords();
        assert_eq!(set.len(), 10_000);
        for p in ["123456", "password", "qwertyuiop", "iloveyou", "dragon"] {
            assert!(set.contains(p), "{p}");
        }
    }

    #[test]
    fn policy() {
        assert!(check("kiemtra.moi.hue", "Kiem-tra-2026!").is_ok());
        assert!(check("nguoi.dung", "ba con ngựa trên đồi").is_ok());
        assert_eq!(code("a.b", ""), "required");
        assert_eq!(code("a.b", "Short-pw-1"), "too_short");
        assert_eq!(code("a.b", &"ab".repeat(200)), "too_long");
        assert_eq!(code("a.b", "123456789012"), "invalid");
        assert_eq!(code("a.b", "zzzzzzzzzzzzzz"), "invalid");
        assert_eq!(code("kiemtra.hue", "kiemtra.hue!"), "contains_username");
        assert_eq!(code("kiemtra.hue", "KiemTra.Hue-2026"), "contains_username");
        assert_eq!(code("a.b", "qwertyuiop12"), "common_password");
        assert_eq!(code("a.b", "QWERTYUIOP!!"), "common_password");
        assert_eq!(code("a.b", "2026!!Password"), "common_password");
        assert_eq!(code("a.b", "iloveyou1234"), "common_password");
        // Twelve characters are not enough on their own, but a common word inside a longer
        // passphrase is fine.
        assert!(check("a.b", "dragon ở Huế chiều nay").is_ok());
    }
}
