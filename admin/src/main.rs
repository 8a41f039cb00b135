//! Operator commands, run with the same configuration as the functions
//! (APP_SECRET_ID, MONGODB_DATABASE) and the AWS credentials an operator
//! has: AWS_PROFILE, SSO, credential_process, an instance or container
//! role, or the key variables; the region from AWS_REGION or the profile.
//!
//!   payments-admin migrate              create the indexes (idempotent)
//!   payments-admin promote USER_ID      show the account; with --yes, make it an admin
//!   payments-admin seed-admin EMAIL     create or reset an admin; password from ADMIN_PASSWORD
//!   payments-admin reconcile [--since DURATION]
//!                                       bring the payment records in step with Stripe
//!
//! There is deliberately no API for becoming admin.

use std::{
    error::Error,
    process::ExitCode,
    time::{Duration, SystemTime},
};

use shared::{
    domain::{Email, Password, UserId},
    payments,
    secrets::{behavior_version, https_client, SecretsClient},
    store, telemetry, users, CoreState, StripeState,
};

const USAGE: &str =
    "usage: payments-admin migrate | promote USER_ID [--yes] | seed-admin EMAIL (password in ADMIN_PASSWORD)
       | reconcile [--since DURATION]

promote shows the account's email and creation time, and promotes it only
with --yes: an email names whoever registered it first, an id one account.

reconcile walks Stripe's PaymentIntents and refunds created in the last
DURATION (default 7d; e.g. 36h, 90m, 30d) and brings every record in step:
missing ones created, statuses moved forward only. It prints what it
changed, changes nothing the second time, and is safe while the API serves.
It needs the payment functions' settings too (PAYMENT_AMOUNT and the rest).

AWS credentials and region come from the standard chain: AWS_PROFILE (SSO and
credential_process included), an instance or container role, or the AWS_*
key variables. APP_SECRET_ID names the secret; MONGODB_DATABASE the database.";

/// What the operator asked for, read before anything touches AWS.
enum Command {
    Help,
    Migrate,
    Promote { user: UserId, confirmed: bool },
    SeedAdmin(Email, Password),
    Reconcile { since: Duration },
}

/// What `reconcile` looks back over unless told: Stripe retries a webhook
/// for three days, so a week holds every one it gave up on recently.
const RECONCILE_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

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
        ["reconcile"] => Ok(Command::Reconcile { since: RECONCILE_WINDOW }),
        ["reconcile", "--since", raw] => Ok(Command::Reconcile { since: duration(raw)? }),
        [] => Err("no command given".into()),
        _ => Err(format!("unknown command: {}", args.join(" "))),
    }
}

/// `90s`, `30m`, `36h`, `7d`: a positive whole number and its unit.
fn duration(raw: &str) -> Result<Duration, String> {
    let refused = || format!("DURATION {raw:?} is not a number followed by s, m, h or d (e.g. 36h)");
    let unit = match raw.chars().last() {
        Some('s') => 1,
        Some('m') => 60,
        Some('h') => 3600,
        Some('d') => 86_400,
        _ => return Err(refused()),
    };
    let count: u64 = raw[..raw.len() - 1].parse().map_err(|_| refused())?;
    match count.checked_mul(unit) {
        Some(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(refused()),
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
    let app = || async { CoreState::from_env_with(&secrets).await.map_err(explained) };
    match command {
        Command::Help => Ok(USAGE.to_owned()),
        Command::Reconcile { since } => reconcile(&secrets, since).await,
        Command::Migrate => {
            let state = app().await?;
            let migrated = store::migrate(&state.db).await.map_err(explained)?;
            Ok(format!("indexes are in place; {} payment(s) upgraded", migrated.payments_upgraded))
        }
        Command::Promote { user, confirmed } => {
            let state = app().await?;
            let found = state.users.get(user).await.map_err(explained)?.ok_or(format!("no user has the id {user}"))?;
            let created = store::rfc3339(user.record().created_at());
            let account = format!("user {user}: {}, registered {created}, role {:?}", found.email, found.role);
            if !confirmed {
                return Ok(format!("{account}\nnothing changed: run again with --yes to make this account an admin"));
            }
            users::promote(&state.users, user).await.map_err(explained)?;
            Ok(format!("{account}\nis now an admin"))
        }
        Command::SeedAdmin(email, password) => {
            let state = app().await?;
            users::seed_admin(&state.users, &state.throttle, &email, &password).await.map_err(explained)?;
            Ok(format!("{email} is an admin"))
        }
    }
}

async fn reconcile(secrets: &SecretsClient, window: Duration) -> Result<String, String> {
    let state = StripeState::from_env_with(secrets).await.map_err(explained)?;
    let since = SystemTime::now().checked_sub(window).unwrap_or(SystemTime::UNIX_EPOCH);
    let changes = payments::reconcile(state.ledger(), since).await.map_err(explained)?;
    let mut report: Vec<String> = changes.iter().map(ToString::to_string).collect();
    report.push(format!("{} record(s) changed", changes.len()));
    Ok(report.join("\n"))
}
