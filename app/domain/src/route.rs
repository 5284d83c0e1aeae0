//! Every page of the portal by name. Links and redirects take their address from here,
//! never from a path typed out again; the page table (`app::App`, whose `path!` macros
//! need literals) is checked against [`Route::ALL`] by the server's tests
//! (`routes.rs`), so the two cannot drift apart.

use crate::journey::Step;

/// A page of the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// A step of the first-login journey or of the SSPR (its address is the step's).
    Step(Step),
    ForgotPassword,
    ForgotQuestions,
    ForgotNewPassword,
    ForgotDone,
    Staff,
    StaffClass,
    StaffStudent,
    StaffImport,
    StaffLetters,
}

impl Route {
    /// The sign-in page ("MIMS Portal").
    pub const SIGN_IN: Route = Route::Step(Step::SignIn);
    /// The portal of school apps.
    pub const PORTAL: Route = Route::Step(Step::Portal);

    /// Every page, each once.
    pub const ALL: [Route; 19] = [
        Route::Step(Step::SignIn),
        Route::Step(Step::SetupQuestions),
        Route::Step(Step::ConfirmQuestions),
        Route::Step(Step::QuestionsSaved),
        Route::Step(Step::ChangePassword),
        Route::Step(Step::PasswordChanged),
        Route::Step(Step::Portal),
        Route::Step(Step::SsprHome),
        Route::Step(Step::SsprSignIn),
        Route::Step(Step::SsprPassword),
        Route::ForgotPassword,
        Route::ForgotQuestions,
        Route::ForgotNewPassword,
        Route::ForgotDone,
        Route::Staff,
        Route::StaffClass,
        Route::StaffStudent,
        Route::StaffImport,
        Route::StaffLetters,
    ];

    /// The page's address.
    pub fn path(self) -> &'static str {
        match self {
            Route::Step(step) => step.path(),
            Route::ForgotPassword => "/forgot-password",
            Route::ForgotQuestions => "/forgot-password/questions",
            Route::ForgotNewPassword => "/forgot-password/new-password",
            Route::ForgotDone => "/forgot-password/done",
            Route::Staff => "/staff",
            Route::StaffClass => "/staff/class",
            Route::StaffStudent => "/staff/student",
            Route::StaffImport => "/staff/import",
            Route::StaffLetters => "/staff/letters",
        }
    }

    /// The address with a query, each value percent-encoded:
    /// `Route::StaffLetters.with(&[("id", "7")])` is `/staff/letters?id=7`.
    pub fn with(self, query: &[(&str, &str)]) -> String {
        with_query(self.path(), query)
    }

    /// The sign-in page saying the session has ended.
    pub fn timed_out() -> String {
        Route::SIGN_IN.with(&[("timeout", "1")])
    }
}

/// The addresses the server answers outside the pages: forms and downloads that are
/// plain HTTP routes, not pages or server functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// The language selector (GET form; comes back to the page).
    SetLanguage,
    /// The practice banner's presenter switch.
    Presenter,
    /// The class-list upload (multipart form).
    StaffUpload,
    /// A batch's letters as CSV.
    LettersCsv,
    /// Single sign-on: the keys that verify the portal's id tokens (JWKS, RFC 7517).
    Jwks,
    /// Single sign-on: the provider's metadata (OpenID Connect Discovery 1.0).
    Discovery,
    /// Single sign-on: where an app sends the browser for a code.
    Authorize,
    /// Single sign-on: where an app redeems a code (server to server).
    Token,
    /// Single sign-on: the account's claims, for an access token.
    UserInfo,
    /// Single sign-on: an app signs the person out of the portal (RP-initiated logout).
    EndSession,
    /// Practice mode's built-in demo app ("Student Learning Space").
    DemoApp,
    /// Where the demo app receives its code.
    DemoAppCallback,
}

impl Endpoint {
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::SetLanguage => "/set-lang",
            Endpoint::Presenter => "/presenter",
            Endpoint::StaffUpload => "/staff/upload",
            Endpoint::LettersCsv => "/staff/letters.csv",
            Endpoint::Jwks => "/oidc/jwks",
            Endpoint::Discovery => "/.well-known/openid-configuration",
            Endpoint::Authorize => "/oidc/authorize",
            Endpoint::Token => "/oidc/token",
            Endpoint::UserInfo => "/oidc/userinfo",
            Endpoint::EndSession => "/oidc/logout",
            Endpoint::DemoApp => "/demo-app/",
            Endpoint::DemoAppCallback => "/demo-app/callback",
        }
    }

    /// The address with a query (see [`Route::with`]).
    pub fn with(self, query: &[(&str, &str)]) -> String {
        with_query(self.path(), query)
    }
}

fn with_query(path: &str, query: &[(&str, &str)]) -> String {
    let mut out = path.to_string();
    for (i, (name, value)) in query.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(&encode_component(name));
        out.push('=');
        out.push_str(&encode_component(value));
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode_component(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_has_its_own_address() {
        let mut paths = std::collections::BTreeSet::new();
        for route in Route::ALL {
            assert!(paths.insert(route.path()), "{route:?}");
            assert!(route.path().starts_with('/'));
        }
        for step in Step::ALL {
            assert!(Route::ALL.contains(&Route::Step(step)), "{step:?}");
        }
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            Route::StaffLetters.with(&[("id", "7")]),
            "/staff/letters?id=7"
        );
        assert_eq!(
            Route::StaffClass.with(&[("name", "P5 Kindness/&=")]),
            "/staff/class?name=P5%20Kindness%2F%26%3D"
        );
        assert_eq!(
            Route::StaffStudent.with(&[("id", "3"), ("done", "unlocked")]),
            "/staff/student?id=3&done=unlocked"
        );
        assert_eq!(Route::timed_out(), "/?timeout=1");
        assert_eq!(Route::PORTAL.with(&[]), "/portal");
        assert_eq!(
            Endpoint::LettersCsv.with(&[("id", "2")]),
            "/staff/letters.csv?id=2"
        );
    }
}
