//! `sqlx::migrate!` embeds the migration files at build time: rebuild when they change.
fn main() {
    println!("cargo::rerun-if-changed=../../migrations");
}
