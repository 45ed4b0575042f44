//! [`Argon2Hasher`]: Argon2id password hashes, Django PBKDF2 hashes of imported users, and
//! the same work for unknown usernames. Hashing runs off the async executor, on one thread
//! per CPU.

use std::cell::RefCell;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
use jwt_core::error::HashError;
use jwt_core::password::{is_django_pbkdf2, verify_django_pbkdf2};
use jwt_core::ports::{PasswordCheck, PasswordHasher, SecureRandom};
use jwt_core::system::OsRandom;
use tokio::sync::{Semaphore, oneshot};
use zeroize::Zeroizing;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB (`m`).
    pub memory_kib: u32,
    /// Passes over the memory (`t`).
    pub iterations: u32,
    /// Lanes (`p`).
    pub parallelism: u32,
}

impl Default for Argon2Params {
    /// OWASP's recommendation for Argon2id: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Self { memory_kib: 19_456, iterations: 2, parallelism: 1 }
    }
}

struct Inner {
    params: Params,
    random: Arc<dyn SecureRandom>,
    /// A hash of a random password with the current parameters, verified against when the
    /// user does not exist (made on first use).
    dummy: OnceLock<Result<String, String>>,
    /// Where hashes are computed.
    threads: HashThreads,
}

/// A hash to compute on one of the [`HashThreads`].
type Job = Box<dyn FnOnce() + Send>;

/// One thread per CPU that computes hashes, started on first use, and one permit per thread.
///
/// Each Argon2id hash needs `memory_kib` of memory. On Tokio's blocking pool (up to 512
/// threads) a burst of logins, even for unknown users, would run hundreds of hashes at once
/// and take gigabytes (measured: 5.7 GB for 300 concurrent logins). Each of these threads
/// instead owns one Argon2 memory buffer ([`MEMORY`]) that every hash it computes reuses, so
/// the hasher holds about `memory_kib` per CPU however many logins arrive (allocating it per
/// hash, the allocator kept hundreds of megabytes of freed buffers). Hashing is CPU-bound, so
/// more hashes at once than CPUs would not finish sooner anyway: the other requests wait
/// for a permit.
struct HashThreads {
    permits: Arc<Semaphore>,
    count: usize,
    jobs: OnceLock<Result<Sender<Job>, String>>,
}

impl HashThreads {
    fn new() -> Self {
        let count = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Self { permits: Arc::new(Semaphore::new(count)), count, jobs: OnceLock::new() }
    }

    /// The job queue, starting the threads on first use. They stop when the hasher is dropped.
    fn jobs(&self) -> Result<&Sender<Job>, HashError> {
        let jobs = self.jobs.get_or_init(|| {
            let (sender, receiver) = std::sync::mpsc::channel::<Job>();
            let receiver = Arc::new(Mutex::new(receiver));
            for i in 0..self.count {
                let receiver = receiver.clone();
                std::thread::Builder::new()
                    .name(format!("{HASH_THREAD_NAME}-{i}"))
                    .spawn(move || run_jobs(&receiver))
                    .map_err(|e| format!("cannot start a password hashing thread: {e}"))?;
            }
            Ok(sender)
        });
        jobs.as_ref().map_err(|e| HashError(e.clone()))
    }

    /// Run `work` on a hashing thread once a permit is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        // The permit moves into the job: it is only released when the hash is done, even if
        // the request that asked for it is dropped meanwhile (a client hanging up).
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| HashError(format!("password hashing is shut down: {e}")))?;
        let (reply, result) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| span.in_scope(work)))
                .unwrap_or_else(|_| Err(HashError("password hashing panicked".to_owned())));
            drop(permit);
            let _ = reply.send(outcome);
        });
        self.jobs()?.send(job).map_err(|_| HashError("the password hashing threads stopped".to_owned()))?;
        result.await.map_err(|_| HashError("password hashing task failed".to_owned()))?
    }
}

/// Name prefix of the hashing threads.
const HASH_THREAD_NAME: &str = "argon2";

thread_local! {
    /// The Argon2 memory of a hashing thread, reused by every hash it computes.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Argon2 of `password` and `salt` into `out`, in this thread's reused memory.
fn hash_into(
    argon2: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    MEMORY.with(|memory| match memory.try_borrow_mut() {
        Ok(mut memory) => {
            if memory.len() < params.block_count() {
                memory.resize(params.block_count(), Block::new());
            }
            argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..])
        }
        Err(_) => argon2.hash_password_into(password, salt, out),
    })
}

