use super::{bearer_token, ApiError, Request};
use crate::{
    auth::{self, Caller},
    state::AppState,
};

/// The caller behind a request's `Authorization: Bearer` token; any failure
/// is a 401.
pub async fn authenticate(state: &AppState, req: &Request) -> Result<Caller, ApiError> {
    Ok(auth::authenticate(&state.users, &state.tokens, bearer_token(req)?).await?)
}
