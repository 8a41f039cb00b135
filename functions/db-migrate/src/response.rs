use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use lambda_runtime::Error;
use serde_json::{json, Value};

use super::Request;

/// The response CloudFormation expects; `Reason` is shown in the stack's events.
pub fn body(request: &Request, outcome: Result<Value, String>) -> Value {
    let physical = request.physical_resource_id.clone().unwrap_or_else(|| format!("{}-database", request.stack_id));
    let (status, reason, data) = match outcome {
        Ok(data) => ("SUCCESS", "The database is migrated.".to_owned(), data),
        Err(reason) => ("FAILED", format!("Database migration failed: {reason}"), json!({})),
    };
    json!({
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": physical,
        "StackId": request.stack_id,
        "RequestId": request.request_id,
        "LogicalResourceId": request.logical_resource_id,
        "Data": data,
    })
}

/// PUTs the response to the pre-signed URL, with no content type (the URL
/// is signed without one).
pub async fn put(url: &str, body: &Value) -> Result<(), Error> {
    let client = super::https::client()?;
    let request = http::Request::put(url)
        .header(http::header::CONTENT_TYPE, "")
        .body(Full::new(Bytes::from(body.to_string())))?;
    let response = tokio::time::timeout(Duration::from_secs(30), client.request(request)).await??;
    let status = response.status();
    let _ = response.into_body().collect().await;
    if !status.is_success() {
        return Err(format!("CloudFormation's response URL answered {status}").into());
    }
    Ok(())
}
