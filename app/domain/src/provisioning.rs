//! Pure rules for provisioning accounts: who is what (from the login ID's domain),
//! how a student's login ID is made from the full name (the school e-mail naming rules),
//! and what a readable temporary password looks like.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization as _;

use super::login_id::LoginId;

pub const STUDENT_DOMAIN: &str = "students.edu.sg";
pub const STAFF_DOMAIN: &str = "schools.gov.sg";
pub const HQ_DOMAIN: &str = "hq.moe.gov.sg";

/// What an account may do. Stored in the account record when it is created, from the
/// login ID's domain; never taken from what a browser sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Student,
    /// School staff (`@schools.gov.sg`): manage the students of their own school.
    Staff,
    /// HQ staff (`@hq.moe.gov.sg`): manage schools and staff.
    Hq,
}

impl Role {
    /// The role a login ID's domain stands for, if it is one of the three.
    pub fn of(login_id: &LoginId) -> Option<Role> {
        match login_id.as_str().rsplit_once('@').map(|(_, d)| d) {
            Some(STUDENT_DOMAIN) => Some(Role::Student),
            Some(STAFF_DOMAIN) => Some(Role::Staff),
            Some(HQ_DOMAIN) => Some(Role::Hq),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Staff => "staff",
            Role::Hq => "hq",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "student" => Some(Role::Student),
            "staff" => Some(Role::Staff),
            "hq" => Some(Role::Hq),
            _ => None,
        }
    }
}

/// Name words the school e-mail rules leave out ("bin", "binte", "s/o", …).
const DROPPED_WORDS: [&str; 7] = ["bin", "binti", "bte", "binte", "s/o", "d/o", "a/l"];
/// At most this many name words make the login ID.
pub const MAX_NAME_WORDS: usize = 4;

