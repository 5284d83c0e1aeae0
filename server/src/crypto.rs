//! Argon2id hashing of passwords and security answers, off the async threads and
//! under a concurrency limit: at most `workers` hashes run at once, at most `queue`
//! more wait, and anything beyond that is refused at once as [`HashError::Busy`]
//! (the caller answers 503) instead of piling up memory.
//!
//! The hashes run on `workers` threads of their own that take the next job from the
//! queue as soon as one ends. Handing each job to tokio's blocking pool once a slot
//! was free instead (a semaphore, then `spawn_blocking`) left the cores idle while the
//! next waiting request was woken to start its job: with the queue full, 7–8 % of the
//! CPU idle, 15 % fewer raw verifications and 8 % fewer HTTP sign-ins per second
//! (`cargo bench -p server --bench throughput` on the 2-core VM: 115 against 133 /s,
//! 109 against 118 /s).

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
use domain::secret::Secret;
use portal_core::ports::{HashError, SecretHasher, Verification};
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
    /// The queue the worker threads take jobs from; dropped with the hasher, which
    /// ends them.
    jobs: flume::Sender<Job>,
    /// Jobs a worker is running now.
    running: Arc<std::sync::atomic::AtomicUsize>,
    admitted: Arc<Semaphore>,
    capacity: usize,
    memory: Arc<MemoryPool>,
    dummy_hash: String,
}

/// Argon2's working memory (`m` KiB per hash), one buffer per hash worker, allocated
/// the first time a worker needs it and reused from then on. Allocating and freeing
/// 19 MiB per hash instead left freed buffers behind in the allocator's per-thread
/// arenas: under a burst the process grew by up to 8 × cores buffers (measured: +290 MiB
/// on 2 cores, bench `memory`), not by `workers` buffers. With the pool, hash memory is
/// exactly `workers × m` KiB, whatever the load.
struct MemoryPool {
    free: std::sync::Mutex<Vec<Vec<Block>>>,
    blocks: usize,
    allocated: std::sync::atomic::AtomicUsize,
    /// The most buffers that existed at once.
    most: std::sync::atomic::AtomicUsize,
}

impl MemoryPool {
    fn new(params: &Params) -> Self {
        Self {
            free: std::sync::Mutex::new(Vec::new()),
            blocks: params.block_count(),
            allocated: std::sync::atomic::AtomicUsize::new(0),
            most: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn take(&self) -> Vec<Block> {
        let reused = self
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        reused.unwrap_or_else(|| {
            use std::sync::atomic::Ordering::Relaxed;
            let now = self.allocated.fetch_add(1, Relaxed) + 1;
            self.most.fetch_max(now, Relaxed);
            vec![Block::default(); self.blocks]
        })
    }

    /// Keeps at most `keep` buffers; one beyond that (which the permits should make
    /// impossible) is freed and no longer counted.
    fn give_back(&self, memory: Vec<Block>, keep: usize) {
        let mut free = self
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if free.len() < keep {
            free.push(memory);
        } else {
            self.allocated
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// A hash job as a worker runs it: with the hasher's parameters and the worker's buffer.
type Job = Box<dyn FnOnce(&Params, &mut Vec<Block>) + Send>;

/// One hash worker: runs the queue's jobs one after the other until the hasher is gone.
fn work(
    jobs: flume::Receiver<Job>,
    params: Params,
    pool: Arc<MemoryPool>,
    running: Arc<std::sync::atomic::AtomicUsize>,
    workers: usize,
) {
    use std::sync::atomic::Ordering::Relaxed;
    while let Ok(job) = jobs.recv() {
        running.fetch_add(1, Relaxed);
        let mut memory = pool.take();
        // A panicking job fails its own request (its answer channel is dropped), not
        // the worker.
        let _ =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&params, &mut memory)));
        pool.give_back(memory, workers);
        running.fetch_sub(1, Relaxed);
    }
}

impl Argon2Hasher {
    /// `workers` hashes run at once; `queue` more may wait for a worker.
    pub fn new(cost: HashCost, workers: usize, queue: usize) -> Result<Self, HashError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| HashError::Failed(e.to_string()))?;
        let workers = workers.max(1);
        let memory = Arc::new(MemoryPool::new(&params));
        let mut buffer = memory.take();
        let dummy_hash = hash_blocking(
            &params,
            "not a real password: timing equaliser",
            &mut buffer,
        )?;
        memory.give_back(buffer, workers);
        let (jobs, queue_end) = flume::unbounded::<Job>();
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for n in 0..workers {
            let (queue_end, params, memory, running) = (
                queue_end.clone(),
                params.clone(),
                memory.clone(),
                running.clone(),
            );
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(queue_end, params, memory, running, workers))
                .map_err(|e| HashError::Failed(format!("could not start a hash worker: {e}")))?;
        }
        Ok(Self {
            jobs,
            running,
            admitted: Arc::new(Semaphore::new(workers + queue)),
            capacity: workers + queue,
            memory,
            dummy_hash,
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Params, &mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        // Admission is decided at once: a full queue is refused, never waited on.
        let admitted = self.admitted.clone().try_acquire_owned().map_err(|_| {
            metrics::counter!("portal_hash_refused_total").increment(1);
            HashError::Busy
        })?;
        // The admission goes with the job, not with this future: a request dropped while
        // its hash waits or runs (the client went away) keeps its place until the hash
        // is done, so the queue never holds more than it admitted. Only the `workers`
        // threads run jobs, so at most `workers` buffers exist, whatever the
        // cancellations.
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |params: &Params, memory: &mut Vec<Block>| {
            let _admitted = admitted;
            let _ = answer.send(job(params, memory));
        });
        self.jobs
            .send(job)
            .map_err(|_| HashError::Failed("the hash workers have stopped".to_string()))?;
        let done = answered
            .await
            .map_err(|_| HashError::Failed("a hash job failed".to_string()));
        metrics::counter!("portal_hash_jobs_total").increment(1);
        done
    }
}

