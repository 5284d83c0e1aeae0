//! Login IDs: the e-mail-shaped account names (`allen_tan@students.edu.sg`).
//! Parsed once at the boundary; the rest of the code holds a [`LoginId`].

use serde::{Deserialize, Serialize};

/// The longest login ID accepted (the local part of an address is at most 64 bytes).
pub const MAX_LOGIN_ID_CHARS: usize = 254;

/// A syntactically valid, lower-cased login ID. Deserialising checks it too, so no
/// malformed one can arrive from the wire or the database.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LoginId(String);

impl LoginId {
    /// Trims, lower-cases and checks the shape `local@domain`. Returns `None` for
    /// anything else; callers answer with the generic sign-in failure.
    pub fn parse(raw: &str) -> Option<LoginId> {
        let id = raw.trim().to_lowercase();
        if id.is_empty() || id.chars().count() > MAX_LOGIN_ID_CHARS {
            return None;
        }
        let (local, domain) = id.split_once('@')?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '+'));
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
        (local_ok && domain_ok).then_some(LoginId(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LoginId {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        LoginId::parse(&raw).ok_or_else(|| "not a login ID".to_string())
    }
}

impl From<LoginId> for String {
    fn from(id: LoginId) -> String {
        id.0
    }
}

impl std::fmt::Display for LoginId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_login_id_parses_whatever_its_case_and_padding() {
        let id = LoginId::parse("  Allen_Tan@Students.edu.sg ").map(|i| i.0);
        assert_eq!(id.as_deref(), Some("allen_tan@students.edu.sg"));
    }

    #[test]
    fn malformed_ids_are_refused() {
        for raw in [
            "",
            "allen_tan",
            "@students.edu.sg",
            "allen tan@students.edu.sg",
            "allen_tan@",
            "allen_tan@localhost",
            "allen_tan@students..edu.sg.",
            "allen'tan@students.edu.sg",
        ] {
            assert_eq!(LoginId::parse(raw), None, "{raw:?}");
        }
        assert_eq!(LoginId::parse(&"a".repeat(300)), None);
    }
}
