//! Practice mode's fixed accounts (`server --demo`): the seed guide's school, class,
//! teacher and students, and their temporary password.

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
