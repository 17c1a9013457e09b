//! Where password hashes are computed: a few dedicated threads, each with its own 19 MiB of
//! argon2 work memory allocated once and reused, behind a semaphore of as many permits.
//!
//! Running argon2 on the general blocking pool let every hash allocate its 19 MiB afresh on
//! whichever thread ran it, and the allocator kept what was freed per thread and arena: 500
//! logins at once grew the process by gigabytes, even with the number of hashes at once bounded.
//! Here memory is the number of threads times 19 MiB, whatever comes in; a request that waits
//! longer than `wait` for a permit is answered `503 busy` with `Retry-After`.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use argon2::Block;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};

use super::password::{argon2, verify};
use crate::error::AppError;

/// Memory one argon2 computation holds (m = 19 MiB), with some room.
const BYTES_PER_HASH: u64 = 20 * 1024 * 1024;

type Job = Box<dyn FnOnce(&mut [Block]) + Send>;

#[derive(Debug)]
pub struct HashGate {
    permits: tokio::sync::Semaphore,
    size: usize,
    wait: std::time::Duration,
    /// Started on first use (a function that never hashes never starts them).
    workers: OnceLock<Mutex<mpsc::Sender<Job>>>,
}

impl HashGate {
    pub fn new(permits: usize, wait: std::time::Duration) -> Self {
        let size = permits.max(1);
        Self { permits: tokio::sync::Semaphore::new(size), size, wait, workers: OnceLock::new() }
    }

    /// Sized so that the hashes in flight hold at most a quarter of the memory this process may
    /// use (Lambda's configured size, the cgroup limit, or the memory available), never more
    /// than 512 MiB: between 1 and 25 at once. Waits up to 2 seconds for a permit.
    pub fn sized_from_memory() -> Self {
        let budget = (memory_limit() / 4).min(512 * 1024 * 1024);
        let permits = usize::try_from(budget / BYTES_PER_HASH).unwrap_or(1).clamp(1, 25);
        Self::new(permits, std::time::Duration::from_secs(2))
    }

    pub fn size(&self) -> usize {
        self.size
    }

    fn sender(&self) -> mpsc::Sender<Job> {
        let workers = self.workers.get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            let rx = Arc::new(Mutex::new(rx));
            for n in 0..self.size {
                let rx = rx.clone();
                let spawned = std::thread::Builder::new().name(format!("argon2-{n}")).spawn(move || {
                    let mut memory = vec![Block::default(); argon2().params().block_count()];
                    loop {
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(_) => return,
                        }
                    }
                });
                if let Err(e) = spawned {
                    tracing::error!(error = %e, "could not start a password hashing thread");
                }
            }
            Mutex::new(tx)
        });
        match workers.lock() {
            Ok(tx) => tx.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Runs `work` on a hashing thread with its work memory, within a permit.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let _permit = match tokio::time::timeout(self.wait, self.permits.acquire()).await {
            Ok(Ok(permit)) => permit,
            _ => {
                tracing::warn!(permits = self.size, "password hashing is saturated: answering busy");
                return Err(AppError::Busy { retry_after_secs: 1 });
            }
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = tx.send(work(memory));
        });
        self.sender().send(job).map_err(|_| AppError::Internal(anyhow::anyhow!("the hashing threads are gone")))?;
        rx.await.map_err(|_| AppError::Internal(anyhow::anyhow!("a hashing thread stopped")))
    }

    /// Hashes a password into a PHC string, with `salt` (16 random bytes).
    pub async fn hash(&self, password: String, salt: Vec<u8>) -> Result<String, AppError> {
        let hashed = self.run(move |memory| hash_with(&password, &salt, memory)).await?;
        Ok(hashed?)
    }

    /// Checks a password against a stored hash; `None` spends the same time and fails.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, AppError> {
        self.run(move |memory| match phc {
            Some(phc) => verify_with(&password, &phc, memory),
            None => {
                let _ = verify_with(&password, super::password::DUMMY, memory);
                false
            }
        })
        .await
    }
}

impl Default for HashGate {
    fn default() -> Self {
        Self::sized_from_memory()
    }
}

fn hash_with(password: &str, salt: &[u8], memory: &mut [Block]) -> anyhow::Result<String> {
    let a = argon2();
    let salt = SaltString::encode_b64(salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let salt: Salt<'_> = salt.as_salt();
    let mut raw_salt = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut raw_salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let output = Output::init_with(argon2::Params::DEFAULT_OUTPUT_LEN, |out| {
        a.hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, &mut *memory)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(|e| anyhow::anyhow!("hash: {e}"))?;
    let phc = PasswordHash {
        algorithm: argon2::Algorithm::Argon2id.ident(),
        version: Some(argon2::Version::V0x13.into()),
        params: ParamsString::try_from(a.params()).map_err(|e| anyhow::anyhow!("params: {e}"))?,
        salt: Some(salt),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Verifies with the thread's memory when the stored hash has today's parameters; a hash made
/// with other parameters is verified the allocating way.
fn verify_with(password: &str, phc: &str, memory: &mut [Block]) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    let ours = ParamsString::try_from(argon2().params()).ok();
    let same = parsed.algorithm == argon2::Algorithm::Argon2id.ident()
        && parsed.version == Some(argon2::Version::V0x13.into())
        && Some(&parsed.params) == ours.as_ref();
    let (Some(salt), Some(expected), true) = (parsed.salt, parsed.hash, same) else {
        return verify(password, phc);
    };
    let mut raw_salt = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut raw_salt) else { return false };
    let computed = Output::init_with(expected.len(), |out| {
        argon2()
            .hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, &mut *memory)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    });
    // Output's equality is constant-time.
    computed.is_ok_and(|c| c == expected)
}

/// The memory this process may use, in bytes: Lambda's configured size, else the cgroup v2
/// limit, else MemAvailable, else 1 GiB.
fn memory_limit() -> u64 {
    const GIB: u64 = 1024 * 1024 * 1024;
    if let Some(mb) = std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").ok().and_then(|v| v.parse::<u64>().ok()) {
        return mb * 1024 * 1024;
    }
    if let Some(bytes) = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok().and_then(|v| v.trim().parse().ok()) {
        return bytes;
    }
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
        })
        .unwrap_or(GIB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_made_with_reused_memory_verify_both_ways() {
        let gate = HashGate::new(2, std::time::Duration::from_secs(30));
        let phc = gate.hash("correct-horse-battery-7".into(), vec![9u8; 16]).await.unwrap_or_default();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct-horse-battery-7", &phc), "the allocating verifier agrees");
        assert_eq!(gate.verify("correct-horse-battery-7".into(), Some(phc.clone())).await.ok(), Some(true));
        assert_eq!(gate.verify("correct-horse-battery-8".into(), Some(phc)).await.ok(), Some(false));
        let made_elsewhere =
            super::super::password::hash("lantern-orbit-meadow-5", &crate::clock::OsRandom).unwrap_or_default();
        assert_eq!(gate.verify("lantern-orbit-meadow-5".into(), Some(made_elsewhere)).await.ok(), Some(true));
        assert_eq!(gate.verify("anything".into(), None).await.ok(), Some(false));
    }

    #[tokio::test]
    async fn beyond_the_permits_a_request_is_answered_busy() {
        let gate = std::sync::Arc::new(HashGate::new(1, std::time::Duration::from_millis(1)));
        let slow = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.verify("a".into(), None).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        let busy = gate.verify("b".into(), None).await;
        assert!(matches!(busy, Err(AppError::Busy { .. })), "{busy:?}");
        assert!(slow.await.is_ok());
    }
}
