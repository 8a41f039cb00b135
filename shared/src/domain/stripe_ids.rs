use super::Invalid;

const MAX_LEN: usize = 255;

fn stripe_id(raw: &str, prefix: &str) -> bool {
    raw.len() <= MAX_LEN
        && raw
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

/// A Stripe PaymentIntent id, `pi_…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentIntentId(String);

impl PaymentIntentId {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if stripe_id(raw, "pi_") {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid("must be a Stripe PaymentIntent id (pi_...)"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Stripe PaymentMethod id, `pm_…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentMethodId(String);

impl PaymentMethodId {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if stripe_id(raw, "pm_") {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid("must be a Stripe PaymentMethod id (pm_...)"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_ids_with_their_prefix_are_accepted() {
        assert!(PaymentIntentId::parse("pi_1H7jg1CZ6F7J6I8jW2Q2c2jG").is_ok());
        assert!(PaymentMethodId::parse("pm_card_visa").is_ok());
    }

    #[test]
    fn wrong_prefixes_and_characters_are_rejected() {
        for raw in ["", "pi_", "pm_123", "pi_12 3", "pi_$ne", &format!("pi_{}", "a".repeat(300))] {
            assert!(PaymentIntentId::parse(raw).is_err(), "{raw:?} was accepted");
        }
        for raw in ["pi_123", "pm_", "pm_a/b"] {
            assert!(PaymentMethodId::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }
}
