//! Argon2id password hashing (m = 19 MiB, t = 2, p = 1: OWASP's minimum) and the password
//! policy: 10 to 128 characters, not a common password, not the login itself.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::clock::Random;
use crate::error::AppError;

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 128;

pub(crate) fn argon2() -> Argon2<'static> {
    // Params::new only fails on out-of-range values; these are constants within range.
    #[allow(clippy::unwrap_used)]
    let params = Params::new(19 * 1024, 2, 1, None).unwrap();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string.
pub fn hash(password: &str, random: &dyn Random) -> anyhow::Result<String> {
    hash_salted(password, &random.bytes(16))
}

fn hash_salted(password: &str, salt: &[u8]) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let hash = argon2().hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("hash: {e}"))?;
    Ok(hash.to_string())
}

/// A temporary password to email (SecurityTrax's "Generate Random Password"): 16 characters
/// from 55 that cannot be mistaken for one another, about 92 bits.
pub fn temporary(random: &dyn Random) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(16);
    while out.len() < 16 {
        for b in random.bytes(32) {
            // Rejection sampling keeps every character equally likely.
            let i = usize::from(b);
            if i < 256 - 256 % ALPHABET.len() && out.len() < 16 {
                out.push(char::from(ALPHABET[i % ALPHABET.len()]));
            }
        }
    }
    out
}

/// [`hash`] off the async runtime's threads, with the salt drawn here.
pub async fn hash_salted_off_thread(password: String, salt: Vec<u8>) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_salted(&password, &salt)).await?
}

/// Checks a password against a stored hash. A malformed hash never verifies.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash with today's parameters that no password matches: verifying against it spends the
/// same time as a real verification, so an unknown login answers as slowly as a wrong password.
pub(crate) const DUMMY: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Q8lxF3bbIW4yR8Q/2lsYNRhyHqFaAGnbEVhKsa0zcnA";

pub use super::hashing::HashGate;

/// [`hash`] on the hashing threads, within the gate's permits.
pub async fn hash_off_thread(
    password: String,
    random: std::sync::Arc<dyn Random>,
    gate: &HashGate,
) -> Result<String, AppError> {
    gate.hash(password, random.bytes(16)).await
}

/// [`verify`] on the hashing threads, within the gate's permits; `None` as the hash spends the
/// same time and fails.
pub async fn verify_off_thread(password: String, phc: Option<String>, gate: &HashGate) -> Result<bool, AppError> {
    gate.verify(password, phc).await
}

/// Why a password is refused: shorter than 10 or longer than 128 characters, containing the
/// login, or guessable. Guessable is zxcvbn's judgement (score under 3 of 4): it knows 30,000
/// common passwords, names, words, keyboard patterns, dates, repeats and sequences, and is told
/// the user's own logins and names.
pub fn check_policy(password: &str, logins: &[&str]) -> Result<(), &'static str> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err("must be at least 10 characters");
    }
    if len > MAX_LEN {
        return Err("must be at most 128 characters");
    }
    let lower = password.to_lowercase();
    if logins.iter().any(|l| l.chars().count() >= 3 && lower.contains(&l.to_lowercase())) {
        return Err("must not contain the login name or email");
    }
    let inputs: Vec<&str> = logins.iter().copied().filter(|l| !l.is_empty()).collect();
    if u8::from(zxcvbn::zxcvbn(password, &inputs).score()) < 3 {
        return Err("is too common or too easy to guess: use a few unrelated words or a longer phrase");
    }
    Ok(())
}

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

    #[test]
    fn common_and_patterned_passwords_of_ten_characters_or_more_are_guessable() {
        // From breach lists, keyboard walks, a name and a year, l33t speak, repeats.
        for weak in [
            "password123",
            "qwertyuiop",
            "1q2w3e4r5t",
            "iloveyou123",
            "P@ssw0rd2024",
            "michael1985",
            "abcabcabcabc",
            "football2026",
            "1234567890",
            "trustno1trustno1",
        ] {
            assert_eq!(
                check_policy(weak, &[]),
                Err("is too common or too easy to guess: use a few unrelated words or a longer phrase"),
                "{weak}"
            );
        }
        // The user's own name counts as guessable material.
        assert!(check_policy("adalovelace1815", &["ada.lovelace", "Ada", "Lovelace"]).is_err());
        for strong in ["tower-lantern-harbour-42", "lighthouse-keeper-88", "gravel Orbit piano 7"] {
            assert_eq!(check_policy(strong, &[]), Ok(()), "{strong}");
        }
    }
}
