//! Operator commands, run with the same configuration as the functions
//! (APP_SECRET_ID, MONGODB_DATABASE and AWS credentials):
//!
//!   payments-admin migrate              create the indexes (idempotent)
//!   payments-admin promote EMAIL        make an existing user an admin
//!   payments-admin seed-admin EMAIL     create or reset an admin; password from ADMIN_PASSWORD
//!
//! There is deliberately no API for becoming admin.

use std::{error::Error, process::ExitCode};

use shared::{
    domain::{Email, Password},
    store, telemetry, users, AppState,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match run(&args).await {
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

/// The error and every cause under it: the operator needs the real reason.
fn explained(err: impl Error + 'static) -> String {
    telemetry::chain(&err)
}

async fn run(args: &[&str]) -> Result<String, String> {
    let usage =
        || "usage: payments-admin migrate | promote EMAIL | seed-admin EMAIL (password in ADMIN_PASSWORD)".to_owned();
    let state = AppState::from_env().await.map_err(explained)?;
    match args {
        ["migrate"] => {
            let migrated = store::migrate(&state.db).await.map_err(explained)?;
            Ok(format!("indexes are in place; {} payment(s) upgraded", migrated.payments_upgraded))
        }
        ["promote", email] => {
            let email = Email::parse(email).map_err(|why| format!("email {why}"))?;
            match users::promote(&state.users, &email).await {
                Ok(_) => Ok(format!("{email} is now an admin")),
                Err(users::UsersError::NotFound) => Err(format!("no user has the email {email}")),
                Err(err) => Err(explained(err)),
            }
        }
        ["seed-admin", email] => {
            let email = Email::parse(email).map_err(|why| format!("email {why}"))?;
            let raw = std::env::var("ADMIN_PASSWORD").map_err(|_| "ADMIN_PASSWORD is not set".to_owned())?;
            let password = Password::parse(&raw).map_err(|why| format!("ADMIN_PASSWORD {why}"))?;
            users::seed_admin(&state.users, &email, &password).await.map_err(explained)?;
            Ok(format!("{email} is an admin"))
        }
        _ => Err(usage()),
    }
}
