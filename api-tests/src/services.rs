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
