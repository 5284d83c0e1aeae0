//! The password policy: one pure function that the browser runs on every keystroke
//! and the server runs before anything is stored, so both always agree.
//!
//! [`check_password`] returns *every* violation, each tagged with a stable [`RuleId`],
//! so the checklist can tick rules off one by one and the server can refuse with the
//! same list. Rules that need server-side secrets (e.g. "not the temporary password")
//! are reported with the same type by the service that knows the secret.

use serde::{Deserialize, Serialize};

/// Tunable numbers of the policy. Defaults follow the seed guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    /// Minimum length, counted in Unicode scalar values (never bytes).
    pub min_length: usize,
    /// Upper bound so that hashing cost stays bounded.
    pub max_length: usize,
    /// How many of the four character types (upper, lower, number, symbol) are required.
    pub required_classes: usize,
    /// Name and login-ID parts shorter than this are not matched.
    pub min_name_part: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 12,
            max_length: 128,
            required_classes: 3,
            min_name_part: 3,
        }
    }
}

/// Stable identifiers of the rules, used as keys by the UI and in API errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    MinLength,
    MaxLength,
    FirstCharacter,
    NoNamePart,
    CharacterTypes,
    NotCommon,
    NotCurrent,
    ConfirmMatches,
}

/// The four character types of the seed's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CharacterTypes {
    pub uppercase: bool,
    pub lowercase: bool,
    pub number: bool,
    pub symbol: bool,
}

impl CharacterTypes {
    pub fn of(password: &str) -> Self {
        let mut types = Self::default();
        for c in password.chars() {
            if c.is_uppercase() {
                types.uppercase = true;
            } else if c.is_lowercase() {
                types.lowercase = true;
            } else if c.is_numeric() {
                types.number = true;
            } else {
                // Punctuation, spaces and letters without case (e.g. Chinese, Tamil)
                // all count as "symbol", as Active Directory's complexity rule does.
                types.symbol = true;
            }
        }
        types
    }

    pub fn count(self) -> usize {
        [self.uppercase, self.lowercase, self.number, self.symbol]
            .into_iter()
            .filter(|present| *present)
            .count()
    }
}

/// One broken rule, with what the UI needs to explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Violation {
    TooShort {
        min: usize,
        actual: usize,
    },
    TooLong {
        max: usize,
    },
    FirstCharacterSymbol,
    /// The parts of the name or login ID found in the password, lower-cased.
    ContainsNamePart {
        parts: Vec<String>,
    },
    TooFewCharacterTypes {
        required: usize,
        present: CharacterTypes,
    },
    Common,
    /// Server-side: the new password is the current (temporary) one.
    SameAsCurrent,
    ConfirmMismatch,
}

impl Violation {
    pub fn rule(&self) -> RuleId {
        match self {
            Violation::TooShort { .. } => RuleId::MinLength,
            Violation::TooLong { .. } => RuleId::MaxLength,
            Violation::FirstCharacterSymbol => RuleId::FirstCharacter,
            Violation::ContainsNamePart { .. } => RuleId::NoNamePart,
            Violation::TooFewCharacterTypes { .. } => RuleId::CharacterTypes,
            Violation::Common => RuleId::NotCommon,
            Violation::SameAsCurrent => RuleId::NotCurrent,
            Violation::ConfirmMismatch => RuleId::ConfirmMatches,
        }
    }
}

/// Who the password belongs to: the name rule needs both names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordOwner {
    pub full_name: String,
    pub login_id: String,
}

impl PasswordOwner {
    /// The name parts a password must not contain: the full name and the login ID's
    /// local part split on spaces and `, . - _ # @`, parts of `min_part` or more
    /// characters, lower-cased, without repeats.
    pub fn name_parts(&self, min_part: usize) -> Vec<String> {
        let local = self
            .login_id
            .split_once('@')
            .map_or(self.login_id.as_str(), |(local, _)| local);
        let mut parts: Vec<String> = Vec::new();
        for source in [self.full_name.as_str(), local] {
            for token in source.split(is_name_separator) {
                if token.chars().count() >= min_part {
                    let lower = token.to_lowercase();
                    if !parts.contains(&lower) {
                        parts.push(lower);
                    }
                }
            }
        }
        parts
    }
}

fn is_name_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '.' | '-' | '_' | '#' | '@')
}

