use super::{Invalid, RecordId};

/// One page of a list, and where the next one starts, if there is one.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// `limit + 1` items read in order: `limit` of them, and a cursor after
    /// the last when the extra one shows that more remain.
    pub fn of(mut items: Vec<T>, limit: PageLimit, record: impl Fn(&T) -> RecordId) -> Self {
        let limit = limit.get() as usize;
        let more = items.len() > limit;
        items.truncate(limit);
        let next = if more { items.last().map(|last| Cursor::after(record(last))) } else { None };
        Self { items, next }
    }
}

/// How many items one page holds: 1–100, 20 unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u32);

impl PageLimit {
    pub const MAX: u32 = 100;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.parse::<u32>() {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(Invalid("must be an integer from 1 to 100")),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self(20)
    }
}

/// Where the next page starts: the last item's record id, handed out as 24
/// hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(RecordId);

impl Cursor {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        RecordId::parse(raw).map(Self).map_err(|_| Invalid("must be a cursor from x-next-cursor"))
    }

    pub fn after(record: RecordId) -> Self {
        Self(record)
    }

    pub fn record(self) -> RecordId {
        self.0
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_from_one_to_a_hundred_are_accepted() {
        assert_eq!(PageLimit::parse("1").unwrap().get(), 1);
        assert_eq!(PageLimit::parse("100").unwrap().get(), 100);
        assert_eq!(PageLimit::default().get(), 20);
    }

    #[test]
    fn other_limits_are_refused() {
        for raw in ["0", "101", "ten", "-1", ""] {
            assert!(PageLimit::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let cursor = Cursor::parse("5f9f1c9b9c9c9c9c9c9c9c9c").unwrap();
        assert_eq!(cursor.to_string(), "5f9f1c9b9c9c9c9c9c9c9c9c");
        assert!(Cursor::parse("nope").is_err());
    }
}