/// The login ID's local part before any duplicate suffix: lower case, accents removed,
/// "bin"/"binte"/"s/o"/"d/o" and punctuation dropped, at most the first four name
/// words, joined with `_`. `None` when no letter or digit is left.
pub fn login_base(full_name: &str) -> Option<String> {
    let words: Vec<String> = full_name
        .split_whitespace()
        .map(str::to_lowercase)
        .filter(|w| !DROPPED_WORDS.contains(&w.as_str()))
        .map(|w| {
            // NFKD splits "é" into "e" + accent; keep ASCII letters and digits only.
            w.nfkd()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .filter(|w| !w.is_empty())
        .take(MAX_NAME_WORDS)
        .collect();
    if words.is_empty() {
        return None;
    }
    let mut base = words.join("_");
    // An e-mail local part is at most 64 bytes; keep room for a numeric suffix.
    base.truncate(56);
    Some(base.trim_end_matches('_').to_string())
}

/// A new student's login ID: the base, then `base1`, `base2`, … if taken.
pub fn new_student_login_id(full_name: &str, taken: &HashSet<String>) -> Option<LoginId> {
    new_login_id(full_name, STUDENT_DOMAIN, taken)
}

/// A new login ID in `domain` by the same naming rules.
pub fn new_login_id(full_name: &str, domain: &str, taken: &HashSet<String>) -> Option<LoginId> {
    let base = login_base(full_name)?;
    (0..)
        .map(|n| login_id_candidate(&base, domain, n))
        .find(|candidate| !taken.contains(candidate))
        .and_then(|id| LoginId::parse(&id))
}

/// The `n`th login ID tried for a name's `base`: `base@domain`, then `base1@domain`, …
pub fn login_id_candidate(base: &str, domain: &str, n: usize) -> String {
    if n == 0 {
        format!("{base}@{domain}")
    } else {
        format!("{base}{n}@{domain}")
    }
}

/// Letters and digits a child cannot confuse: no `i l 1 o 0`.
pub const TEMP_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A temporary password: three groups of four characters of [`TEMP_ALPHABET`], e.g.
/// `kq7m-3bdx-h4tp` — about 59 bits, read aloud letter by letter. `pick(n)` must return
/// an index uniform in `0..n` (the server's is `rand`'s `gen_range`, which rejects the
/// draws that would favour low indexes; a plain `% n` of a random word would not).
pub fn temporary_password(mut pick: impl FnMut(usize) -> usize) -> String {
    let mut out = String::with_capacity(14);
    for group in 0..3 {
        if group > 0 {
            out.push('-');
        }
        for _ in 0..4 {
            let index = pick(TEMP_ALPHABET.len()).min(TEMP_ALPHABET.len() - 1);
            out.push(char::from(TEMP_ALPHABET[index]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_naming_rules() {
        for (name, base) in [
            ("Allen Tan", "allen_tan"),
            ("Nur Aisyah binte Rahman", "nur_aisyah_rahman"),
            ("Muhammad Hafiz bin Ismail", "muhammad_hafiz_ismail"),
            ("Priya d/o Subramaniam", "priya_subramaniam"),
            ("Arjun S/O Kumar", "arjun_kumar"),
            ("Siti bte Osman", "siti_osman"),
            ("Tan Ah Kow Benjamin Lee", "tan_ah_kow_benjamin"),
            ("  Chloé   O'Neil-Ng ", "chloe_oneilng"),
            ("LIM WEI LING", "lim_wei_ling"),
        ] {
            assert_eq!(login_base(name).as_deref(), Some(base), "{name}");
        }
        assert_eq!(login_base("bin bte"), None);
        assert_eq!(login_base("陈大文"), None);
        assert_eq!(login_base("=cmd()"), Some("cmd".to_string()));
    }

    #[test]
    fn duplicates_get_a_numeric_suffix() {
        let mut taken = HashSet::new();
        let mut ids = Vec::new();
        for _ in 0..3 {
            let id = new_student_login_id("Allen Tan", &taken).map(|i| i.to_string());
            let id = id.unwrap_or_default();
            taken.insert(id.clone());
            ids.push(id);
        }
        assert_eq!(
            ids,
            [
                "allen_tan@students.edu.sg",
                "allen_tan1@students.edu.sg",
                "allen_tan2@students.edu.sg"
            ]
        );
    }

    #[test]
    fn roles_come_from_the_domain() {
        let role = |s: &str| LoginId::parse(s).and_then(|id| Role::of(&id));
        assert_eq!(role("allen_tan@students.edu.sg"), Some(Role::Student));
        assert_eq!(role("mdm_lee@schools.gov.sg"), Some(Role::Staff));
        assert_eq!(role("mr_ong@hq.moe.gov.sg"), Some(Role::Hq));
        assert_eq!(role("x@evil.schools.gov.sg.example"), None);
    }

    #[test]
    fn each_character_is_one_uniform_pick_over_the_whole_alphabet() {
        // The generator is asked for an index below the alphabet's size (so it can
        // reject biased draws), and every index maps to its own character.
        let mut asked = Vec::new();
        let mut next = 0;
        let pw = temporary_password(|len| {
            asked.push(len);
            next += 1;
            (next * 7) % len
        });
        assert_eq!(asked, vec![TEMP_ALPHABET.len(); 12]);
        let expected: String = (1..=12)
            .map(|i| char::from(TEMP_ALPHABET[(i * 7) % TEMP_ALPHABET.len()]))
            .collect();
        assert_eq!(pw.replace('-', ""), expected);
    }

    #[test]
    fn temporary_passwords_avoid_look_alikes() {
        let mut n = 0usize;
        let pw = temporary_password(|len| {
            n = n.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (n >> 8) % len
        });
        assert_eq!(pw.len(), 14);
        assert!(
            pw.chars()
                .all(|c| c == '-' || TEMP_ALPHABET.contains(&(c as u8))),
            "{pw}"
        );
        for bad in ['i', 'l', '1', 'o', '0'] {
            assert!(!pw.contains(bad));
        }
    }

    proptest! {
        #[test]
        fn generated_ids_are_valid_and_unique(
            names in proptest::collection::vec("[A-Za-z' /.-]{0,30}", 1..40)
        ) {
            let mut taken = HashSet::new();
            for name in &names {
                if let Some(id) = new_student_login_id(name, &taken) {
                    prop_assert!(LoginId::parse(id.as_str()).is_some());
                    prop_assert_eq!(Role::of(&id), Some(Role::Student));
                    prop_assert!(taken.insert(id.to_string()), "duplicate {}", id);
                } else {
                    prop_assert!(login_base(name).is_none());
                }
            }
        }

        #[test]
        fn the_base_is_stable(name in "\\PC{0,40}") {
            // Same name, same base: a re-import finds the same students.
            prop_assert_eq!(login_base(&name), login_base(&name));
            if let Some(base) = login_base(&name) {
                prop_assert!(base.split('_').count() <= MAX_NAME_WORDS);
                prop_assert!(base.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
            }
        }
    }
}
