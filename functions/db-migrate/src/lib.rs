//! The database migration as a CloudFormation custom resource: on every
//! create or update of the stack it runs what `payments-admin migrate` runs,
//! and tells CloudFormation how it went by a PUT to the pre-signed response
//! URL. A failure fails the deploy, which rolls back. Deleting the stack
//! leaves the data alone.

mod https;
mod response;

use lambda_runtime::{Error, LambdaEvent};
use serde::Deserialize;
use serde_json::{json, Value};
use shared::{store, telemetry, CoreState};

/// A CloudFormation custom resource request (the fields used here).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    request_type: String,
    #[serde(rename = "ResponseURL")]
    response_url: String,
    stack_id: String,
    request_id: String,
    logical_resource_id: String,
    physical_resource_id: Option<String>,
}

pub async fn handle(event: LambdaEvent<Request>) -> Result<Value, Error> {
    let request = event.payload;
    let outcome = match request.request_type.as_str() {
        "Create" | "Update" => migrate().await,
        _ => Ok(json!({})),
    };
    let body = response::body(&request, outcome);
    response::put(&request.response_url, &body).await?;
    Ok(body)
}

/// Runs the migrations with the functions' own configuration; the error is
/// the whole cause chain, for the stack's events (it names no secret).
async fn migrate() -> Result<Value, String> {
    let state = CoreState::from_env().await.map_err(|err| telemetry::chain(&err))?;
    let migrated = store::migrate(&state.db).await.map_err(|err| telemetry::chain(&err))?;
    tracing::info!(payments_upgraded = migrated.payments_upgraded, "database migrated");
    Ok(json!({ "PaymentsUpgraded": migrated.payments_upgraded }))
}
