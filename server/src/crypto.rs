//! Argon2id hashing of passwords and security answers, off the async threads and
//! under a concurrency limit: at most `workers` hashes run at once, at most `queue`
//! more wait, and anything beyond that is refused at once as [`HashError::Busy`]
//! (the caller answers 503) instead of piling up memory.

use std::sync::Arc;

use app::domain::secret::Secret;
use app::ssr::ports::{HashError, SecretHasher, Verification};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use tokio::sync::Semaphore;

/// Argon2id cost. Production defaults are OWASP's minimum for argon2id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl HashCost {
    pub const PRODUCTION: HashCost = HashCost {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };
    /// Only for tests: fast, and still a real argon2id hash.
    pub const TEST: HashCost = HashCost {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
    };
}

pub struct Argon2Hasher {
    params: Params,
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
    workers: usize,
    capacity: usize,
    dummy_hash: String,
}

impl Argon2Hasher {
    /// `workers` hashes run at once; `queue` more may wait for a worker.
    pub fn new(cost: HashCost, workers: usize, queue: usize) -> Result<Self, HashError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| HashError::Failed(e.to_string()))?;
        let dummy_hash = hash_blocking(&params, "not a real password: timing equaliser")?;
        Ok(Self {
            params,
            running: Arc::new(Semaphore::new(workers.max(1))),
            admitted: Arc::new(Semaphore::new(workers.max(1) + queue)),
            workers: workers.max(1),
            capacity: workers.max(1) + queue,
            dummy_hash,
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(Params) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        // Admission is decided at once: a full queue is refused, never waited on.
        let _admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| HashError::Busy)?;
        let _running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| HashError::Busy)?;
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || job(params))
            .await
            .map_err(|e| HashError::Failed(e.to_string()))
    }
}

