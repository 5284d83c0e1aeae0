//! Every language has every key of English, with the same placeholders, and nothing
//! else: a missing or mistyped translation fails here (the build only warns).

// A test that cannot read its input fails loudly.
#![allow(clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

const LOCALES: [&str; 4] = ["en", "zh", "ms", "ta"];

fn load(locale: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("locales")
        .join(format!("{locale}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{locale}.json is not JSON: {e}"))
}

/// Every leaf as (dotted key, text).
fn leaves(value: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                leaves(child, &path, out);
            }
        }
        Value::String(text) => out.push((prefix.to_string(), text.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// The `{{ name }}` placeholders of a text.
fn placeholders(text: &str) -> BTreeSet<String> {
    text.split("{{")
        .skip(1)
        .filter_map(|rest| {
            rest.split_once("}}")
                .map(|(name, _)| name.trim().to_string())
        })
        .collect()
}

#[test]
fn every_locale_has_every_key_with_the_same_placeholders() {
    let mut english = Vec::new();
    leaves(&load("en"), "", &mut english);
    assert!(
        english.len() > 200,
        "English has only {} texts",
        english.len()
    );
    let mut problems = Vec::new();
    for locale in &LOCALES[1..] {
        let mut texts = Vec::new();
        leaves(&load(locale), "", &mut texts);
        let keys: BTreeSet<_> = texts.iter().map(|(k, _)| k.clone()).collect();
        for (key, text) in &english {
            match texts.iter().find(|(k, _)| k == key) {
                None => problems.push(format!("{locale}: missing {key}")),
                Some((_, translated)) if translated.trim().is_empty() => {
                    problems.push(format!("{locale}: empty {key}"))
                }
                Some((_, translated)) if placeholders(translated) != placeholders(text) => problems
                    .push(format!(
                        "{locale}: {key} has placeholders {:?}, English {:?}",
                        placeholders(translated),
                        placeholders(text)
                    )),
                Some(_) => {}
            }
        }
        for key in keys {
            if !english.iter().any(|(k, _)| *k == key) {
                problems.push(format!("{locale}: {key} is not an English key"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// WCAG 2.5.3 (label in name): "Show" must be part of "Show password" in every
/// language, or speech users cannot say what they see.
#[test]
fn the_show_hide_buttons_names_contain_their_visible_words() {
    for locale in LOCALES {
        let texts = &load(locale)["password_input"];
        for (word, label) in [("show", "show_label"), ("hide", "hide_label")] {
            let word = texts[word].as_str().unwrap_or_default().to_lowercase();
            let label = texts[label].as_str().unwrap_or_default().to_lowercase();
            assert!(
                !word.is_empty() && label.contains(&word),
                "{locale}: {label:?} does not contain {word:?}"
            );
        }
    }
}

#[test]
fn each_language_names_itself() {
    let names: Vec<String> = LOCALES
        .iter()
        .map(|l| {
            load(l)["language_name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(names, ["English", "中文", "Bahasa Melayu", "தமிழ்"]);
}
