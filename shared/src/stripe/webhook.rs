//! Stripe's webhook signatures, checked with ring: async-stripe has no
//! verify-only API, and its event parser would link every event type
//! (docs/adr/0003-webhook-signature-in-ring.md).

use ring::hmac;

/// How far a signature's timestamp may be from now: Stripe's default.
const TOLERANCE_SECONDS: i64 = 300;

/// Stripe's scheme: `t=<unix time>,v1=<hex HMAC-SHA256 of "t.payload">`,
/// possibly with several `v1` (during secret rotation); one must match, and
/// `t` must be within the tolerance of now.
pub fn verify(secret: &str, header: &str, payload: &[u8], now: i64) -> bool {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => candidates.push(value),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else { return false };
    // Checked: a timestamp at either end of i64 must not overflow.
    if now.checked_sub(timestamp).and_then(i64::checked_abs).is_none_or(|age| age > TOLERANCE_SECONDS) {
        return false;
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut signed = timestamp.to_string().into_bytes();
    signed.push(b'.');
    signed.extend_from_slice(payload);
    candidates.into_iter().filter_map(decode_hex).any(|mac| hmac::verify(&key, &signed, &mac).is_ok())
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const PAYLOAD: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_123"}}}"#;

    fn header(secret: &str, t: i64, payload: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let mut signed = format!("{t}.").into_bytes();
        signed.extend_from_slice(payload);
        let mac = crate::hex::encode(hmac::sign(&key, &signed).as_ref());
        format!("t={t},v1={mac}")
    }

    #[test]
    fn a_fresh_signature_by_the_secret_is_accepted() {
        assert!(verify(SECRET, &header(SECRET, 1000, PAYLOAD), PAYLOAD, 1100));
    }

    #[test]
    fn another_secret_a_changed_payload_or_an_old_timestamp_is_refused() {
        assert!(!verify(SECRET, &header("whsec_other", 1000, PAYLOAD), PAYLOAD, 1000));
        assert!(!verify(SECRET, &header(SECRET, 1000, PAYLOAD), b"{}", 1000));
        assert!(!verify(SECRET, &header(SECRET, 1000, PAYLOAD), PAYLOAD, 1000 + TOLERANCE_SECONDS + 1));
        for garbage in ["", "t=1000", "v1=00", "t=x,v1=zz", "t=1000,v1=0"] {
            assert!(!verify(SECRET, garbage, PAYLOAD, 1000), "{garbage:?}");
        }
    }

    #[test]
    fn timestamps_at_the_ends_of_i64_are_refused_without_overflow() {
        for t in [i64::MIN, i64::MIN + 1, i64::MAX, -1] {
            assert!(!verify(SECRET, &header(SECRET, t, PAYLOAD), PAYLOAD, 1000), "{t}");
            assert!(!verify(SECRET, &format!("t={t},v1=00"), PAYLOAD, 1000), "{t}");
        }
        assert!(!verify(SECRET, &header(SECRET, 1000, PAYLOAD), PAYLOAD, i64::MIN));
    }

    #[test]
    fn one_matching_signature_among_several_is_enough() {
        let good = header(SECRET, 1000, PAYLOAD);
        let rotated = format!("t=1000,v1=deadbeef,{}", good.split_once(',').unwrap().1);
        assert!(verify(SECRET, &rotated, PAYLOAD, 1000));
    }
}
