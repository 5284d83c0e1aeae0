//! The test server and a browser-like client: the real server on port 0 with a fresh
//! SQLite database per test, a cookie-keeping client that follows no redirects, and a
//! clock the test moves by hand.

use std::sync::Arc;

use reqwest::header::{ACCEPT, LOCATION};
use reqwest::StatusCode;
use server::clock::ManualClock;
use server::config::Config;
use server::crypto::HashCost;

pub const ALLEN: &str = "allen_tan@students.edu.sg";
pub const TEMP: &str = "2024Kmps";
pub const NEW_PASSWORD: &str = "Blue-Whale-Swims9";
/// The set-up form of `complete_onboarding`: three questions and their answers.
pub const SEED_QUESTIONS: [(&str, &str); 6] = [
    ("question1", "food"),
    ("answer1", "Ramen "),
    ("question2", "animal"),
    ("answer2", "Shark"),
    ("question3", "colour"),
    ("answer3", "Turquoise"),
];

/// Tests that start a server take turns. Two Leptos servers on two tokio runtimes in
/// one process occasionally left an SSR render pending forever (seen 2 runs in 5);
/// one server under 60 concurrent renders never did (`many_concurrent_page_loads_all_complete`).
static ONE_SERVER_AT_A_TIME: std::sync::LazyLock<Arc<tokio::sync::Mutex<()>>> =
    std::sync::LazyLock::new(|| Arc::new(tokio::sync::Mutex::new(())));

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub database_url: String,
    pub portal: Arc<server::Portal>,
    _dir: tempfile::TempDir,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

/// The test servers' `/metrics` token (`Authorization: Bearer …`).
pub const METRICS_TOKEN: &str = "metrics-token-for-tests";

pub fn test_config(database_url: String) -> Config {
    Config {
        database_url,
        idle_timeout_secs: 240,
        absolute_timeout_secs: 8 * 3600,
        argon2_memory_kib: HashCost::TEST.memory_kib,
        argon2_iterations: HashCost::TEST.iterations,
        hash_workers: Some(2),
        hash_memory_mib: 256,
        hash_queue: 64,
        secure_cookies: false,
        lockout_attempts: 5,
        lockout_secs: 15 * 60,
        lockout_max_secs: 4 * 3600,
        // Off unless a test is about it: every test client shares 127.0.0.1.
        sign_in_per_minute: 0,
        sign_in_burst: 1,
        trust_forwarded_for: false,
        reauth_secs: 300,
        journey_secs: 3600,
        password_history: 5,
        reset_attempts: 5,
        reset_window_secs: 3600,
        reset_block_secs: 24 * 3600,
        answers_per_minute: 0,
        answers_burst: 1,
        audit_retention_days: 400,
        metrics_token: Some(domain::secret::Secret::new(METRICS_TOKEN)),
        ops_addr: None,
        public_url: None,
        email_url: None,
        learning_space_url: None,
        purge_interval_secs: 0,
        practice: false,
    }
}

pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A test server whose configuration `adjust` changes first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_seeded(adjust, true).await
}

/// `spawn_app_with`; `demo`: seed the demo school (a database of a real school's
/// accounts refuses it).
pub async fn spawn_app_seeded(adjust: impl FnOnce(&mut Config), demo: bool) -> TestApp {
    let turn = ONE_SERVER_AT_A_TIME.clone().lock_owned().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite:{}", dir.path().join("portal.db").display());
    let mut config = test_config(database_url.clone());
    adjust(&mut config);
    let database_url = config.database_url.clone();
    let clock = ManualClock::new(1_800_000_000);
    let portal = server::build_portal(&config, config.hash_cost(), Arc::new(clock.clone()))
        .await
        .expect("portal");
    if demo {
        server::demo::seed(&portal).await.expect("demo seed");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = server::router(portal.clone(), server::leptos_options(Some(addr)));
    tokio::spawn(server::serve(listener, router));
    TestApp {
        base: format!("http://{addr}"),
        client: new_client(),
        clock,
        database_url,
        portal,
        _dir: dir,
        _turn: turn,
    }
}

/// What a server function answered.
pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

impl TestApp {
    /// Calls a server function the way the hydrated app does (fetch, JSON answer).
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> Answer {
        self.call_with(&self.client, endpoint, form).await
    }

    pub async fn call_with(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> Answer {
        let response = client
            .post(format!("{}/api/{endpoint}", self.base))
            .header(ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{endpoint}: {e}"));
        Answer {
            status: response.status(),
            location: response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            body: response.text().await.unwrap_or_default(),
        }
    }

    /// Loads a page like a browser navigation does.
    pub async fn page(&self, path: &str) -> Answer {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(ACCEPT, "text/html")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        Answer {
            status: response.status(),
            location: response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            body: response.text().await.unwrap_or_default(),
        }
    }

    /// Posts a form to a server function with extra headers, from a fresh client.
    pub async fn raw_post(
        &self,
        endpoint: &str,
        headers: &[(&str, &str)],
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = new_client()
            .post(format!("{}/api/{endpoint}", self.base))
            .form(form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request")
    }

    /// Signs in from another browser (its own cookies), leaving this one as it is.
    pub async fn sign_in_elsewhere(&self, login: &str, password: &str) -> Answer {
        self.call_with(
            &new_client(),
            "sign_in",
            &[("username", login), ("password", password)],
        )
        .await
    }

    pub async fn sign_in(&self, login: &str, password: &str) -> Answer {
        self.call("sign_in", &[("username", login), ("password", password)])
            .await
    }

    pub async fn setup_seed_questions(&self) -> Answer {
        self.call("setup_questions", &SEED_QUESTIONS).await
    }

    pub async fn change_password(&self, new: &str, confirm: &str) -> Answer {
        self.call(
            "change_password",
            &[("new_password", new), ("confirm_password", confirm)],
        )
        .await
    }

    /// Signs Allen in and takes him through the journey up to the portal.
    pub async fn complete_onboarding(&self) {
        assert_eq!(self.sign_in(ALLEN, TEMP).await.status, StatusCode::OK);
        assert_eq!(self.setup_seed_questions().await.status, StatusCode::OK);
        assert_eq!(
            self.call("confirm_questions", &[]).await.status,
            StatusCode::OK
        );
        let changed = self.change_password(NEW_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    }

    /// The Prometheus text of `/metrics`, with the test servers' token.
    pub async fn metrics(&self) -> String {
        new_client()
            .get(format!("{}/metrics", self.base))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }

    pub async fn pool(&self) -> sqlx::SqlitePool {
        sqlx::SqlitePool::connect(&self.database_url)
            .await
            .expect("pool")
    }
}
