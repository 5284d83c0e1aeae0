//! Practice mode (`server --demo`): a teacher runs the first-login journey in front of
//! a class again and again. Every page says it is a practice environment, the demo
//! accounts are listed on the sign-in page, and a practice account can be put back
//! at the start from the portal. A presenter view enlarges the text and keeps the
//! step guide open beside the screen.
//!
//! Whether practice mode is on is decided by the server's configuration only, and
//! only server-rendered components show it (no island depends on it).

use leptos::prelude::*;

/// The seed guide's default generic password, the practice accounts' temporary one.
pub const PRACTICE_PASSWORD: &str = "2024Kmps";

/// The practice school; practice mode refuses a database with accounts of any other.
pub const PRACTICE_SCHOOL: (&str, &str) = ("DEMO", "Demo Primary School");
pub const PRACTICE_CLASS: &str = "P5 Kindness";
/// A teacher of the practice school (full name, login ID).
pub const PRACTICE_STAFF: (&str, &str) = ("Tan Mei Hua", "tan_mei_hua@schools.gov.sg");

/// (full name, login ID) of the practice class: Allen Tan from the seed guide and his
/// classmates.
pub const PRACTICE_STUDENTS: &[(&str, &str)] = &[
    ("Allen Tan", "allen_tan@students.edu.sg"),
    (
        "Nur Aisyah binte Rahman",
        "nur_aisyah_rahman@students.edu.sg",
    ),
    ("Lim Wei Ling", "lim_wei_ling@students.edu.sg"),
    ("Priya d/o Subramaniam", "priya_subramaniam@students.edu.sg"),
    (
        "Muhammad Hafiz bin Ismail",
        "muhammad_hafiz_ismail@students.edu.sg",
    ),
    ("Chloe Ng", "chloe_ng@students.edu.sg"),
    ("Tan Jun Jie", "tan_jun_jie@students.edu.sg"),
    (
        "Siti Nurhaliza binte Osman",
        "siti_nurhaliza_osman@students.edu.sg",
    ),
    ("Arjun s/o Kumar", "arjun_kumar@students.edu.sg"),
    ("Wong Mei Xin", "wong_mei_xin@students.edu.sg"),
    ("Farah binte Abdullah", "farah_abdullah@students.edu.sg"),
    ("Ethan Lee", "ethan_lee@students.edu.sg"),
    ("Zhang Xin Yi", "zhang_xin_yi@students.edu.sg"),
    ("Nadia binte Yusof", "nadia_yusof@students.edu.sg"),
    ("Kavya d/o Rajan", "kavya_rajan@students.edu.sg"),
    ("Ryan Goh", "ryan_goh@students.edu.sg"),
    ("Aaron Chua", "aaron_chua@students.edu.sg"),
    ("Meena d/o Pillai", "meena_pillai@students.edu.sg"),
    ("Daniel Ong", "daniel_ong@students.edu.sg"),
    ("Hui Min Teo", "hui_min_teo@students.edu.sg"),
    ("Goh Li Ting", "goh_li_ting@students.edu.sg"),
    ("Rahul s/o Menon", "rahul_menon@students.edu.sg"),
];

/// One of the seeded practice accounts (the reset touches no other account).
pub fn is_practice_login(login_id: &str) -> bool {
    PRACTICE_STAFF.1 == login_id || PRACTICE_STUDENTS.iter().any(|(_, l)| *l == login_id)
}

/// The cookie that keeps the presenter view on (practice mode only).
pub const PRESENTER_COOKIE: &str = "portal_presenter";
/// Practice mode and the presenter view, as this page was rendered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Practice {
    pub on: bool,
    pub presenter: bool,
}

/// Reads practice mode once for the whole page and provides it to every component.
pub fn provide_practice() -> Practice {
    let practice = read();
    provide_context(practice);
    practice
}

/// Practice mode as provided by [`provide_practice`] (off outside the app).
pub fn use_practice() -> Practice {
    use_context::<Practice>().unwrap_or_default()
}

#[cfg(feature = "ssr")]
fn read() -> Practice {
    use std::sync::Arc;
    let on = use_context::<Arc<crate::ssr::service::Portal>>()
        .is_some_and(|portal| portal.settings().practice);
    let presenter = on
        && use_context::<http::request::Parts>().is_some_and(|parts| {
            crate::ssr::context::cookie_value(&parts.headers, PRESENTER_COOKIE).as_deref()
                == Some("1")
        });
    Practice { on, presenter }
}

#[cfg(not(feature = "ssr"))]
fn read() -> Practice {
    Practice::default()
}
