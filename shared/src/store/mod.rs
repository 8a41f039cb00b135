//! MongoDB: the client, the collections, the migrations, and what a driver
//! error means.

mod attempts;
mod claims;
mod migrate;
mod payments;
mod refunds;
mod users;

use std::time::Duration;

use mongodb::{
    bson::oid::ObjectId,
    error::{Error, ErrorKind, WriteFailure},
    options::ClientOptions,
    Client, Database,
};

pub use attempts::{LoginAttempts, Reservation};
pub use claims::PaymentClaims;
pub use migrate::{migrate, Migrated};
pub use payments::{Payments, Recorded};
pub use refunds::{RefundReservation, Refunds};
pub use users::Users;

use crate::{
    config::ConfigError,
    domain::{RecordId, UserId},
    telemetry::redacted,
};

/// Our ids as MongoDB keeps them: the same 12 bytes.
fn oid(record: RecordId) -> ObjectId {
    ObjectId::from_bytes(record.bytes())
}

fn record_of(oid: ObjectId) -> RecordId {
    RecordId::from_bytes(oid.bytes())
}

fn user_oid(user: UserId) -> ObjectId {
    oid(user.record())
}

/// An instant as RFC 3339, the way MongoDB's tools show dates.
pub fn rfc3339(at: std::time::SystemTime) -> String {
    mongodb::bson::DateTime::from_system_time(at).try_to_rfc3339_string().unwrap_or_default()
}

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
    /// Unreachable, timing out, failing over: worth retrying later (503).
    #[error("the database is unavailable")]
    Unavailable(#[source] Error),
    /// A unique index refused the write.
    #[error("a unique index refused the write")]
    Duplicate(#[source] Error),
    /// A stored document does not hold valid values.
    #[error("a stored document is not valid")]
    Corrupt(#[source] Error),
    /// A server error we do not know: a logged 500.
    #[error("the database refused the operation")]
    Refused(#[source] Error),
    /// A document a write just reported was gone when read back (deleted
    /// meanwhile): worth retrying (503).
    #[error("a {0} document changed under the request")]
    Vanished(&'static str),
    /// A stored field holds a value this code never writes.
    #[error("a stored {0} is not valid")]
    Malformed(&'static str),
}

impl From<Error> for StoreError {
    fn from(err: Error) -> Self {
        match err.kind.as_ref() {
            ErrorKind::Write(WriteFailure::WriteError(write)) if write.code == DUPLICATE_KEY => Self::Duplicate(err),
            ErrorKind::Command(command) if command.code == DUPLICATE_KEY => Self::Duplicate(err),
            ErrorKind::BsonDeserialization(_) | ErrorKind::BsonSerialization(_) => Self::Corrupt(err),
            _ if is_transient(&err) => Self::Unavailable(err),
            _ => Self::Refused(err),
        }
    }
}

/// What a client can retry: the server unreachable, or answering as a
/// replica set does while it fails over (Atlas does at every maintenance
/// window), shuts down, or runs out of time; the driver's own retryable
/// labels; a write concern not met.
fn is_transient(err: &Error) -> bool {
    let code = match err.kind.as_ref() {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. } => return true,
        // A write concern not met in time is transient; one that can never
        // be met (UnknownReplWriteConcern, UnsatisfiableWriteConcern) is not.
        ErrorKind::Write(WriteFailure::WriteConcernError(concern)) => return !matches!(concern.code, 79 | 100),
        ErrorKind::Command(command) => Some(command.code),
        ErrorKind::Write(WriteFailure::WriteError(write)) => Some(write.code),
        _ => None,
    };
    TRANSIENT_LABELS.iter().any(|label| err.contains_label(label))
        || code.is_some_and(|code| TRANSIENT_CODES.contains(&code))
}

const TRANSIENT_LABELS: [&str; 3] = ["RetryableWriteError", "TransientTransactionError", "SystemOverloadedError"];

/// MongoDB's error codes for a node that is not (or no longer) the primary,
/// is shutting down, cannot be reached, or ran out of time: the driver's
/// retryable set (retryable-reads and retryable-writes specifications)
/// plus the time limits.
const TRANSIENT_CODES: [i32; 19] = [
    6,     // HostUnreachable
    7,     // HostNotFound
    50,    // MaxTimeMSExpired
    63,    // StaleShardVersion
    64,    // WriteConcernFailed
    89,    // NetworkTimeout
    91,    // ShutdownInProgress
    133,   // FailedToSatisfyReadPreference
    134,   // ReadConcernMajorityNotAvailableYet
    150,   // StaleEpoch
    189,   // PrimarySteppedDown
    234,   // RetryChangeStream
    262,   // ExceededTimeLimit
    9001,  // SocketException
    10107, // NotWritablePrimary
    11600, // InterruptedAtShutdown
    11602, // InterruptedDueToReplStateChange
    13435, // NotPrimaryNoSecondaryOk
    13436, // NotPrimaryOrSecondary
];

const DUPLICATE_KEY: i32 = 11000;
