//! Security questions and answers: the question bank, answer normalisation, and the
//! rules a set of three answers must meet. Pure; shared by the browser and the server.
//!
//! Answers are compared only after [`normalise_answer`], so "ramen " and "Ramen" are
//! the same answer when the student later resets a forgotten password.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::password::PasswordOwner;

/// How many questions a student sets up.
pub const QUESTION_COUNT: usize = 3;

/// Each dropdown has its own list, so the three questions are always different topics.
/// Ids are stored in the database; texts live in the translations under `questions.<id>`.
pub const QUESTION_LISTS: [&[QuestionId]; QUESTION_COUNT] = [
    &[
        QuestionId::Food,
        QuestionId::Fruit,
        QuestionId::Dessert,
        QuestionId::Drink,
        QuestionId::IceCream,
        QuestionId::Breakfast,
    ],
    &[
        QuestionId::Animal,
        QuestionId::Bird,
        QuestionId::SeaCreature,
        QuestionId::Insect,
        QuestionId::DreamPet,
        QuestionId::CartoonCharacter,
    ],
    &[
        QuestionId::Colour,
        QuestionId::Sport,
        QuestionId::Instrument,
        QuestionId::Game,
        QuestionId::Hobby,
        QuestionId::Place,
    ],
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionId {
    Food,
    Fruit,
    Dessert,
    Drink,
    IceCream,
    Breakfast,
    Animal,
    Bird,
    SeaCreature,
    Insect,
    DreamPet,
    CartoonCharacter,
    Colour,
    Sport,
    Instrument,
    Game,
    Hobby,
    Place,
}

impl QuestionId {
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionId::Food => "food",
            QuestionId::Fruit => "fruit",
            QuestionId::Dessert => "dessert",
            QuestionId::Drink => "drink",
            QuestionId::IceCream => "ice_cream",
            QuestionId::Breakfast => "breakfast",
            QuestionId::Animal => "animal",
            QuestionId::Bird => "bird",
            QuestionId::SeaCreature => "sea_creature",
            QuestionId::Insect => "insect",
            QuestionId::DreamPet => "dream_pet",
            QuestionId::CartoonCharacter => "cartoon_character",
            QuestionId::Colour => "colour",
            QuestionId::Sport => "sport",
            QuestionId::Instrument => "instrument",
            QuestionId::Game => "game",
            QuestionId::Hobby => "hobby",
            QuestionId::Place => "place",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        QUESTION_LISTS
            .iter()
            .flat_map(|list| list.iter())
            .copied()
            .find(|q| q.as_str() == s)
    }

    /// Which dropdown (0..3) this question belongs to.
    pub fn list(self) -> usize {
        QUESTION_LISTS
            .iter()
            .position(|list| list.contains(&self))
            .unwrap_or(0)
    }
}

/// Limits on an answer, in characters after normalisation.
pub const MIN_ANSWER_CHARS: usize = 3;
pub const MAX_ANSWER_CHARS: usize = 64;

/// Answers too trivial to protect an account, compared after normalisation.
const TRIVIAL_ANSWERS: &[&str] = &[
    "abc",
    "abcd",
    "123",
    "1234",
    "12345",
    "none",
    "nil",
    "nothing",
    "null",
    "n/a",
    "na",
    "idk",
    "dunno",
    "no",
    "yes",
    "test",
    "answer",
    "password",
    "qwerty",
    "asdf",
    "xxx",
    "don't know",
    "dont know",
    "i don't know",
    "i dont know",
    "no idea",
    "same",
];

/// Unicode NFKC, trimmed, inner whitespace collapsed to one space, case-folded.
pub fn normalise_answer(answer: &str) -> String {
    let composed: String = answer.nfkc().collect();
    let collapsed = composed.split_whitespace().collect::<Vec<_>>().join(" ");
    caseless::default_case_fold_str(&collapsed)
}

/// What is wrong with one slot of the form, or with the set as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum AnswerProblem {
    /// The slot's question is missing or not from that slot's list.
    QuestionNotChosen {
        slot: usize,
    },
    Empty {
        slot: usize,
    },
    TooShort {
        slot: usize,
        min: usize,
    },
    TooLong {
        slot: usize,
        max: usize,
    },
    Trivial {
        slot: usize,
    },
    /// The answer is the student's name, a part of it, or the login ID.
    IsName {
        slot: usize,
    },
    /// This answer repeats an earlier slot's answer.
    Repeated {
        slot: usize,
        same_as: usize,
    },
}

impl AnswerProblem {
    pub fn slot(&self) -> usize {
        match self {
            AnswerProblem::QuestionNotChosen { slot }
            | AnswerProblem::Empty { slot }
            | AnswerProblem::TooShort { slot, .. }
            | AnswerProblem::TooLong { slot, .. }
            | AnswerProblem::Trivial { slot }
            | AnswerProblem::IsName { slot }
            | AnswerProblem::Repeated { slot, .. } => *slot,
        }
    }
}