/// The argon2 output of `secret` under the given algorithm, version, parameters and
/// salt, computed in `memory` (a worker's buffer). Parameters that need more memory
/// than the buffer holds (a hash made at a higher cost than today's) get a buffer of
/// their own for this one computation.
fn compute<'a>(
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    secret: &[u8],
    salt: Salt<'a>,
    memory: &mut [Block],
) -> Result<Output, String> {
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| e.to_string())?;
    let hasher = Argon2::new(algorithm, version, params.clone());
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let mut own;
    let memory = if memory.len() >= params.block_count() {
        memory
    } else {
        own = vec![Block::default(); params.block_count()];
        own.as_mut_slice()
    };
    Output::init_with(output_len, |out| {
        hasher
            .hash_password_into_with_memory(secret, salt_bytes, out, &mut *memory)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(|e| e.to_string())
}

fn hash_blocking(params: &Params, secret: &str, memory: &mut [Block]) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    let output = compute(
        Algorithm::Argon2id,
        Version::V0x13,
        params,
        secret.as_bytes(),
        salt.as_salt(),
        memory,
    )
    .map_err(HashError::Failed)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| HashError::Failed(e.to_string()))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Bytes of the argon2 output kept as a wrong password's fingerprint.
const FINGERPRINT_BYTES: usize = 16;

