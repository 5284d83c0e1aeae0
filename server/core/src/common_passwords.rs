//! The full common-password list (NIST SP 800-63B: new passwords are checked against
//! commonly used and compromised values), checked on the server for every new password.
//!
//! The list is the top million of the "10 million passwords" corpus (OWASP SecLists),
//! lower-cased and deduplicated: 961,927 entries, CC BY-SA 3.0; where it comes from and
//! how to regenerate it: `app/common-passwords/README.md`. The browser holds only a
//! small subset of it (`domain::password`), so the server has the final say.
//!
//! The data is compiled into the binary and read in place: entries sorted by bytes,
//! front-coded in blocks of [`BLOCK`] (each entry is one byte saying how many leading
//! bytes it shares with the previous entry of its block, 0 for a block's first entry,
//! then the rest of its bytes, then `\n`). At first use one pass finds where each
//! block starts; a lookup then binary-searches the blocks' first entries and decodes
//! at most one block. Nothing is decompressed or copied to the heap but that index.

use std::sync::LazyLock;

/// The list's file, written by `app/common-passwords/build-list.py`.
static DATA: &[u8] = include_bytes!("../../../app/common-passwords/common-passwords.fc");

/// Entries per front-coding block (the script's `BLOCK`).
const BLOCK: usize = 32;

/// Where each block starts in [`DATA`], and how many entries there are.
struct Index {
    blocks: Vec<u32>,
    entries: usize,
}

static INDEX: LazyLock<Index> = LazyLock::new(|| {
    let mut blocks = Vec::with_capacity(DATA.len() / (BLOCK * 4) + 1);
    let mut entries = 0;
    let mut at = 0;
    while at < DATA.len() {
        if entries % BLOCK == 0 {
            // The file is a few MB: every offset fits in a u32.
            blocks.push(u32::try_from(at).unwrap_or(u32::MAX));
        }
        entries += 1;
        at = entry_end(at).map_or(DATA.len(), |end| end + 1);
    }
    blocks.shrink_to_fit();
    Index { blocks, entries }
});

/// The position of the `\n` that ends the entry starting at `at` (its first byte is
/// the shared-prefix length, which may itself be 10).
fn entry_end(at: usize) -> Option<usize> {
    let rest = DATA.get(at + 1..)?;
    rest.iter().position(|&b| b == b'\n').map(|i| at + 1 + i)
}

/// The shared-prefix length and the remaining bytes of the entry starting at `at`.
fn entry(at: usize) -> Option<(usize, &'static [u8])> {
    let shared = usize::from(*DATA.get(at)?);
    let end = entry_end(at)?;
    Some((shared, DATA.get(at + 1..end)?))
}

/// Whether the lower-cased `needle` is in the list.
fn contains(needle: &[u8]) -> bool {
    let blocks = &INDEX.blocks;
    // The last block whose first entry is <= needle (a block's first entry is whole).
    let after = blocks
        .partition_point(|&start| entry(start as usize).is_some_and(|(_, first)| first <= needle));
    let Some(&start) = after.checked_sub(1).and_then(|i| blocks.get(i)) else {
        return false;
    };
    let mut at = start as usize;
    let mut current: Vec<u8> = Vec::with_capacity(64);
    for _ in 0..BLOCK {
        let Some((shared, rest)) = entry(at) else {
            return false;
        };
        current.truncate(shared);
        current.extend_from_slice(rest);
        match current.as_slice().cmp(needle) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Greater => return false,
            std::cmp::Ordering::Less => at += rest.len() + 2,
        }
    }
    false
}

/// Whether `password` is in the full list or among the expected passwords the
/// browser checks too, compared lower-cased as the password rule compares
/// (`password.to_lowercase()`).
pub fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    contains(lower.as_bytes()) || domain::password::is_expected(&lower)
}