/// `true` if `password` hashes to `hash` under its own algorithm, version and parameters
/// (`params`, read from `hash`); the outputs are compared in constant time.
fn matches(password: &[u8], hash: &PasswordHash<'_>, algorithm: Algorithm, params: &Params) -> bool {
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else { return false };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else { return false };
    let Ok(version) = hash.version.map(Version::try_from).transpose() else { return false };
    let argon2 = Argon2::new(algorithm, version.unwrap_or_default(), params.clone());
    let mut out = [0u8; Output::MAX_LENGTH];
    let Some(out) = out.get_mut(..expected.len()) else { return false };
    hash_into(&argon2, params, password, salt, out).is_ok() && Output::new(out).is_ok_and(|o| o == expected)
}

/// A hashing thread: run jobs until the queue is closed.
fn run_jobs(jobs: &Mutex<Receiver<Job>>) {
    loop {
        let next = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match next {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// Hashes passwords with Argon2id and verifies Argon2 and Django `pbkdf2_sha256$` hashes.
///
/// - A correct password whose hash is Django's, another Argon2 variant, or Argon2id with
///   other parameters answers [`PasswordCheck::MatchNeedsRehash`], so the service re-hashes
///   it with the current parameters.
/// - `verify(password, None)` verifies against a dummy hash with the current parameters:
///   unknown usernames cost the same time as known ones.
/// - An unparseable hash is a [`PasswordCheck::Mismatch`] (after the same dummy work).
/// - Hashes run on one thread per CPU, one at a time each (clones share the threads), so
///   memory stays at about `memory_kib` per CPU however many logins arrive at once.
#[derive(Clone)]
pub struct Argon2Hasher {
    inner: Arc<Inner>,
}

impl fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Argon2Hasher")
            .field("memory_kib", &self.inner.params.m_cost())
            .field("iterations", &self.inner.params.t_cost())
            .field("parallelism", &self.inner.params.p_cost())
            .finish()
    }
}

impl Argon2Hasher {
    /// A hasher with `params`, salting from the OS random source.
    ///
    /// # Errors
    /// [`HashError`] if the parameters are out of Argon2's range (for example less memory
    /// than 8 KiB per lane, or zero iterations).
    pub fn new(params: Argon2Params) -> Result<Self, HashError> {
        Self::with_random(params, Arc::new(OsRandom::new()))
    }

    /// A hasher with `params`, salting from `random`.
    ///
    /// # Errors
    /// As for [`Argon2Hasher::new`].
    pub fn with_random(params: Argon2Params, random: Arc<dyn SecureRandom>) -> Result<Self, HashError> {
        let params = Params::new(params.memory_kib, params.iterations, params.parallelism, None)
            .map_err(|e| HashError(format!("invalid Argon2 parameters: {e}")))?;
        let threads = HashThreads::new();
        Ok(Self { inner: Arc::new(Inner { params, random, dummy: OnceLock::new(), threads }) })
    }

    /// The parameters of new hashes.
    pub fn params(&self) -> Argon2Params {
        Argon2Params {
            memory_kib: self.inner.params.m_cost(),
            iterations: self.inner.params.t_cost(),
            parallelism: self.inner.params.p_cost(),
        }
    }
}

impl Inner {
    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// What `Argon2::hash_password` writes, computed in the thread's reused memory.
    fn hash_now(&self, password: &[u8]) -> Result<String, HashError> {
        let failed = |e: &dyn fmt::Display| HashError(e.to_string());
        let mut salt = [0u8; 16];
        self.random.fill(&mut salt).map_err(|e| failed(&e))?;
        let salt_string = SaltString::encode_b64(&salt).map_err(|e| failed(&e))?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        hash_into(&self.argon2(), &self.params, password, &salt, &mut out).map_err(|e| failed(&e))?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(|e| failed(&e))?,
            salt: Some(salt_string.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
        };
        Ok(hash.to_string())
    }

    fn dummy_hash(&self) -> Result<&str, HashError> {
        let dummy = self.dummy.get_or_init(|| {
            let mut password = [0u8; 16];
            self.random.fill(&mut password).map_err(|e| e.to_string())?;
            self.hash_now(&password).map_err(|e| e.0)
        });
        dummy.as_deref().map_err(|e| HashError(e.clone()))
    }

    /// The same work as checking a real Argon2id hash with the current parameters.
    fn dummy_work(&self, password: &[u8]) -> Result<PasswordCheck, HashError> {
        let dummy = self.dummy_hash()?;
        if let Ok(parsed) = PasswordHash::new(dummy) {
            let _ = matches(password, &parsed, Algorithm::Argon2id, &self.params);
        }
        Ok(PasswordCheck::Mismatch)
    }

    fn verify_now(&self, password: &str, encoded: Option<&str>) -> Result<PasswordCheck, HashError> {
        let Some(encoded) = encoded else { return self.dummy_work(password.as_bytes()) };
        if is_django_pbkdf2(encoded) {
            return Ok(if verify_django_pbkdf2(password, encoded) {
                PasswordCheck::MatchNeedsRehash
            } else {
                PasswordCheck::Mismatch
            });
        }
        let Ok(parsed) = PasswordHash::new(encoded) else { return self.dummy_work(password.as_bytes()) };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
            return self.dummy_work(password.as_bytes());
        };
        let Ok(stored_params) = Params::try_from(&parsed) else {
            return self.dummy_work(password.as_bytes());
        };
        // Verifies with the hash's own algorithm, version and parameters.
        if !matches(password.as_bytes(), &parsed, algorithm, &stored_params) {
            return Ok(PasswordCheck::Mismatch);
        }
        let current = algorithm == Algorithm::Argon2id
            && parsed.version == Some(Version::V0x13.into())
            && stored_params.m_cost() == self.params.m_cost()
            && stored_params.t_cost() == self.params.t_cost()
            && stored_params.p_cost() == self.params.p_cost();
        Ok(if current { PasswordCheck::Match } else { PasswordCheck::MatchNeedsRehash })
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &str) -> Result<String, HashError> {
        let inner = self.inner.clone();
        let password = Zeroizing::new(password.to_owned());
        self.inner.threads.run(move || inner.hash_now(password.as_bytes())).await
    }

    async fn verify(&self, password: &str, encoded: Option<&str>) -> Result<PasswordCheck, HashError> {
        let inner = self.inner.clone();
        let password = Zeroizing::new(password.to_owned());
        let encoded = encoded.map(|e| Zeroizing::new(e.to_owned()));
        self.inner
            .threads
            .run(move || inner.verify_now(&password, encoded.as_deref().map(String::as_str)))
            .await
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    fn small() -> Argon2Hasher {
        Argon2Hasher::new(Argon2Params { memory_kib: 1024, iterations: 1, parallelism: 1 }).unwrap()
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_configured_params() {
        let hasher = small();
        let hash = hasher.hash("correct horse").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
        assert_eq!(hasher.verify("correct horse", Some(&hash)).await.unwrap(), PasswordCheck::Match);
        assert_eq!(hasher.verify("wrong", Some(&hash)).await.unwrap(), PasswordCheck::Mismatch);
        assert_ne!(hash, hasher.hash("correct horse").await.unwrap(), "salted");
    }

    /// Hashing in reused memory writes exactly what the argon2 crate's own hasher writes,
    /// and each verifies the other's hashes.
    #[tokio::test]
    async fn hashes_are_the_argon2_crates_own() {
        #[derive(Debug)]
        struct Sevens;
        impl SecureRandom for Sevens {
            fn fill(&self, buf: &mut [u8]) -> Result<(), jwt_core::error::RandomError> {
                buf.fill(7);
                Ok(())
            }
        }
        let params = Argon2Params { memory_kib: 1024, iterations: 1, parallelism: 1 };
        let ours = Argon2Hasher::with_random(params, Arc::new(Sevens)).unwrap();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(1024, 1, 1, None).unwrap());
        let theirs =
            argon2.hash_password(b"pw", &SaltString::encode_b64(&[7; 16]).unwrap()).unwrap().to_string();
        assert_eq!(ours.hash("pw").await.unwrap(), theirs);
        let random_salt = small().hash("pw").await.unwrap();
        assert!(argon2.verify_password(b"pw", &PasswordHash::new(&random_salt).unwrap()).is_ok());
        let long_output =
            Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(1024, 1, 1, Some(64)).unwrap())
                .hash_password(b"pw", &SaltString::encode_b64(b"0123456789abcdef").unwrap())
                .unwrap()
                .to_string();
        assert_eq!(ours.verify("pw", Some(&long_output)).await.unwrap(), PasswordCheck::Match);
        assert_eq!(ours.verify("pW", Some(&long_output)).await.unwrap(), PasswordCheck::Mismatch);
    }

    #[tokio::test]
    async fn outdated_params_or_variant_need_rehash() {
        let old =
            Argon2Hasher::new(Argon2Params { memory_kib: 2048, iterations: 1, parallelism: 1 }).unwrap();
        let hash = old.hash("pw").await.unwrap();
        assert_eq!(small().verify("pw", Some(&hash)).await.unwrap(), PasswordCheck::MatchNeedsRehash);
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::new(1024, 1, 1, None).unwrap())
            .hash_password(b"pw", &SaltString::encode_b64(b"0123456789abcdef").unwrap())
            .unwrap()
            .to_string();
        assert_eq!(small().verify("pw", Some(&argon2i)).await.unwrap(), PasswordCheck::MatchNeedsRehash);
    }

    #[tokio::test]
    async fn unknown_users_and_garbage_never_match() {
        let hasher = small();
        assert!(hasher.inner.dummy.get().is_none());
        assert_eq!(hasher.verify("pw", None).await.unwrap(), PasswordCheck::Mismatch);
        // The unknown-user path did real Argon2id work with the current parameters.
        let dummy = hasher.inner.dummy.get().unwrap().as_ref().unwrap();
        assert!(dummy.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{dummy}");
        for garbage in ["", "$argon2id$", "plaintext", "$scrypt$ln=1$x$y", "pbkdf2_sha256$1$salt$bad"] {
            assert_eq!(
                hasher.verify("pw", Some(garbage)).await.unwrap(),
                PasswordCheck::Mismatch,
                "{garbage}"
            );
        }
    }

    #[tokio::test]
    async fn django_hashes_match_and_need_rehash() {
        let encoded = "pbkdf2_sha256$870000$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=";
        assert_eq!(small().verify("lètmein", Some(encoded)).await.unwrap(), PasswordCheck::MatchNeedsRehash);
        assert_eq!(small().verify("letmein", Some(encoded)).await.unwrap(), PasswordCheck::Mismatch);
    }

    /// Each hash holds `memory_kib` while it runs: a burst of logins must queue for the
    /// per-CPU permits instead of running hundreds of hashes (gigabytes) at once.
    #[tokio::test]
    async fn hashes_wait_for_a_free_permit() {
        let hasher = small();
        let permits = hasher.inner.threads.permits.clone();
        let cpus = std::thread::available_parallelism().unwrap().get();
        assert_eq!(permits.available_permits(), cpus);
        let all_taken = permits.clone().acquire_many_owned(u32::try_from(cpus).unwrap()).await.unwrap();
        let waiting = tokio::spawn({
            let hasher = hasher.clone();
            async move { hasher.verify("pw", None).await }
        });
        // A small hash takes about a millisecond; without a permit it must not even start.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "a hash ran without a permit");
        assert!(hasher.inner.dummy.get().is_none());
        drop(all_taken);
        assert_eq!(waiting.await.unwrap().unwrap(), PasswordCheck::Mismatch);
        assert_eq!(permits.available_permits(), cpus, "the permit is returned after the hash");
    }

    /// The allocator keeps a thread's freed hash memory for that thread: hashes must run on
    /// the hasher's own threads, one per CPU, never on fresh threads of a growing pool.
    #[tokio::test]
    async fn hashes_run_on_one_thread_per_cpu() {
        let hasher = small();
        let runs = (0..24).map(|_| {
            let hasher = hasher.clone();
            tokio::spawn(async move {
                hasher
                    .inner
                    .threads
                    .run(|| {
                        let thread = std::thread::current();
                        std::thread::sleep(std::time::Duration::from_millis(2));
                        Ok((thread.id(), thread.name().map(str::to_owned)))
                    })
                    .await
                    .unwrap()
            })
        });
        let mut ids = std::collections::HashSet::new();
        for run in runs.collect::<Vec<_>>() {
            let (id, name) = run.await.unwrap();
            assert!(name.as_deref().is_some_and(|n| n.starts_with("argon2-")), "{name:?}");
            ids.insert(id);
        }
        assert!(ids.len() <= hasher.inner.threads.count, "{} threads", ids.len());
        let panicked = hasher.inner.threads.run(|| -> Result<(), HashError> { panic!("boom") }).await;
        assert!(panicked.is_err());
        assert_eq!(hasher.verify("pw", None).await.unwrap(), PasswordCheck::Mismatch, "threads survive");
    }

    #[test]
    fn default_params_are_owasp_and_invalid_ones_are_refused() {
        assert_eq!(
            Argon2Params::default(),
            Argon2Params { memory_kib: 19_456, iterations: 2, parallelism: 1 }
        );
        assert!(Argon2Hasher::new(Argon2Params { memory_kib: 1024, iterations: 0, parallelism: 1 }).is_err());
        assert!(format!("{:?}", small()).contains("1024"));
    }
}