/// Checks `password` against every rule of `policy` and returns all violations, in
/// the order of [`RuleId`]. An empty list means the password is acceptable.
pub fn check_password(
    password: &str,
    owner: &PasswordOwner,
    policy: &PasswordPolicy,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    let length = password.chars().count();
    if length < policy.min_length {
        violations.push(Violation::TooShort {
            min: policy.min_length,
            actual: length,
        });
    }
    if length > policy.max_length {
        violations.push(Violation::TooLong {
            max: policy.max_length,
        });
    }
    // An empty password has no first character; the length rule already covers it.
    if password
        .chars()
        .next()
        .is_some_and(|c| !c.is_alphanumeric())
    {
        violations.push(Violation::FirstCharacterSymbol);
    }
    let lower = password.to_lowercase();
    let parts: Vec<String> = owner
        .name_parts(policy.min_name_part)
        .into_iter()
        .filter(|part| lower.contains(part.as_str()))
        .collect();
    if !parts.is_empty() {
        violations.push(Violation::ContainsNamePart { parts });
    }
    let present = CharacterTypes::of(password);
    if present.count() < policy.required_classes {
        violations.push(Violation::TooFewCharacterTypes {
            required: policy.required_classes,
            present,
        });
    }
    if is_common(&lower) {
        violations.push(Violation::Common);
    }
    violations
}

/// Checks the password and that the confirmation matches it.
pub fn check_new_password(
    password: &str,
    confirm: &str,
    owner: &PasswordOwner,
    policy: &PasswordPolicy,
) -> Vec<Violation> {
    let mut violations = check_password(password, owner, policy);
    if password != confirm {
        violations.push(Violation::ConfirmMismatch);
    }
    violations
}

/// The browser's share of the common-password list, generated with the full list by
/// `app/common-passwords/build-list.py`: the most frequent entries of 12+ characters
/// (shorter ones already fail the length rule) that could pass the other rules. The
/// server also checks the full list (`crate::ssr::common_passwords`) before storing.
#[path = "common_subset.rs"]
pub mod common_subset;

/// Expected passwords the leaked-password list misses (NIST SP 800-63B's "context
/// specific words": the school, the portal, Singapore) and symbol-decorated favourites
/// the mid-2010s corpus holds few of. Sorted; checked in the browser and on the server.
const CONTEXT_PASSWORDS: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "1234567890ab",
    "1234567890qwe",
    "123456789abc",
    "1234qwerasdf",
    "1q2w3e4r5t6y",
    "1q2w3e4r5t6y7u",
    "1qaz2wsx3edc",
    "1qaz@wsx3edc",
    "a1b2c3d4e5f6",
    "aa123456789!",
    "aa1234567890",
    "abc123456789",
    "abcd12345678",
    "abcd1234abcd",
    "abcdef123456",
    "abcdefghijkl",
    "asdfghjkl123",
    "asdfghjkl;'",
    "baseball1234",
    "changeme1234",
    "football1234",
    "iloveyou1234",
    "iloveyou12345",
    "letmein12345",
    "minecraft123",
    "minecraft1234",
    "p@ssw0rd1234",
    "p@ssword1234",
    "passw0rd1234",
    "password!123",
    "password#123",
    "password123!",
    "password1234",
    "password12345",
    "password@123",
    "password@1234",
    "qazwsxedcrfv",
    "qwer1234asdf",
    "qwerty!12345",
    "qwerty123456",
    "qwerty@12345",
    "qwertyuiop12",
    "qwertyuiop123",
    "qwertyuiop[]",
    "qwertyuiopas",
    "school123456",
    "school@12345",
    "singapore123",
    "singapore1234",
    "singapore@123",
    "starwars1234",
    "student12345",
    "student@1234",
    "sunshine1234",
    "superman1234",
    "welcome12345",
    "welcome@123!",
    "welcome@1234",
    "zaq12wsxcde3",
    "zxcvbnm12345",
];

/// Whether the lower-cased password is in the browser's subset of the list or among
/// the expected ones.
fn is_common(lower: &str) -> bool {
    common_subset::COMMON_SUBSET.binary_search(&lower).is_ok() || is_expected(lower)
}

