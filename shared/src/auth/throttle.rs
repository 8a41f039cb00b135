//! Login throttling per account: after five failed attempts in a row,
//! further attempts are refused without looking at the password, for a
//! back-off that doubles with each further failure.

use std::time::{Duration, SystemTime};

use crate::{
    domain::Email,
    store::{LoginAttempts, Reservation, StoreError},
};

/// Attempts allowed before the first lock.
const FREE_ATTEMPTS: u32 = 5;
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

pub struct Throttle {
    attempts: LoginAttempts,
    /// The first lock's length (`LOGIN_BACKOFF_SECONDS`).
    base: Duration,
}

/// An attempt let through; its number decides the lock if it fails.
#[derive(Debug, Clone, Copy)]
pub struct Admitted(u32);

/// Refused: retry after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
}

impl Throttle {
    pub fn new(attempts: LoginAttempts, base: Duration) -> Self {
        Self { attempts, base }
    }

    /// Counts the attempt first, so concurrent attempts cannot all slip
    /// through before a failure is recorded; refuses it while the account is
    /// locked or past its allowance.
    pub async fn admit(&self, email: &Email) -> Result<Result<Admitted, Throttled>, StoreError> {
        let reservation = self.attempts.reserve(email).await?;
        match refusal(reservation, SystemTime::now()) {
            None => Ok(Ok(Admitted(reservation.attempt))),
            Some(throttled) => {
                self.attempts.release(email).await?;
                Ok(Err(throttled))
            }
        }
    }

    /// The password was wrong: from the fifth failure on, lock the account.
    pub async fn failed(&self, email: &Email, admitted: Admitted) -> Result<(), StoreError> {
        if admitted.0 >= FREE_ATTEMPTS {
            let until = SystemTime::now() + backoff(self.base, admitted.0);
            self.attempts.lock(email, admitted.0, until).await?;
        }
        Ok(())
    }

    /// The password was right: start over.
    pub async fn succeeded(&self, email: &Email) -> Result<(), StoreError> {
        self.attempts.clear(email).await
    }
}

/// Why an attempt may not go through now, if it may not.
fn refusal(reservation: Reservation, now: SystemTime) -> Option<Throttled> {
    let locked_for = reservation.locked_until.and_then(|until| until.duration_since(now).ok());
    let allowed = reservation.attempt <= reservation.allowed_up_to.unwrap_or(FREE_ATTEMPTS);
    match (locked_for, allowed) {
        (None, true) => None,
        (Some(wait), _) => Some(Throttled { retry_after: wait.max(Duration::from_secs(1)) }),
        // Another attempt is being checked right now.
        (None, false) => Some(Throttled { retry_after: Duration::from_secs(1) }),
    }
}

/// `base` after the fifth failure, doubling with each further one, at most
/// fifteen minutes.
fn backoff(base: Duration, failures: u32) -> Duration {
    let doublings = failures.saturating_sub(FREE_ATTEMPTS).min(20);
    base.saturating_mul(1 << doublings).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(30);

    #[test]
    fn the_backoff_doubles_from_the_fifth_failure_up_to_fifteen_minutes() {
        let waits: Vec<u64> = (5..=12).map(|n| backoff(BASE, n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(backoff(BASE, u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn five_attempts_go_through_and_the_sixth_waits_for_the_one_in_flight() {
        let now = SystemTime::now();
        let attempt = |n| Reservation { attempt: n, allowed_up_to: None, locked_until: None };
        assert!((1..=5).all(|n| refusal(attempt(n), now).is_none()));
        assert_eq!(refusal(attempt(6), now), Some(Throttled { retry_after: Duration::from_secs(1) }));
    }

    #[test]
    fn a_locked_account_says_how_long_to_wait_and_then_lets_one_attempt_through() {
        let now = SystemTime::now();
        let locked = Reservation { attempt: 6, allowed_up_to: Some(6), locked_until: Some(now + BASE) };
        assert_eq!(refusal(locked, now).map(|t| t.retry_after), Some(BASE));
        let later = now + BASE + Duration::from_secs(1);
        assert!(refusal(locked, later).is_none());
        assert!(refusal(Reservation { attempt: 7, ..locked }, later).is_some(), "only one at a time");
    }
}
