use super::Invalid;

const MAX_LEN: usize = 255;

fn stripe_id(raw: &str, prefix: &str) -> bool {
    raw.len() <= MAX_LEN
        && raw
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

/// A Stripe object id: a fixed prefix, then letters, digits and `_`.
macro_rules! stripe_id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $refusal:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, Invalid> {
                if stripe_id(raw, $prefix) {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err(Invalid($refusal))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        super::string_value!($name);
    };
}

stripe_id_type!(
    /// A Stripe customer id, `cus_…`.
    CustomerId, "cus_", "must be a Stripe customer id (cus_...)"
);
stripe_id_type!(
    /// A Stripe PaymentIntent id, `pi_…`.
    PaymentIntentId, "pi_", "must be a Stripe PaymentIntent id (pi_...)"
);
stripe_id_type!(
    /// A Stripe Refund id, `re_…`.
    RefundId, "re_", "must be a Stripe Refund id (re_...)"
);
stripe_id_type!(
    /// A Stripe PaymentMethod id, `pm_…`.
    PaymentMethodId, "pm_", "must be a Stripe PaymentMethod id (pm_...)"
);

/// The secret Stripe.js confirms a PaymentIntent with, handed to its owner
/// only.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_customer_ids_are_accepted() {
        assert_eq!(CustomerId::parse("cus_1234567890").unwrap().as_str(), "cus_1234567890");
    }

    #[test]
    fn other_strings_are_not_customer_ids() {
        for raw in ["", "cus_", "1234", "cus_12 34", "pi_123", "cus_$where"] {
            assert!(CustomerId::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }

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
