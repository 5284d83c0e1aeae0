//! Generates the `i18n` module from `locales/*.json` (leptos_i18n). Every key is
//! checked at compile time; a key missing from a locale is reported as a warning here
//! and as a test failure in `tests` (see `i18n_keys_complete`).

use leptos_i18n_build::{options::CodegenOptions, Config, ParseOptions, TranslationsInfos};
use std::{error::Error, path::PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    let dir = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("no OUT_DIR")?).join("i18n");
    // English first (the default, and what the guide is written in), then Singapore's
    // other official languages.
    let config = Config::new("en")?
        .add_locales(["zh", "ms", "ta"])?
        .parse_options(ParseOptions::new().interpolate_display(true));
    let infos = TranslationsInfos::parse(config)?;
    infos.emit_diagnostics();
    infos.rerun_if_locales_changed();
    let attrs =
        "#![allow(non_snake_case, clippy::unwrap_used, clippy::expect_used, clippy::panic)]"
            .parse()
            .ok();
    infos.generate_i18n_module_with_options(
        dir,
        CodegenOptions::new().top_level_attributes(attrs),
    )?;
    Ok(())
}