/// Whether the lower-cased password is one of the expected ones (not in the leaked
/// list, refused all the same).
pub fn is_expected(lower: &str) -> bool {
    CONTEXT_PASSWORDS.binary_search(&lower).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_passwords_are_sorted_and_refused() {
        assert!(CONTEXT_PASSWORDS.windows(2).all(|w| w[0] < w[1]));
        for password in [
            "Password@1234",
            "P@ssw0rd1234",
            "Singapore@123",
            "Student@1234",
        ] {
            assert!(is_common(&password.to_lowercase()), "{password}");
        }
    }

    fn allen() -> PasswordOwner {
        PasswordOwner {
            full_name: "Allen Tan".into(),
            login_id: "allen_tan@students.edu.sg".into(),
        }
    }

    fn rules(password: &str) -> Vec<RuleId> {
        check_password(password, &allen(), &PasswordPolicy::default())
            .iter()
            .map(Violation::rule)
            .collect()
    }

    #[test]
    fn a_strong_password_breaks_no_rule() {
        assert_eq!(rules("Blue-Whale-Swims9"), Vec::<RuleId>::new());
    }

    #[test]
    fn the_length_rule_counts_characters_not_bytes() {
        let table: &[(&str, bool)] = &[
            ("Abcdefgh12!", false), // 11
            ("Abcdefgh12!x", true), // 12
            ("Écoleété12!", false), // 11 characters, more bytes
            ("Écoleété12!x", true), // 12 characters
            ("", false),
        ];
        for (password, ok) in table {
            assert_eq!(
                !rules(password).contains(&RuleId::MinLength),
                *ok,
                "{password:?}"
            );
        }
    }

    #[test]
    fn the_length_rule_reports_the_actual_length() {
        let violations = check_password("Short1!", &allen(), &PasswordPolicy::default());
        assert!(violations.contains(&Violation::TooShort { min: 12, actual: 7 }));
    }

    #[test]
    fn passwords_above_the_upper_bound_are_refused_not_truncated() {
        let long = format!("Aa1{}", "x".repeat(126)); // 129
        assert!(rules(&long).contains(&RuleId::MaxLength));
        let edge = format!("Aa1{}", "x".repeat(125)); // 128
        assert!(!rules(&edge).contains(&RuleId::MaxLength));
    }

    #[test]
    fn the_first_character_must_be_a_letter_or_number() {
        let table: &[(&str, bool)] = &[
            ("!BlueWhale123", false),
            (" BlueWhale123", false),
            ("#BlueWhale123", false),
            ("BlueWhale123!", true),
            ("9BlueWhale12!", true),
            ("éBlueWhale12!", true),
        ];
        for (password, ok) in table {
            assert_eq!(
                !rules(password).contains(&RuleId::FirstCharacter),
                *ok,
                "{password:?}"
            );
        }
    }

    #[test]
    fn three_of_four_character_types_are_required() {
        let table: &[(&str, usize, bool)] = &[
            ("bluewhaleswim", 1, false),
            ("BLUEWHALESWIM", 1, false),
            ("123456789012", 1, false),
            ("bluewhale1234", 2, false),
            ("BlueWhaleSwim", 2, false),
            ("bluewhale!!!!", 2, false),
            ("BlueWhale1234", 3, true),
            ("bluewhale12#$", 3, true),
            ("BLUEWHALE12#$", 3, true),
            ("BlueWhale12#$", 4, true),
        ];
        for (password, count, ok) in table {
            assert_eq!(CharacterTypes::of(password).count(), *count, "{password:?}");
            assert_eq!(
                !rules(password).contains(&RuleId::CharacterTypes),
                *ok,
                "{password:?}"
            );
        }
    }

    #[test]
    fn letters_without_case_count_as_symbols() {
        let types = CharacterTypes::of("学校");
        assert!(types.symbol && !types.uppercase && !types.lowercase);
    }

    #[test]
    fn the_name_rule_splits_allen_tan_and_allen_tan_login() {
        assert_eq!(allen().name_parts(3), vec!["allen", "tan"]);
        let table: &[(&str, Option<&[&str]>)] = &[
            ("MyAllenPass12!", Some(&["allen"])),
            ("ALLENrocks2024", Some(&["allen"])),
            ("Tangerine2024!", Some(&["tan"])),
            ("AllenTan2024!!", Some(&["allen", "tan"])),
            ("BlueWhale2024!", None),
            ("Al-len2024!Xyz", None),
        ];
        for (password, expected) in table {
            let found = check_password(password, &allen(), &PasswordPolicy::default())
                .into_iter()
                .find_map(|v| match v {
                    Violation::ContainsNamePart { parts } => Some(parts),
                    _ => None,
                });
            let expected: Option<Vec<String>> =
                expected.map(|parts| parts.iter().map(|p| p.to_string()).collect());
            assert_eq!(found, expected, "{password:?}");
        }
    }

    #[test]
    fn name_parts_shorter_than_three_characters_are_ignored() {
        let owner = PasswordOwner {
            full_name: "Ng Li Hua".into(),
            login_id: "ng_li_hua@students.edu.sg".into(),
        };
        assert_eq!(owner.name_parts(3), vec!["hua"]);
        assert!(
            !check_password("Ngli2024Blue!", &owner, &PasswordPolicy::default())
                .iter()
                .any(|v| v.rule() == RuleId::NoNamePart)
        );
    }

    #[test]
    fn login_id_separators_split_the_local_part_only() {
        let owner = PasswordOwner {
            full_name: "Siti Nurhaliza".into(),
            login_id: "siti.nur-haliza#2@students.edu.sg".into(),
        };
        let parts = owner.name_parts(3);
        assert!(parts.contains(&"nur".to_string()));
        assert!(parts.contains(&"haliza".to_string()));
        assert!(!parts.iter().any(|p| p.contains("students")));
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert!(rules("Password1234").contains(&RuleId::NotCommon));
        assert!(rules("QWERTY123456").contains(&RuleId::NotCommon));
        assert!(rules("1QAZ2wsx3EDC").contains(&RuleId::NotCommon));
        assert!(!rules("Qwerty123456x").contains(&RuleId::NotCommon));
    }

    #[test]
    fn the_browser_subset_is_sorted_unique_lower_cased_and_long_enough() {
        let subset = common_subset::COMMON_SUBSET;
        assert!(subset.len() >= 100, "{} entries", subset.len());
        for pair in subset.windows(2) {
            assert!(pair[0] < pair[1], "{:?} before {:?}", pair[0], pair[1]);
        }
        for entry in subset {
            assert_eq!(*entry, entry.to_lowercase());
            assert!(entry.chars().count() >= PasswordPolicy::default().min_length);
            assert!(is_common(entry), "{entry:?}");
        }
    }

    #[test]
    fn every_violation_is_returned_not_only_the_first() {
        assert_eq!(
            rules("#allen"),
            vec![
                RuleId::MinLength,
                RuleId::FirstCharacter,
                RuleId::NoNamePart,
                RuleId::CharacterTypes
            ]
        );
    }

    #[test]
    fn the_seed_temporary_password_fails_the_policy() {
        assert!(rules("2024Kmps").contains(&RuleId::MinLength));
    }

    #[test]
    fn confirmation_must_match_exactly_including_case() {
        let policy = PasswordPolicy::default();
        let v = check_new_password("BlueWhale1234", "bluewhale1234", &allen(), &policy);
        assert_eq!(v, vec![Violation::ConfirmMismatch]);
        assert!(check_new_password("BlueWhale1234", "BlueWhale1234", &allen(), &policy).is_empty());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn never_panics_and_is_deterministic(password in any::<String>(), name in "\\PC{0,30}") {
                let owner = PasswordOwner { full_name: name.clone(), login_id: format!("{name}@students.edu.sg") };
                let policy = PasswordPolicy::default();
                let first = check_password(&password, &owner, &policy);
                let second = check_password(&password, &owner, &policy);
                prop_assert_eq!(first, second);
            }

            #[test]
            fn accepted_passwords_satisfy_every_rule(password in "[A-Za-z0-9][A-Za-z0-9!#$%&*@ ]{0,140}") {
                let owner = allen();
                let policy = PasswordPolicy::default();
                if check_password(&password, &owner, &policy).is_empty() {
                    let n = password.chars().count();
                    prop_assert!(n >= policy.min_length && n <= policy.max_length);
                    prop_assert!(password.chars().next().is_some_and(char::is_alphanumeric));
                    prop_assert!(CharacterTypes::of(&password).count() >= 3);
                    let lower = password.to_lowercase();
                    prop_assert!(!lower.contains("allen") && !lower.contains("tan"));
                }
            }

            #[test]
            fn violations_come_in_rule_order_without_repeats(password in any::<String>()) {
                let rules: Vec<RuleId> = check_password(&password, &allen(), &PasswordPolicy::default())
                    .iter().map(Violation::rule).collect();
                let mut sorted = rules.clone();
                sorted.sort();
                sorted.dedup();
                prop_assert_eq!(rules, sorted);
            }

            #[test]
            fn a_password_containing_a_name_part_is_always_refused(prefix in "[A-Z][a-z0-9]{0,6}", suffix in "[0-9!#]{0,6}") {
                let password = format!("{prefix}ALLEN{suffix}");
                prop_assert!(check_password(&password, &allen(), &PasswordPolicy::default())
                    .iter().any(|v| v.rule() == RuleId::NoNamePart));
            }
        }
    }
}