/// Recomputes the hash of `secret` with the stored hash's own algorithm, salt and
/// parameters, compares it in constant time, and keeps the computed output's prefix as
/// the fingerprint of a wrong password.
fn check_blocking(current: &Params, secret: &str, phc: &str, memory: &mut [Block]) -> Verification {
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
    let Ok(output) = compute(algorithm, version, &params, secret.as_bytes(), salt, memory) else {
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

#[async_trait]
impl SecretHasher for Argon2Hasher {
    async fn hash(&self, secret: &Secret) -> Result<String, HashError> {
        let secret = secret.clone();
        self.run(move |params, memory| hash_blocking(params, secret.expose(), memory))
            .await?
    }

    async fn verify(&self, secret: &Secret, phc: &str) -> Result<bool, HashError> {
        let secret = secret.clone();
        let phc = phc.to_string();
        // The parameters come from the PHC string itself, so old hashes still verify.
        self.run(move |params, memory| {
            check_blocking(params, secret.expose(), &phc, memory).matches
        })
        .await
    }

    async fn check(&self, secret: &Secret, phc: &str) -> Result<Verification, HashError> {
        let secret = secret.clone();
        let phc = phc.to_string();
        self.run(move |params, memory| check_blocking(params, secret.expose(), &phc, memory))
            .await
    }

    async fn verify_dummy(&self, secret: &Secret) -> Result<(), HashError> {
        self.verify(secret, &self.dummy_hash).await.map(|_| ())
    }

    fn load(&self) -> (usize, usize) {
        let admitted = self.capacity - self.admitted.available_permits();
        let running = self.running.load(std::sync::atomic::Ordering::Relaxed);
        (running, admitted.saturating_sub(running))
    }

    fn saturated(&self) -> bool {
        self.admitted.available_permits() == 0
    }

    fn capacity(&self) -> usize {
        self.capacity
    }

    fn memory_bytes(&self) -> usize {
        self.memory
            .allocated
            .load(std::sync::atomic::Ordering::Relaxed)
            * self.memory.blocks
            * Block::SIZE
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
    async fn hashes_from_reused_memory_are_standard_phc_strings() -> Result<(), HashError> {
        use argon2::password_hash::PasswordVerifier as _;
        let hasher = Arc::new(Argon2Hasher::new(HashCost::TEST, 2, 16)?);
        let mut jobs = Vec::new();
        for i in 0..12 {
            let hasher = hasher.clone();
            jobs.push(tokio::spawn(async move {
                hasher.hash(&Secret::new(format!("secret-{i}"))).await
            }));
        }
        for (i, job) in jobs.into_iter().enumerate() {
            let phc = job.await.map_err(|e| HashError::Failed(e.to_string()))??;
            // The argon2 crate's own verifier accepts what the pooled path wrote, and a
            // buffer reused from another secret leaves no trace in the result.
            let parsed = PasswordHash::new(&phc).map_err(|e| HashError::Failed(e.to_string()))?;
            assert!(Argon2::default()
                .verify_password(format!("secret-{i}").as_bytes(), &parsed)
                .is_ok());
            assert!(
                hasher
                    .verify(&Secret::new(format!("secret-{i}")), &phc)
                    .await?
            );
        }
        // Twelve hashes, two workers: two buffers, the start-up one among them.
        let buffers = hasher
            .memory
            .allocated
            .load(std::sync::atomic::Ordering::Relaxed);
        assert!((1..=2).contains(&buffers), "{buffers} buffers");
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_dropped_mid_hash_keeps_its_slot_until_the_hash_ends() -> Result<(), HashError>
    {
        let hasher = Arc::new(Argon2Hasher::new(HashCost::PRODUCTION, 1, 8)?);
        for i in 0..6 {
            // Dropped while its hash runs, as when the client goes away.
            let _ = tokio::time::timeout(
                std::time::Duration::from_millis(2),
                hasher.hash(&Secret::new(format!("dropped-{i}"))),
            )
            .await;
        }
        hasher.hash(&Secret::new("last")).await?;
        // One worker: one buffer, never a second one for a hash started while a dropped
        // request's hash was still running.
        let most = hasher
            .memory
            .most
            .load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(most, 1);
        Ok(())
    }

    #[tokio::test]
    async fn a_hash_made_at_a_higher_cost_still_verifies() -> Result<(), HashError> {
        let heavier = Argon2Hasher::new(
            HashCost {
                memory_kib: 1024,
                iterations: 1,
                parallelism: 1,
            },
            1,
            1,
        )?;
        let current = Argon2Hasher::new(HashCost::TEST, 1, 1)?;
        let phc = heavier.hash(&Secret::new("BlueWhale2024!")).await?;
        assert!(current.verify(&Secret::new("BlueWhale2024!"), &phc).await?);
        assert!(!current.verify(&Secret::new("BlueWhale2024?"), &phc).await?);
        Ok(())
    }

    #[tokio::test]
    async fn saturated_when_every_slot_is_taken() -> Result<(), HashError> {
        let hasher = Argon2Hasher::new(HashCost::TEST, 1, 1)?;
        assert!(!hasher.saturated());
        let a = hasher.admitted.clone().try_acquire_owned();
        assert!(!hasher.saturated());
        let b = hasher.admitted.clone().try_acquire_owned();
        assert!(hasher.saturated());
        drop((a, b));
        assert!(!hasher.saturated());
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
