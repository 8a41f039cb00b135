//! Operator commands, run with the same configuration as the functions
//! (APP_SECRET_ID, MONGODB_DATABASE) and the AWS credentials an operator
//! has: AWS_PROFILE, SSO, credential_process, an instance or container
//! role, or the key variables; the region from AWS_REGION or the profile.
//!
//!   payments-admin migrate              create the indexes (idempotent)
//!   payments-admin promote USER_ID      show the account; with --yes, make it an admin
//!   payments-admin seed-admin EMAIL     create or reset an admin; password from ADMIN_PASSWORD
//!
//! There is deliberately no API for becoming admin.

use std::{error::Error, process::ExitCode};

use shared::{
    domain::{Email, Password, UserId},
    secrets::{behavior_version, https_client, SecretsClient},
    store, telemetry, users, AppState,
};

const USAGE: &str =
    "usage: payments-admin migrate | promote USER_ID [--yes] | seed-admin EMAIL (password in ADMIN_PASSWORD)

promote shows the account's email and creation time, and promotes it only
with --yes: an email names whoever registered it first, an id one account.

AWS credentials and region come from the standard chain: AWS_PROFILE (SSO and
credential_process included), an instance or container role, or the AWS_*
key variables. APP_SECRET_ID names the secret; MONGODB_DATABASE the database.";

/// What the operator asked for, read before anything touches AWS.
enum Command {
    Help,
    Migrate,
    Promote { user: UserId, confirmed: bool },
    SeedAdmin(Email, Password),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let command = match parse(&args) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("payments-admin: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(command).await {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("payments-admin: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse(args: &[&str]) -> Result<Command, String> {
    let email = |raw: &str| Email::parse(raw).map_err(|why| format!("email {why}"));
    match args {
        ["--help" | "-h" | "help"] => Ok(Command::Help),
        ["migrate"] => Ok(Command::Migrate),
        ["promote", id] | ["promote", id, "--yes"] | ["promote", "--yes", id] => Ok(Command::Promote {
            user: UserId::parse(id).map_err(|why| format!("USER_ID {why}"))?,
            confirmed: args.contains(&"--yes"),
        }),
        ["seed-admin", raw] => {
            let password = std::env::var("ADMIN_PASSWORD").map_err(|_| "ADMIN_PASSWORD is not set".to_owned())?;
            let password = Password::parse(&password).map_err(|why| format!("ADMIN_PASSWORD {why}"))?;
            Ok(Command::SeedAdmin(email(raw)?, password))
        }
        [] => Err("no command given".into()),
        _ => Err(format!("unknown command: {}", args.join(" "))),
    }
}

/// The error and every cause under it: the operator needs the real reason.
fn explained(err: impl Error + 'static) -> String {
    telemetry::chain(&err)
}

async fn run(command: Command) -> Result<String, String> {
    if let Command::Help = command {
        return Ok(USAGE.to_owned());
    }
    let https = https_client().map_err(explained)?;
    let aws = aws_config::defaults(behavior_version()).http_client(https).load().await;
    let secrets = SecretsClient::from_sdk_config(&aws).map_err(explained)?;
    let state = AppState::from_env_with(&secrets).await.map_err(explained)?;
    match command {
        Command::Help => Ok(USAGE.to_owned()),
        Command::Migrate => {
            let migrated = store::migrate(&state.db).await.map_err(explained)?;
            Ok(format!("indexes are in place; {} payment(s) upgraded", migrated.payments_upgraded))
        }
        Command::Promote { user, confirmed } => {
            let found = state.users.get(user).await.map_err(explained)?.ok_or(format!("no user has the id {user}"))?;
            let created = user.object_id().timestamp().try_to_rfc3339_string().unwrap_or_default();
            let account = format!("user {user}: {}, registered {created}, role {:?}", found.email, found.role);
            if !confirmed {
                return Ok(format!("{account}\nnothing changed: run again with --yes to make this account an admin"));
            }
            users::promote(&state.users, user).await.map_err(explained)?;
            Ok(format!("{account}\nis now an admin"))
        }
        Command::SeedAdmin(email, password) => {
            users::seed_admin(&state.users, &state.throttle, &email, &password).await.map_err(explained)?;
            Ok(format!("{email} is an admin"))
        }
    }
}
