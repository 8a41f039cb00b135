//! Throttling of password guesses. Each guess counts under several limits:
//! a login under its account *from its address* and under the address
//! across accounts; a password change under the user. After a limit's free
//! attempts in a row fail, further ones are refused without looking at the
//! password, for a back-off that doubles with each further failure.
//!
//! Keying the account by address means no one elsewhere can keep its owner
//! out; the address limit slows one address spraying many accounts. An
//! attempt whose outcome was never recorded (the database froze, the
//! function was killed) counts as lost once the back-off has passed, so no
//! sequence of failures leaves a limit refusing past its back-off.

use std::time::{Duration, SystemTime};

use crate::{
    domain::{Email, UserId},
    store::{LoginAttempts, Reservation, StoreError},
};

const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);

/// Who guesses: the client address API Gateway saw (`sourceIp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(String);

impl ClientAddress {
    pub fn new(raw: &str) -> Self {
        // Only what an address holds, and not too much of it: it becomes a key.
        let clean: String = raw.chars().filter(|c| c.is_ascii_hexdigit() || ".:".contains(*c)).take(45).collect();
        Self(if clean.is_empty() { "unknown".to_owned() } else { clean })
    }
}

/// One limit a guess counts under.
#[derive(Debug, Clone)]
pub enum Limit<'a> {
    /// Logins to one account from one address.
    Account(&'a Email, &'a ClientAddress),
    /// Logins from one address, whatever the account.
    Address(&'a ClientAddress),
    /// Guesses at one user's current password (a password change).
    PasswordOf(UserId),
}

impl Limit<'_> {
    fn key(&self) -> String {
        match self {
            Self::Account(email, address) => format!("{}{}", account_prefix(email), address.0),
            Self::Address(address) => format!("address:{}", address.0),
            Self::PasswordOf(user) => format!("password:{user}"),
        }
    }

    /// Failures in a row let through before the first lock.
    fn free_attempts(&self) -> u32 {
        match self {
            Self::Account(..) | Self::PasswordOf(_) => 5,
            Self::Address(_) => 30,
        }
    }

    /// Whether a success starts the limit over. An address's limit counts
    /// failures only: one valid account of the sprayer's must not reset it.
    fn cleared_by_success(&self) -> bool {
        !matches!(self, Self::Address(_))
    }
}

fn account_prefix(email: &Email) -> String {
    format!("login:{email}|")
}

pub struct Throttle {
    attempts: LoginAttempts,
    /// The first lock's length (`LOGIN_BACKOFF_SECONDS`), and how long an
    /// unanswered attempt holds back the next.
    base: Duration,
}

/// A guess let through, with its number under each limit.
#[derive(Debug)]
pub struct Admitted(Vec<(String, u32, u32, bool)>);

/// Refused: retry after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
}

impl Throttle {
    pub fn new(attempts: LoginAttempts, base: Duration) -> Self {
        Self { attempts, base }
    }

