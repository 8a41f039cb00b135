//! MongoDB: the client, the indexes the data model relies on, and how driver
//! errors map to HTTP.

use std::time::Duration;

use mongodb::{
    bson::{doc, Document},
    error::{Error, ErrorKind, WriteFailure},
    options::{ClientOptions, IndexOptions},
    Client, Database, IndexModel,
};

use crate::{config::ConfigError, http::ApiError};

/// Long enough for a cold Atlas connection, short enough that an outage
/// answers 503 well inside the functions' timeout.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Builds the client. The driver connects lazily, so this costs no round
/// trip unless the URI is `mongodb+srv://` (one DNS lookup).
pub async fn connect(uri: &str, database: &str) -> Result<Database, ConfigError> {
    let mut options = ClientOptions::parse(uri).await.map_err(|err| ConfigError::Database(redacted(&err)))?;
    options.app_name = Some("payments-api".to_owned());
    options.server_selection_timeout = Some(SERVER_SELECTION_TIMEOUT);
    options.connect_timeout = Some(CONNECT_TIMEOUT);
    // One Lambda container serves one request at a time.
    options.max_pool_size = Some(4);
    let client = Client::with_options(options).map_err(|err| ConfigError::Database(redacted(&err)))?;
    Ok(client.database(database))
}

/// Creates the indexes that settle races: one account per email, one
/// payment per user and idempotency key. Idempotent; run by the operator
/// command and the local stack, never on a request path.
pub async fn ensure_indexes(db: &Database) -> Result<(), Error> {
    let unique = |keys| IndexModel::builder().keys(keys).options(IndexOptions::builder().unique(true).build()).build();
    let users = db.collection::<Document>("users");
    users.create_index(unique(doc! { "email": 1 })).await?;
    let payments = db.collection::<Document>("payments");
    payments.create_index(unique(doc! { "userId": 1, "cuid": 1 })).await?;
    payments.create_index(unique(doc! { "intentId": 1 })).await?;
    // Serves GET /payment. On Atlas { userId: 1, _id: -1 } would also serve
    // the sort, but nx-27017 refuses writes to a collection whose index
    // names `_id`; one user's payments sort cheaply in memory.
    payments.create_index(IndexModel::builder().keys(doc! { "userId": 1 }).build()).await?;
    Ok(())
}

pub fn is_duplicate_key(err: &Error) -> bool {
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(write)) => write.code == 11000,
        ErrorKind::Command(command) => command.code == 11000,
        _ => false,
    }
}

/// A driver error as the client sees it: an unreachable database is a 503
/// they may retry; anything else is our fault and only logged in detail.
pub fn unavailable(err: Error) -> ApiError {
    let detail = redacted(&err);
    match err.kind.as_ref() {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. } => {
            tracing::error!(error = %detail, "database unavailable");
            ApiError::ServiceUnavailable("Database is unavailable, please retry.")
        }
        _ => ApiError::Internal(format!("database error: {detail}")),
    }
}

/// Driver messages can echo the connection string; strip any credentials.
fn redacted(err: &Error) -> String {
    let text = err.to_string();
    match (text.find("://"), text.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://<redacted>{}", &text[..scheme], &text[at..])
        }
        _ => text,
    }
}
