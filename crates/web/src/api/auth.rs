//! `POST /auth/token`, consumer sign-up, and who am I.

use poem_openapi::{ApiResponse, OpenApi, payload::Json};
use store::{NewAccount, Role, Store};

use super::{
    BearerAuth, Tag,
    dto::{AccountDto, SignupRequest, TokenRequest, TokenResponse},
};
use crate::ApiError;

pub(crate) struct AuthApi {
    pub(crate) store: Store,
}

#[derive(ApiResponse)]
enum SignupResponse {
    /// The account was created; log in with `POST /auth/token`.
    #[oai(status = 201)]
    Created(Json<AccountDto>),
}

#[OpenApi(tag = "Tag::Auth")]
impl AuthApi {
    /// Exchange an email and password for a bearer token (valid 30 days).
    #[oai(path = "/auth/token", method = "post", operation_id = "create_token")]
    async fn create_token(
        &self,
        body: Json<TokenRequest>,
    ) -> Result<Json<TokenResponse>, ApiError> {
        let grant = self.store.issue_token(&body.email, &body.password).await?;
        Ok(Json(TokenResponse {
            token: grant.token,
            expires_at: grant.expires_at,
            account: (&grant.actor).into(),
        }))
    }

    /// Create a consumer account.
    #[oai(path = "/accounts", method = "post", operation_id = "create_account")]
    async fn create_account(&self, body: Json<SignupRequest>) -> Result<SignupResponse, ApiError> {
        let b = body.0;
        let actor = self
            .store
            .create_account(NewAccount {
                email: b.email.into(),
                password: b.password.into(),
                name: b.name.into(),
                phone: b.phone.map(Into::into),
                role: Role::Consumer,
                producer_id: None,
                market_id: None,
            })
            .await?;
        Ok(SignupResponse::Created(Json((&actor).into())))
    }

    /// The account behind the token.
    #[oai(path = "/me", method = "get", operation_id = "get_me")]
    async fn get_me(&self, auth: BearerAuth) -> Result<Json<AccountDto>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        Ok(Json((&actor).into()))
    }
}
