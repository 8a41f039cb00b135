use std::{
    collections::hash_map::RandomState,
    fmt,
    hash::BuildHasher,
    sync::{
        atomic::{AtomicU32, Ordering},
        OnceLock,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use super::Invalid;

/// A record's id: 12 bytes laid out as MongoDB's ObjectId (seconds since
/// the epoch, 5 bytes unique to the process, a 3-byte counter), so that
/// ids sort by creation and the store keeps them as ObjectIds; shown to
/// clients as 24 hex digits. The domain knows nothing of MongoDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId([u8; 12]);

impl RecordId {
    /// A fresh id: later than every id this process made in an earlier second.
    pub fn generate() -> Self {
        static PROCESS: OnceLock<[u8; 5]> = OnceLock::new();
        static COUNTER: OnceLock<AtomicU32> = OnceLock::new();
        // RandomState is seeded from the OS's randomness, once per process.
        let process = PROCESS.get_or_init(|| {
            let random = RandomState::new().hash_one(std::process::id());
            let bytes = random.to_be_bytes();
            [bytes[0], bytes[1], bytes[2], bytes[3], bytes[4]]
        });
        let counter = COUNTER.get_or_init(|| AtomicU32::new(RandomState::new().hash_one(0u8) as u32));
        let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as u32);
        let count = counter.fetch_add(1, Ordering::Relaxed).to_be_bytes();
        let mut id = [0; 12];
        id[..4].copy_from_slice(&seconds.to_be_bytes());
        id[4..9].copy_from_slice(process);
        id[9..].copy_from_slice(&count[1..]);
        Self(id)
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let refused = Invalid("must be a 24-character hexadecimal id");
        if raw.len() != 24 || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(refused);
        }
        let mut id = [0; 12];
        for (byte, pair) in id.iter_mut().zip(raw.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| refused.clone())?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| refused.clone())?;
        }
        Ok(Self(id))
    }

    pub const fn from_bytes(bytes: [u8; 12]) -> Self {
        Self(bytes)
    }

    pub const fn bytes(self) -> [u8; 12] {
        self.0
    }

    /// When the id was made, to the second.
    pub fn created_at(self) -> SystemTime {
        let seconds = u32::from_be_bytes([self.0[0], self.0[1], self.0[2], self.0[3]]);
        UNIX_EPOCH + Duration::from_secs(seconds.into())
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_four_hex_digits_round_trip() {
        let id = RecordId::parse("5f9f1c9b9c9c9c9c9c9c9c9c").unwrap();
        assert_eq!(id.to_string(), "5f9f1c9b9c9c9c9c9c9c9c9c");
        assert_eq!(RecordId::parse("5F9F1C9B9C9C9C9C9C9C9C9C").unwrap(), id);
    }

    #[test]
    fn anything_but_twenty_four_hex_digits_is_refused() {
        for raw in [
            "",
            "5f9f1c9b9c9c9c9c9c9c9c9",
            "5f9f1c9b9c9c9c9c9c9c9c9cc",
            "zf9f1c9b9c9c9c9c9c9c9c9c",
            "+f9f1c9b9c9c9c9c9c9c9c9c",
            "é9f1c9b9c9c9c9c9c9c9c9c",
        ] {
            assert!(RecordId::parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn fresh_ids_are_distinct_and_ordered_by_creation() {
        let (first, second) = (RecordId::generate(), RecordId::generate());
        assert_ne!(first, second);
        assert!(first.created_at() <= second.created_at());
        let now = SystemTime::now();
        assert!(now.duration_since(first.created_at()).unwrap() < Duration::from_secs(2));
    }
}
