use super::{bearer_token, ApiError, Request};
use crate::{
    auth::{self, Caller},
    state::CoreState,
};

/// The caller behind a request's `Authorization: Bearer` token; any failure
/// is a 401.
pub async fn authenticate(state: &CoreState, req: &Request) -> Result<Caller, ApiError> {
    Ok(auth::authenticate(&state.users, &state.tokens, bearer_token(req)?).await?)
}
