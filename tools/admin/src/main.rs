//! Operator commands, run with the same configuration as the functions
//! (APP_SECRET_ID, MONGODB_DATABASE and AWS credentials):
//!
//!   payments-admin migrate              create the indexes (idempotent)
//!   payments-admin promote EMAIL        make an existing user an admin
//!   payments-admin seed-admin EMAIL     create or reset an admin; password from ADMIN_PASSWORD
//!
//! There is deliberately no API for becoming admin.

use std::process::ExitCode;

use shared::{
    db,
    domain::{Email, Password, UserName},
    users::{NewUser, Role},
    AppState,
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

async fn run(args: &[&str]) -> Result<String, String> {
    let usage =
        || "usage: payments-admin migrate | promote EMAIL | seed-admin EMAIL (password in ADMIN_PASSWORD)".to_owned();
    let state = AppState::from_env().await.map_err(|err| err.to_string())?;
    let users = state.users();
    match args {
        ["migrate"] => {
            db::ensure_indexes(&state.db).await.map_err(|err| format!("creating indexes failed: {err}"))?;
            Ok("indexes are in place".into())
        }
        ["promote", email] => {
            let email = Email::parse(email).map_err(|why| format!("email {why}"))?;
            match users.set_role(&email, Role::Admin).await.map_err(|err| err.to_string())? {
                Some(_) => Ok(format!("{} is now an admin", email.as_str())),
                None => Err(format!("no user has the email {}", email.as_str())),
            }
        }
        ["seed-admin", email] => {
            let email = Email::parse(email).map_err(|why| format!("email {why}"))?;
            let raw = std::env::var("ADMIN_PASSWORD").map_err(|_| "ADMIN_PASSWORD is not set".to_owned())?;
            let password = Password::parse(&raw).map_err(|why| format!("ADMIN_PASSWORD {why}"))?;
            if users.by_email(&email).await.map_err(|err| err.to_string())?.is_none() {
                let user_name = UserName::parse("Admin").map_err(|why| why.to_string())?;
                users
                    .create(NewUser { user_name, email: email.clone(), password: password.clone() })
                    .await
                    .map_err(|err| err.to_string())?;
            }
            users.set_password(&email, &password).await.map_err(|err| err.to_string())?;
            users.set_role(&email, Role::Admin).await.map_err(|err| err.to_string())?;
            Ok(format!("{} is an admin", email.as_str()))
        }
        _ => Err(usage()),
    }
}