/// How many entries the list holds.
pub fn len() -> usize {
    INDEX.entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::password::common_subset::COMMON_SUBSET;
    use domain::password::{check_password, PasswordOwner, PasswordPolicy};

    /// Every entry, decoded in file order.
    fn all_entries() -> Vec<Vec<u8>> {
        let mut out = Vec::with_capacity(len());
        let mut current = Vec::new();
        let mut at = 0;
        while at < DATA.len() {
            let (shared, rest) = entry(at).expect("a well-formed entry");
            if out.len() % BLOCK == 0 {
                assert_eq!(shared, 0, "a block starts with a whole entry");
            }
            current.truncate(shared);
            current.extend_from_slice(rest);
            out.push(current.clone());
            at += rest.len() + 2;
        }
        out
    }

    #[test]
    fn the_list_holds_at_least_100_000_entries() {
        assert!(len() >= 100_000, "{} entries", len());
        assert_eq!(len(), 961_927);
    }

    #[test]
    fn the_list_is_sorted_unique_and_lower_cased_as_the_rule_compares() {
        let entries = all_entries();
        assert_eq!(entries.len(), len());
        for pair in entries.windows(2) {
            assert!(pair[0] < pair[1], "{:?} before {:?}", pair[0], pair[1]);
        }
        for entry in &entries {
            let text = std::str::from_utf8(entry).expect("UTF-8");
            assert!(!text.is_empty());
            assert_eq!(text, text.to_lowercase(), "{text:?}");
        }
    }

    #[test]
    fn every_entry_is_found_and_near_misses_are_not() {
        for (i, entry) in all_entries().iter().enumerate() {
            let text = std::str::from_utf8(entry).expect("UTF-8");
            assert!(is_common(text), "{text:?}");
            if i % 7 == 0 {
                let mut longer = text.to_string();
                longer.push('\u{1}');
                assert!(!is_common(&longer), "{longer:?}");
            }
        }
    }

    #[test]
    fn leaked_passwords_of_12_characters_or_more_are_refused_whatever_their_case() {
        for password in [
            "qwerty123456",
            "QWERTY123456",
            "Password1234",
            "iloveyou1234",
            "ILoveYou1234",
            "Spiderman123",
            "sPIDERMAN123",
            "Welcome12345",
            "1qaz2wsx3edc",
        ] {
            assert!(password.chars().count() >= 12);
            assert!(is_common(password), "{password:?}");
        }
        // The first and the last entry of the sorted list (the search's edges).
        let entries = all_entries();
        for edge in [entries.first(), entries.last()] {
            let text = std::str::from_utf8(edge.expect("an entry")).expect("UTF-8");
            assert!(is_common(text), "{text:?}");
        }
    }

    #[test]
    fn strong_or_empty_passwords_are_not_in_the_list() {
        for password in [
            "Blue-Whale-Swims9",
            "correct horse battery staple 42",
            "Qwerty123456x",
            "Spiderman123!",
            "",
            "\u{10ffff}",
            "\u{0}",
        ] {
            assert!(!is_common(password), "{password:?}");
        }
        let long = "x".repeat(300);
        assert!(!is_common(&long));
    }

    #[test]
    fn the_browser_subset_is_part_of_the_list_and_misses_most_of_it() {
        let owner = PasswordOwner {
            full_name: "Allen Tan".into(),
            login_id: "allen_tan@students.edu.sg".into(),
        };
        let policy = PasswordPolicy::default();
        // In the full list only: the browser lets it through, the server does not.
        let violations = check_password("Spiderman123", &owner, &policy);
        assert!(violations.is_empty(), "{violations:?}");
        assert!(is_common("Spiderman123"));
        // In both.
        assert!(!check_password("Qwerty123456", &owner, &policy).is_empty());
        assert!(is_common("Qwerty123456"));
        for entry in COMMON_SUBSET {
            assert!(is_common(entry), "{entry:?}");
            assert!(entry.chars().count() >= policy.min_length, "{entry:?}");
        }
        assert!(COMMON_SUBSET.len() * 50 < len());
    }
}