    /// Counts the guess under every limit first, so concurrent guesses
    /// cannot all slip through before a failure is recorded; refuses it
    /// while any limit is locked or past its allowance.
    pub async fn admit(&self, limits: &[Limit<'_>]) -> Result<Result<Admitted, Throttled>, StoreError> {
        let now = SystemTime::now();
        let mut reserved = Vec::with_capacity(limits.len());
        let mut wait = None;
        for limit in limits {
            let key = limit.key();
            let reservation = self.attempts.reserve(&key).await?;
            if let Some(refused) = refusal(&reservation, limit.free_attempts(), self.base, now) {
                wait = wait.max(Some(refused.retry_after));
            }
            reserved.push((key, reservation, limit));
        }
        if let Some(retry_after) = wait {
            for (key, reservation, _) in &reserved {
                self.attempts.release(key, reservation).await?;
            }
            return Ok(Err(Throttled { retry_after }));
        }
        Ok(Ok(Admitted(
            reserved
                .into_iter()
                .map(|(key, r, limit)| (key, r.attempt, limit.free_attempts(), limit.cleared_by_success()))
                .collect(),
        )))
    }

    /// The guess was wrong: past a limit's free attempts, lock it.
    pub async fn failed(&self, admitted: Admitted) -> Result<(), StoreError> {
        for (key, attempt, free, _) in admitted.0 {
            if attempt >= free {
                let until = SystemTime::now() + backoff(self.base, attempt, free);
                self.attempts.lock(&key, attempt, until).await?;
            }
        }
        Ok(())
    }

    /// The guess was right: the account's limits start over.
    pub async fn succeeded(&self, admitted: Admitted) -> Result<(), StoreError> {
        for (key, _, _, cleared) in admitted.0 {
            if cleared {
                self.attempts.clear(&key).await?;
            }
        }
        Ok(())
    }

    /// Forgets every limit on the account: its password was reset.
    pub async fn forget(&self, email: &Email, user: UserId) -> Result<(), StoreError> {
        self.attempts.clear_prefixed(&account_prefix(email)).await?;
        self.attempts.clear(&Limit::PasswordOf(user).key()).await
    }
}

/// Why an attempt may not go through now, if it may not.
fn refusal(reservation: &Reservation, free: u32, base: Duration, now: SystemTime) -> Option<Throttled> {
    let locked_for = reservation.locked_until.and_then(|until| until.duration_since(now).ok());
    if let Some(wait) = locked_for {
        return Some(Throttled { retry_after: wait.max(Duration::from_secs(1)) });
    }
    if reservation.attempt <= reservation.allowed_up_to.unwrap_or(free) {
        return None;
    }
    // Past the allowance with no lock: the attempt before this one is still
    // being decided, unless it began a back-off ago, when its outcome is lost.
    // A start after `now` (a concurrent request's) is "just now".
    let since = reservation.previous_at.map_or(base, |at| now.duration_since(at).unwrap_or(Duration::ZERO));
    let left = base.saturating_sub(since);
    (!left.is_zero()).then(|| Throttled { retry_after: left.max(Duration::from_secs(1)) })
}

/// `base` at the `free`-th failure, doubling with each further one, at most
/// fifteen minutes.
fn backoff(base: Duration, failures: u32, free: u32) -> Duration {
    let doublings = failures.saturating_sub(free).min(20);
    base.saturating_mul(1 << doublings).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(30);

    fn attempt(n: u32, now: SystemTime) -> Reservation {
        Reservation { attempt: n, allowed_up_to: None, locked_until: None, previous_at: Some(now), at: now }
    }

    #[test]
    fn the_backoff_doubles_from_the_fifth_failure_up_to_fifteen_minutes() {
        let waits: Vec<u64> = (5..=12).map(|n| backoff(BASE, n, 5).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(backoff(BASE, u32::MAX, 5), MAX_BACKOFF);
    }

    #[test]
    fn five_attempts_go_through_and_the_sixth_waits_for_the_one_in_flight() {
        let now = SystemTime::now();
        assert!((1..=5).all(|n| refusal(&attempt(n, now), 5, BASE, now).is_none()));
        assert_eq!(refusal(&attempt(6, now), 5, BASE, now), Some(Throttled { retry_after: BASE }));
    }

    #[test]
    fn an_attempt_that_began_after_now_is_in_flight() {
        let now = SystemTime::now();
        let racing = attempt(6, now + Duration::from_millis(5));
        assert_eq!(refusal(&racing, 5, BASE, now), Some(Throttled { retry_after: BASE }));
    }

    #[test]
    fn an_attempt_whose_outcome_was_lost_stops_counting_after_the_backoff() {
        let then = SystemTime::now();
        let waiting = attempt(6, then);
        assert!(refusal(&waiting, 5, BASE, then + BASE / 2).is_some(), "still in flight");
        assert!(refusal(&waiting, 5, BASE, then + BASE).is_none(), "lost: the next attempt goes through");
    }

    #[test]
    fn a_locked_account_says_how_long_to_wait_and_then_lets_one_attempt_through() {
        let now = SystemTime::now();
        let locked = Reservation { allowed_up_to: Some(6), locked_until: Some(now + BASE), ..attempt(6, now) };
        assert_eq!(refusal(&locked, 5, BASE, now).map(|t| t.retry_after), Some(BASE));
        let later = now + BASE + Duration::from_secs(1);
        assert!(refusal(&Reservation { previous_at: Some(later), ..locked }, 5, BASE, later).is_none());
        let next = Reservation { attempt: 7, previous_at: Some(later), ..locked };
        assert!(refusal(&next, 5, BASE, later).is_some(), "only one at a time");
    }

    #[test]
    fn client_addresses_keep_only_what_an_address_holds() {
        assert_eq!(ClientAddress::new("203.0.113.9"), ClientAddress("203.0.113.9".into()));
        assert_eq!(ClientAddress::new("2001:db8::1"), ClientAddress("2001:db8::1".into()));
        assert_eq!(ClientAddress::new("$gt|x"), ClientAddress("unknown".into()));
    }
}
