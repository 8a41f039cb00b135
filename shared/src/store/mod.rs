//! MongoDB: the client, the collections, the migrations, and what a driver
//! error means.

mod attempts;
mod migrate;
mod payments;
mod refunds;
mod users;

use std::time::Duration;

use mongodb::{
    error::{Error, ErrorKind, WriteFailure},
    options::ClientOptions,
    Client, Database,
};

pub use attempts::{LoginAttempts, Reservation};
pub use migrate::{migrate, Migrated};
pub use payments::{Page, Payments, Recorded};
pub use refunds::{RefundReservation, Refunds};
pub use users::Users;

use crate::{config::ConfigError, telemetry::redacted};

/// Long enough for a cold Atlas connection, short enough that an outage
/// answers 503 well inside the functions' timeout.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Builds the client. The driver connects lazily, so this costs no round
/// trip unless the URI is `mongodb+srv://` (one DNS lookup).
pub async fn connect(uri: &str, database: &str) -> Result<Database, ConfigError> {
    let invalid = |err: Error| ConfigError::Database(redacted(&err.to_string()));
    let mut options = ClientOptions::parse(uri).await.map_err(invalid)?;
    options.app_name = Some("payments-api".to_owned());
    options.server_selection_timeout = Some(SERVER_SELECTION_TIMEOUT);
    options.connect_timeout = Some(CONNECT_TIMEOUT);
    // One Lambda container serves one request at a time.
    options.max_pool_size = Some(4);
    let client = Client::with_options(options).map_err(invalid)?;
    Ok(client.database(database))
}

/// What went wrong talking to MongoDB, by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Unreachable, timing out, failing over: worth retrying later.
    #[error("the database is unavailable")]
    Unavailable(#[source] Error),
    /// A unique index refused the write.
    #[error("a unique index refused the write")]
    Duplicate(#[source] Error),
    /// A stored document does not hold valid values.
    #[error("a stored document is not valid")]
    Corrupt(#[source] Error),
    #[error("the database refused the operation")]
    Refused(#[source] Error),
    /// A stored field holds a value this code never writes.
    #[error("a stored {0} is not valid")]
    Malformed(&'static str),
}

impl From<Error> for StoreError {
    fn from(err: Error) -> Self {
        match err.kind.as_ref() {
            ErrorKind::Write(WriteFailure::WriteError(write)) if write.code == DUPLICATE_KEY => Self::Duplicate(err),
            ErrorKind::Command(command) if command.code == DUPLICATE_KEY => Self::Duplicate(err),
            ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. } => Self::Unavailable(err),
            ErrorKind::BsonDeserialization(_) | ErrorKind::BsonSerialization(_) => Self::Corrupt(err),
            _ => Self::Refused(err),
        }
    }
}

const DUPLICATE_KEY: i32 = 11000;
