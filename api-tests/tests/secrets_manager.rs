//! The Secrets Manager stand-in checks what AWS checks (moto with its own
//! authentication switched on by tools/stack.py): a request is answered
//! only when its access key is known and its SigV4 signature matches, so
//! every test that reads the secret also proves our signing.

use api_tests::service_env;
use shared::secrets::{Credentials, SecretsManager, SecretsManagerError};

fn signed_with(access_key_id: String, secret_access_key: &str) -> SecretsManager {
    let credentials = Credentials { access_key_id, secret_access_key: secret_access_key.into(), session_token: None };
    SecretsManager::new(&service_env("AWS_ENDPOINT_URL_SECRETS_MANAGER"), &service_env("AWS_REGION"), credentials)
        .expect("a valid endpoint")
}

/// The refusal's status. (AWS answers a JSON 400, `InvalidSignatureException`
/// or `UnrecognizedClientException`; moto an XML 403. Either is a refusal,
/// which a cold start reports and does not retry.)
async fn refused(client: SecretsManager) -> u16 {
    match client.get_secret_string(&service_env("APP_SECRET_ID")).await {
        Err(SecretsManagerError::Refused { status, .. }) => status,
        other => panic!("expected a refusal, got {:?}", other.map(|text| text.map(|_| "<the secret>"))),
    }
}

#[tokio::test]
async fn our_signature_is_accepted() {
    let client = SecretsManager::from_env().expect("the AWS environment of `make services`");
    let text = client.get_secret_string(&service_env("APP_SECRET_ID")).await.unwrap();
    assert!(text.is_some_and(|text| text.contains("mongodbUri")));
}

#[tokio::test]
async fn a_request_signed_with_another_secret_key_is_refused() {
    let client = signed_with(service_env("AWS_ACCESS_KEY_ID"), "not-the-secret-access-key");
    assert!((400..500).contains(&refused(client).await));
}

#[tokio::test]
async fn an_unknown_access_key_is_refused() {
    let client = signed_with("AKIAUNKNOWNKEY000000".into(), "whatever");
    assert!((400..500).contains(&refused(client).await));
}