fn argon2(params: Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(params: &Params, secret: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2(params.clone())
        .hash_password(secret.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError::Failed(e.to_string()))
}

/// Bytes of the argon2 output kept as a wrong password's fingerprint.
const FINGERPRINT_BYTES: usize = 16;

/// Recomputes the hash of `secret` with the stored hash's own algorithm, salt and
/// parameters, compares it in constant time, and keeps the computed output's prefix as
/// the fingerprint of a wrong password.
fn check_blocking(current: &Params, secret: &str, phc: &str) -> Verification {
    let malformed = Verification {
        matches: false,
        fingerprint: Vec::new(),
        outdated: true,
    };
    let Ok(stored) = PasswordHash::new(phc) else {
        return malformed;
    };
    let (Some(expected), Some(salt), Ok(params)) =
        (stored.hash, stored.salt, Params::try_from(&stored))
    else {
        return malformed;
    };
    let Ok(algorithm) = Algorithm::try_from(stored.algorithm) else {
        return malformed;
    };
    let version = stored
        .version
        .and_then(|v| Version::try_from(v).ok())
        .unwrap_or_default();
    let outdated = algorithm != Algorithm::Argon2id
        || version != Version::V0x13
        || params.m_cost() < current.m_cost()
        || params.t_cost() < current.t_cost()
        || params.p_cost() < current.p_cost();
    let Ok(computed) = Argon2::new(algorithm, version, params.clone()).hash_password_customized(
        secret.as_bytes(),
        Some(stored.algorithm),
        Some(version.into()),
        params,
        salt,
    ) else {
        return malformed;
    };
    let Some(output) = computed.hash else {
        return malformed;
    };
    // `Output`'s equality is constant-time.
    let matches = output == expected;
    let fingerprint = if matches {
        Vec::new()
    } else {
        output.as_bytes()[..FINGERPRINT_BYTES.min(output.len())].to_vec()
    };
    Verification {
        matches,
        fingerprint,
        outdated,
    }
}

fn verify_blocking(params: Params, secret: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        // The parameters come from the PHC string itself, so old hashes still verify.
        Ok(parsed) => argon2(params)
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[async_trait]
impl SecretHasher for Argon2Hasher {
    async fn hash(&self, secret: &Secret) -> Result<String, HashError> {
        let secret = secret.clone();
        self.run(move |params| hash_blocking(&params, secret.expose()))
            .await?
    }

    async fn verify(&self, secret: &Secret, phc: &str) -> Result<bool, HashError> {
        let secret = secret.clone();
        let phc = phc.to_string();
        self.run(move |params| verify_blocking(params, secret.expose(), &phc))
            .await
    }

    async fn check(&self, secret: &Secret, phc: &str) -> Result<Verification, HashError> {
        let secret = secret.clone();
        let phc = phc.to_string();
        self.run(move |params| check_blocking(&params, secret.expose(), &phc))
            .await
    }

    async fn verify_dummy(&self, secret: &Secret) -> Result<(), HashError> {
        self.verify(secret, &self.dummy_hash).await.map(|_| ())
    }

    fn load(&self) -> (usize, usize) {
        let admitted = self.capacity - self.admitted.available_permits();
        let running = self.workers - self.running.available_permits();
        (running, admitted.saturating_sub(running))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_verify() -> Result<(), HashError> {
        let hasher = Argon2Hasher::new(HashCost::TEST, 1, 4)?;
        let secret = Secret::new("BlueWhale2024!");
        let phc = hasher.hash(&secret).await?;
        assert!(phc.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{phc}");
        assert!(hasher.verify(&secret, &phc).await?);
        assert!(!hasher.verify(&Secret::new("bluewhale2024!"), &phc).await?);
        assert!(!hasher.verify(&secret, "not a phc string").await?);
        Ok(())
    }

    #[tokio::test]
    async fn check_fingerprints_wrong_passwords_and_flags_weak_hashes() -> Result<(), HashError> {
        let weak = Argon2Hasher::new(
            HashCost {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            1,
            4,
        )?;
        let current = Argon2Hasher::new(HashCost::TEST, 1, 4)?;
        let secret = Secret::new("BlueWhale2024!");
        let old = weak.hash(&secret).await?;
        let right = current.check(&secret, &old).await?;
        assert!(right.matches && right.outdated && right.fingerprint.is_empty());

        let fresh = current.hash(&secret).await?;
        assert!(!current.check(&secret, &fresh).await?.outdated);
        let wrong = current.check(&Secret::new("guess-one"), &fresh).await?;
        let again = current.check(&Secret::new("guess-one"), &fresh).await?;
        let other = current.check(&Secret::new("guess-two"), &fresh).await?;
        assert!(!wrong.matches);
        assert_eq!(wrong.fingerprint.len(), FINGERPRINT_BYTES);
        assert_eq!(wrong.fingerprint, again.fingerprint);
        assert_ne!(wrong.fingerprint, other.fingerprint);
        // Another account's salt gives the same wrong password another fingerprint.
        let fresh2 = current.hash(&secret).await?;
        let elsewhere = current.check(&Secret::new("guess-one"), &fresh2).await?;
        assert_ne!(wrong.fingerprint, elsewhere.fingerprint);
        assert!(!current.check(&secret, "garbage").await?.matches);
        Ok(())
    }

    #[tokio::test]
    async fn production_cost_meets_the_minimum() -> Result<(), HashError> {
        let hasher = Argon2Hasher::new(HashCost::PRODUCTION, 1, 1)?;
        let phc = hasher.hash(&Secret::new("x")).await?;
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        Ok(())
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once() -> Result<(), HashError> {
        let hasher = Arc::new(Argon2Hasher::new(HashCost::PRODUCTION, 1, 0)?);
        let busy = hasher.clone();
        let first = tokio::spawn(async move { busy.hash(&Secret::new("a")).await });
        tokio::task::yield_now().await;
        // Give the first job time to take the only admission slot.
        for _ in 0..100 {
            if hasher.admitted.available_permits() == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let second = hasher.hash(&Secret::new("b")).await;
        assert!(matches!(second, Err(HashError::Busy)));
        assert!(first
            .await
            .map_err(|e| HashError::Failed(e.to_string()))?
            .is_ok());
        Ok(())
    }
}
