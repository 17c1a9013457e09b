//! Argon2id password hashing (m = 19 MiB, t = 2, p = 1: OWASP's minimum) and the password
//! policy: 10 to 128 characters, not a common password, not the login itself.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::clock::Random;

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 128;

fn argon2() -> Argon2<'static> {
    // Params::new only fails on out-of-range values; these are constants within range.
    #[allow(clippy::unwrap_used)]
    let params = Params::new(19 * 1024, 2, 1, None).unwrap();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string.
pub fn hash(password: &str, random: &dyn Random) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(&random.bytes(16)).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let hash = argon2().hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("hash: {e}"))?;
    Ok(hash.to_string())
}

/// Checks a password against a stored hash. A malformed hash never verifies.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as a real verification, so that an unknown login answers as slowly as a
/// wrong password.
pub fn verify_dummy(password: &str) {
    const DUMMY: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Q8lxF3bbIW4yR8Q/2lsYNRhyHqFaAGnbEVhKsa0zcnA";
    let _ = verify(password, DUMMY);
}

/// [`hash`] off the async runtime's threads (argon2 takes tens of milliseconds of CPU).
pub async fn hash_off_thread(password: String, random: std::sync::Arc<dyn Random>) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash(&password, random.as_ref())).await?
}

/// [`verify`] off the async runtime's threads; `None` as the hash spends the same time and fails.
pub async fn verify_off_thread(password: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify(&password, &phc),
        None => {
            verify_dummy(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// Why a password is refused.
pub fn check_policy(password: &str, logins: &[&str]) -> Result<(), &'static str> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err("must be at least 10 characters");
    }
    if len > MAX_LEN {
        return Err("must be at most 128 characters");
    }
    let lower = password.to_lowercase();
    if COMMON.iter().any(|c| lower == *c) || is_repetitive(&lower) {
        return Err("is too common or too easy to guess");
    }
    if logins.iter().any(|l| !l.is_empty() && lower.contains(&l.to_lowercase())) {
        return Err("must not contain the login name or email");
    }
    Ok(())
}

fn is_repetitive(p: &str) -> bool {
    let chars: Vec<char> = p.chars().collect();
    let distinct = {
        let mut c = chars.clone();
        c.sort_unstable();
        c.dedup();
        c.len()
    };
    distinct <= 2 || chars.windows(2).all(|w| (w[1] as i64 - w[0] as i64) == 1)
}

/// Passwords of 10 characters or more that appear at the top of breach lists.
const COMMON: &[&str] = &[
    "1234567890",
    "12345678910",
    "0123456789",
    "1234567890a",
    "qwertyuiop",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "password12",
    "password123",
    "password1!",
    "password01",
    "passw0rd12",
    "iloveyou12",
    "qwerty1234",
    "qwerty12345",
    "qwertyuiop1",
    "asdfghjkl1",
    "zaq12wsxcde",
    "changeme123",
    "letmein123",
    "welcome123",
    "welcome1234",
    "administrator",
    "admin12345",
    "admin123456",
    "abcd123456",
    "abc1234567",
    "football123",
    "baseball123",
    "monkey12345",
    "sunshine123",
    "princess123",
    "dragon12345",
    "master12345",
    "trustno1234",
    "superman123",
    "security123",
    "securepassword",
    "mypassword1",
    "password2024",
    "password2025",
    "password2026",
    "guardpost123",
    "p@ssw0rd123",
    "p@ssword123",
    "passwordpassword",
    "0987654321",
    "9876543210",
    "1111111111",
    "aaaaaaaaaa",
    "abcdefghij",
    "abcdefghijk",
    "football1!",
    "qwerty123!",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::OsRandom;

    #[test]
    fn hashes_are_argon2id_with_the_stated_parameters_and_verify() {
        let phc = hash("correct-horse-battery-7", &OsRandom).unwrap_or_default();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct-horse-battery-7", &phc));
        assert!(!verify("correct-horse-battery-8", &phc));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn the_policy_refuses_short_common_and_login_passwords() {
        assert!(check_policy("short", &[]).is_err());
        assert!(check_policy("Password123", &[]).is_err());
        assert!(check_policy("abcdefghijkl", &[]).is_err());
        assert!(check_policy("ada.guard-is-great", &["ada.guard"]).is_err());
        assert!(check_policy(&"x".repeat(129), &[]).is_err());
        assert!(check_policy("correct-horse-battery-7", &["ada"]).is_ok());
    }
}