/// One chosen question with its answer as typed (kept for the confirm screen).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChosenQuestion {
    pub question: QuestionId,
    pub answer: String,
}

impl std::fmt::Debug for ChosenQuestion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChosenQuestion")
            .field("question", &self.question)
            .field("answer", &"[redacted]")
            .finish()
    }
}

/// How long an answer counts for the minimum length: a Han, kana or Hangul character
/// is a whole word (榴莲 is "durian"), so it counts as two. A two-character Chinese
/// answer is allowed; a two-letter English one is not.
pub fn answer_weight(normalised: &str) -> usize {
    normalised
        .chars()
        .map(|c| match u32::from(c) {
            0x3040..=0x30FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xAC00..=0xD7AF
            | 0xF900..=0xFAFF
            | 0x20000..=0x3134F => 2,
            _ => 1,
        })
        .sum()
}

/// Parses the raw form fields (question ids and answers) into three valid choices, or
/// every problem found. The answers are kept as typed (trimmed) for display; hash
/// [`normalise_answer`] of them.
pub fn parse_choices(
    questions: &[String; QUESTION_COUNT],
    answers: &[String; QUESTION_COUNT],
    owner: &PasswordOwner,
) -> Result<[ChosenQuestion; QUESTION_COUNT], Vec<AnswerProblem>> {
    let mut problems = Vec::new();
    let mut chosen = Vec::with_capacity(QUESTION_COUNT);
    let mut normalised: Vec<String> = Vec::with_capacity(QUESTION_COUNT);
    let names = forbidden_names(owner);
    for slot in 0..QUESTION_COUNT {
        let question = QuestionId::parse(questions[slot].trim()).filter(|q| q.list() == slot);
        if question.is_none() {
            problems.push(AnswerProblem::QuestionNotChosen { slot });
        }
        let norm = normalise_answer(&answers[slot]);
        let length = norm.chars().count();
        if length == 0 {
            problems.push(AnswerProblem::Empty { slot });
        } else if answer_weight(&norm) < MIN_ANSWER_CHARS {
            problems.push(AnswerProblem::TooShort {
                slot,
                min: MIN_ANSWER_CHARS,
            });
        } else if length > MAX_ANSWER_CHARS {
            problems.push(AnswerProblem::TooLong {
                slot,
                max: MAX_ANSWER_CHARS,
            });
        } else if is_trivial(&norm) {
            problems.push(AnswerProblem::Trivial { slot });
        } else if names.contains(&norm) {
            problems.push(AnswerProblem::IsName { slot });
        } else if let Some(same_as) = normalised.iter().position(|earlier| *earlier == norm) {
            problems.push(AnswerProblem::Repeated { slot, same_as });
        }
        normalised.push(norm);
        if let Some(question) = question {
            chosen.push(ChosenQuestion {
                question,
                answer: answers[slot]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    chosen.try_into().map_err(|_| {
        (0..QUESTION_COUNT)
            .map(|slot| AnswerProblem::QuestionNotChosen { slot })
            .collect()
    })
}

fn is_trivial(norm: &str) -> bool {
    if TRIVIAL_ANSWERS.contains(&norm) {
        return true;
    }
    // One character repeated ("aaaa", "....") guards nothing.
    let mut chars = norm.chars();
    let first = chars.next();
    first.is_some_and(|f| chars.all(|c| c == f))
}

fn forbidden_names(owner: &PasswordOwner) -> Vec<String> {
    let mut names: Vec<String> = owner
        .name_parts(1)
        .iter()
        .map(|part| normalise_answer(part))
        .collect();
    names.push(normalise_answer(&owner.full_name));
    names.push(normalise_answer(&owner.login_id));
    if let Some((local, _)) = owner.login_id.split_once('@') {
        names.push(normalise_answer(local));
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allen() -> PasswordOwner {
        PasswordOwner {
            full_name: "Allen Tan".into(),
            login_id: "allen_tan@students.edu.sg".into(),
        }
    }

    fn strings(values: [&str; 3]) -> [String; 3] {
        values.map(String::from)
    }

    #[test]
    fn normalisation_trims_collapses_and_folds_case() {
        assert_eq!(normalise_answer("ramen "), "ramen");
        assert_eq!(normalise_answer("Ramen"), "ramen");
        assert_eq!(normalise_answer("  Chicken   Rice\t"), "chicken rice");
        assert_eq!(normalise_answer("ＲＡＭＥＮ"), "ramen"); // full-width, NFKC
        assert_eq!(normalise_answer("Straße"), "strasse"); // full case folding
        assert_eq!(normalise_answer("ﬁsh"), "fish"); // ligature, NFKC
    }

    #[test]
    fn a_two_character_chinese_answer_is_long_enough_a_two_letter_one_is_not() {
        let qs = strings(["food", "animal", "colour"]);
        let ok = parse_choices(&qs, &strings(["榴莲", "大象", "蓝色"]), &allen());
        assert!(ok.is_ok(), "{ok:?}");
        let short = parse_choices(&qs, &strings(["榴", "大象", "蓝色"]), &allen());
        assert_eq!(
            short.err(),
            Some(vec![AnswerProblem::TooShort { slot: 0, min: 3 }])
        );
        let latin = parse_choices(&qs, &strings(["ox", "Shark", "Turquoise"]), &allen());
        assert_eq!(
            latin.err(),
            Some(vec![AnswerProblem::TooShort { slot: 0, min: 3 }])
        );
        assert_eq!(answer_weight("தோசை"), 4); // Tamil counts per character
    }

    #[test]
    fn every_list_has_at_least_six_questions_and_the_seeds_are_in_different_lists() {
        for list in QUESTION_LISTS {
            assert!(list.len() >= 6);
        }
        assert_eq!(QuestionId::Food.list(), 0);
        assert_eq!(QuestionId::Animal.list(), 1);
        assert_eq!(QuestionId::Colour.list(), 2);
    }

    #[test]
    fn question_ids_round_trip() {
        for q in QUESTION_LISTS.iter().flat_map(|l| l.iter()) {
            assert_eq!(QuestionId::parse(q.as_str()), Some(*q));
        }
        assert_eq!(QuestionId::parse("favourite_teacher"), None);
    }

    #[test]
    fn the_seed_answers_are_accepted() {
        let chosen = parse_choices(
            &strings(["food", "animal", "colour"]),
            &strings(["Ramen", " Shark", "Turquoise "]),
            &allen(),
        )
        .ok();
        let chosen = chosen.map(|c| c.map(|q| (q.question, q.answer)));
        assert_eq!(
            chosen,
            Some([
                (QuestionId::Food, "Ramen".to_string()),
                (QuestionId::Animal, "Shark".to_string()),
                (QuestionId::Colour, "Turquoise".to_string()),
            ])
        );
    }

    #[test]
    fn a_question_from_another_list_is_refused() {
        let problems = parse_choices(
            &strings(["animal", "animal", "colour"]),
            &strings(["Shark", "Whale", "Turquoise"]),
            &allen(),
        )
        .err();
        assert_eq!(
            problems,
            Some(vec![AnswerProblem::QuestionNotChosen { slot: 0 }])
        );
    }

    #[test]
    fn each_answer_problem_is_reported_for_its_slot() {
        let table: &[([&str; 3], AnswerProblem)] = &[
            (["", "Shark", "Turquoise"], AnswerProblem::Empty { slot: 0 }),
            (
                ["Ramen", "ok", "Turquoise"],
                AnswerProblem::TooShort { slot: 1, min: 3 },
            ),
            (
                ["Ramen", "Shark", "none"],
                AnswerProblem::Trivial { slot: 2 },
            ),
            (
                ["aaaa", "Shark", "Turquoise"],
                AnswerProblem::Trivial { slot: 0 },
            ),
            (
                ["Allen", "Shark", "Turquoise"],
                AnswerProblem::IsName { slot: 0 },
            ),
            (
                ["Ramen", "allen tan", "Turquoise"],
                AnswerProblem::IsName { slot: 1 },
            ),
            (
                ["Ramen", "Shark", "ALLEN_TAN"],
                AnswerProblem::IsName { slot: 2 },
            ),
            (
                ["Ramen", "ramen ", "Turquoise"],
                AnswerProblem::Repeated {
                    slot: 1,
                    same_as: 0,
                },
            ),
        ];
        for (answers, expected) in table {
            let problems = parse_choices(
                &strings(["food", "animal", "colour"]),
                &strings(*answers),
                &allen(),
            )
            .err();
            assert_eq!(problems, Some(vec![expected.clone()]), "{answers:?}");
        }
    }

    #[test]
    fn overlong_answers_are_refused() {
        let long = "x".repeat(30) + &"y".repeat(40);
        let problems = parse_choices(
            &strings(["food", "animal", "colour"]),
            &[long, "Shark".into(), "Turquoise".into()],
            &allen(),
        )
        .err();
        assert_eq!(
            problems,
            Some(vec![AnswerProblem::TooLong { slot: 0, max: 64 }])
        );
    }

    #[test]
    fn debug_output_never_shows_an_answer() {
        let q = ChosenQuestion {
            question: QuestionId::Food,
            answer: "Ramen".into(),
        };
        assert!(!format!("{q:?}").contains("Ramen"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn normalisation_is_idempotent(answer in any::<String>()) {
                let once = normalise_answer(&answer);
                prop_assert_eq!(normalise_answer(&once), once);
            }

            #[test]
            fn padding_and_case_never_change_the_normal_form(word in "[A-Za-z]{1,12}( [A-Za-z]{1,12}){0,2}", pad in " {0,3}") {
                let padded = format!("{pad}{}{pad}", word.to_uppercase());
                prop_assert_eq!(normalise_answer(&padded), normalise_answer(&word));
            }

            #[test]
            fn parsing_never_panics(q in proptest::array::uniform3("\\PC{0,20}"), a in proptest::array::uniform3(any::<String>())) {
                let _ = parse_choices(&q, &a, &allen());
            }
        }
    }
}
