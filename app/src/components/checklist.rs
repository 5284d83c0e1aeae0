//! The live password checklist: the seed's rules, each ticked on or off as the student
//! types, computed by the same [`check_password`] the server runs before storing.
//! After a refused submit it shows the server's verdict until the student types again.

use leptos::either::Either;
use leptos::prelude::*;

use crate::components::page_locale;
use crate::domain::password::{
    check_password, CharacterTypes, PasswordOwner, PasswordPolicy, RuleId, Violation,
};
use crate::i18n::*;

/// How one row of the checklist looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// Nothing typed yet.
    Pending,
    Met,
    NotMet,
}

impl Status {
    fn class(self) -> &'static str {
        match self {
            Status::Pending => "rule rule--pending",
            Status::Met => "rule rule--met",
            Status::NotMet => "rule rule--unmet",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Met => "met",
            Status::NotMet => "unmet",
        }
    }
}

#[component]
pub fn RuleChecklist(
    /// What is typed in "New Password" now.
    password: Signal<String>,
    owner: PasswordOwner,
    policy: PasswordPolicy,
    /// The server's refusal of the last submit, if the page shows one.
    server_violations: Signal<Option<Vec<Violation>>>,
) -> impl IntoView {
    let locale = page_locale();
    let violations: Memo<Option<Vec<Violation>>> = Memo::new(move |_| {
        let typed = password.get();
        if typed.is_empty() {
            server_violations.get()
        } else {
            // The browser checks every rule but the one only the server can: whether
            // the password was used before (the server says so for this password).
            let mut list = check_password(&typed, &owner, &policy);
            if let Some(server) = server_violations.get() {
                list.extend(
                    server
                        .into_iter()
                        .filter(|v| v.rule() == RuleId::NotCurrent),
                );
            }
            Some(list)
        }
    });
    let status = move |rule: RuleId| match violations.get() {
        None => Status::Pending,
        Some(list) if list.iter().any(|v| v.rule() == rule) => Status::NotMet,
        Some(_) => Status::Met,
    };
    // Which character types are present: from what is typed, else from the server's
    // refusal; unknown (pending) when the server refused for other reasons only.
    let types = move || {
        let typed = password.get();
        if !typed.is_empty() {
            return Some(CharacterTypes::of(&typed));
        }
        server_violations.get().and_then(|list| {
            list.into_iter().find_map(|v| match v {
                Violation::TooFewCharacterTypes { present, .. } => Some(present),
                _ => None,
            })
        })
    };
    let type_status = move |pick: fn(CharacterTypes) -> bool| match types() {
        None => Status::Pending,
        Some(t) if pick(t) => Status::Met,
        Some(_) => Status::NotMet,
    };
    let name_parts = move || {
        violations.get().and_then(|list| {
            list.into_iter().find_map(|v| match v {
                Violation::ContainsNamePart { parts } => Some(parts.join("”, “")),
                _ => None,
            })
        })
    };
    let extra = move |rule: RuleId| status(rule) == Status::NotMet;
    let unmet_count = move || {
        violations.get().map(|list| {
            list.iter()
                .filter(|v| v.rule() != RuleId::ConfirmMatches)
                .count()
        })
    };
    let summary = move |count: Option<usize>| match count {
        None => None,
        Some(0) => Some(Either::Left(td_string!(locale, change.summary_ok))),
        Some(count) => Some(Either::Right(td_string!(
            locale,
            change.summary_missing,
            count = count
        ))),
    };
    // The announced count follows the shown one after a pause in typing (at once on
    // the server, where nothing is typed).
    let announced = RwSignal::new(untrack(unmet_count));
    #[cfg(feature = "hydrate")]
    {
        let pending = StoredValue::new_local(None::<leptos::prelude::TimeoutHandle>);
        Effect::new(move |_| {
            let count = unmet_count();
            if let Some(handle) = pending.get_value() {
                handle.clear();
            }
            let handle = set_timeout_with_handle(move || announced.set(count), ANNOUNCE_AFTER).ok();
            pending.set_value(handle);
        });
    }
    let min = policy.min_length;
    let max = policy.max_length;

    view! {
            <ul class="rules" data-testid="password-rules">
                <li class="rule rule--info" data-rule="case_sensitive">
                    {td_string!(locale, rules.case_sensitive)}
                </li>
                <RuleRow rule="min_length" status=Signal::derive(move || status(RuleId::MinLength))>
                    {td_string!(locale, rules.min_length, min = min)}
                </RuleRow>
                {move || extra(RuleId::MaxLength).then(|| view! {
                    <RuleRow rule="max_length" status=Signal::derive(move || status(RuleId::MaxLength))>
                        {td_string!(locale, rules.max_length, max = max)}
                    </RuleRow>
    })}
                <RuleRow
                    rule="first_character"
                    status=Signal::derive(move || status(RuleId::FirstCharacter))
                >
                    {td_string!(locale, rules.first_character)}
                </RuleRow>
                <RuleRow rule="no_name_part" status=Signal::derive(move || status(RuleId::NoNamePart))>
                    {td_string!(locale, rules.no_name_part)}
                    {move || {
                        name_parts()
                            .map(|parts| {
                                view! {
                                    <span class="rule__detail" data-testid="name-part">
                                        " "
                                        {td_string!(locale, rules.name_part_found, parts = parts)}
                                    </span>
                                }
                            })
                    }}
                </RuleRow>
                <RuleRow
                    rule="character_types"
                    status=Signal::derive(move || status(RuleId::CharacterTypes))
                >
                    {td_string!(locale, rules.character_types)}
                    <ul class="rules rules--nested">
                        <RuleRow rule="uppercase" status=Signal::derive(move || type_status(|t| t.uppercase))>
                            {td_string!(locale, rules.uppercase)}
                        </RuleRow>
                        <RuleRow rule="lowercase" status=Signal::derive(move || type_status(|t| t.lowercase))>
                            {td_string!(locale, rules.lowercase)}
                        </RuleRow>
                        <RuleRow rule="number" status=Signal::derive(move || type_status(|t| t.number))>
                            {td_string!(locale, rules.number)}
                        </RuleRow>
                        <RuleRow rule="symbol" status=Signal::derive(move || type_status(|t| t.symbol))>
                            {td_string!(locale, rules.symbol)}
                        </RuleRow>
                    </ul>
                </RuleRow>
                {move || extra(RuleId::NotCommon).then(|| view! {
                    <RuleRow rule="not_common" status=Signal::derive(move || status(RuleId::NotCommon))>
                        {td_string!(locale, rules.not_common)}
                    </RuleRow>
    })}
                {move || extra(RuleId::NotCurrent).then(|| view! {
                    <RuleRow rule="not_current" status=Signal::derive(move || status(RuleId::NotCurrent))>
                        {td_string!(locale, rules.not_current)}
                    </RuleRow>
    })}
            </ul>
            <p class="rules-summary" id="password-rules-summary" data-testid="rules-summary">
                {move || summary(unmet_count())}
            </p>
            // What a screen reader hears: the same summary, politely, once typing pauses —
            // not a new announcement on every keystroke.
            <p class="visually-hidden" aria-live="polite" data-testid="rules-announcement">
                {move || summary(announced.get())}
            </p>
        }
}

/// How long typing must pause before the checklist's summary is announced.
#[cfg(feature = "hydrate")]
const ANNOUNCE_AFTER: std::time::Duration = std::time::Duration::from_millis(900);

#[component]
fn RuleRow(rule: &'static str, status: Signal<Status>, children: Children) -> impl IntoView {
    let locale = page_locale();
    view! {
        <li class=move || status.get().class() data-rule=rule data-status=move || status.get().name()>
            <span class="rule__icon" aria-hidden="true"></span>
            <span class="visually-hidden">
                {move || match status.get() {
                    Status::Met => Some(Either::Left(td_string!(locale, change.met))),
                    Status::NotMet => Some(Either::Right(td_string!(locale, change.not_met))),
                    Status::Pending => None,
                }}
            </span>
            <span class="rule__text">{children()}</span>
        </li>
    }
}
