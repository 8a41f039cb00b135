use mongodb::bson::oid::ObjectId;

pub const HOW_TO_START: &str = "The tests need the local services (nx-27017, moto, localstripe). \
     Run `make test`, which starts them and runs every test, or start them with `make services` \
     and export the variables it prints before `cargo test`.";

/// A variable the test command sets to reach a local service.
pub fn service_env(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| panic!("{name} is not set. {HOW_TO_START}"))
}

/// A name no other test uses, for databases, emails and secrets.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", ObjectId::new().to_hex())
}

/// Stores a new secret in the Secrets Manager emulator and returns its id.
pub async fn put_secret(value: &serde_json::Value) -> String {
    let id = unique("test-secret-");
    put_secret_named(&id, value).await;
    id
}

/// Stores a new secret under `id`.
pub async fn put_secret_named(id: &str, value: &serde_json::Value) {
    secrets_manager()
        .create_secret()
        .name(id)
        .secret_string(value.to_string())
        .send()
        .await
        .unwrap_or_else(|err| panic!("creating a secret in moto: {err:?}. {HOW_TO_START}"));
}

/// An SDK client for the Secrets Manager stand-in, with the keys of `make services`.
pub fn secrets_manager() -> aws_sdk_secretsmanager::Client {
    use aws_sdk_secretsmanager::config::{Credentials, Region};
    let credentials =
        Credentials::new(service_env("AWS_ACCESS_KEY_ID"), service_env("AWS_SECRET_ACCESS_KEY"), None, None, "test");
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(shared::secrets::behavior_version())
        .region(Region::new(service_env("AWS_REGION")))
        .credentials_provider(credentials)
        .endpoint_url(service_env("AWS_ENDPOINT_URL_SECRETS_MANAGER"))
        .http_client(shared::secrets::https_client().expect("the compiled-in roots"))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// A fresh database on the local MongoDB stand-in, for tests of the stand-in itself.
pub async fn services_db() -> mongodb::Database {
    let secret = shared::secrets::AppSecret::fetch(&service_env("APP_SECRET_ID"))
        .await
        .unwrap_or_else(|err| panic!("Secrets Manager (moto) is not reachable: {err}. {HOW_TO_START}"));
    shared::store::connect(&secret.core().mongodb_uri, &unique("stand_in_")).await.expect("a valid MongoDB URI")
}
