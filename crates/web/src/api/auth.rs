//! `POST /auth/token`, consumer sign-up, and who am I.

use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use store::{NewAccount, Role, Store};

use super::{
    BearerAuth, Tag,
    dto::{AccountDto, SignupRequest, TokenRequest, TokenResponse},
    input::NonBlank,
};
use crate::ApiError;

pub(crate) struct AuthApi {
    pub(crate) store: Store,
    pub(crate) throttle: std::sync::Arc<crate::throttle::LoginThrottle>,
}

#[derive(ApiResponse)]
enum SignupResponse {
    /// The account was created; log in with `POST /auth/token`.
    #[oai(status = 201)]
    Created(Json<AccountDto>),
}

#[derive(ApiResponse)]
enum Revoked {
    /// Done: the token(s) no longer work, on any node.
    #[oai(status = 204)]
    Done,
}

/// A password change: the current password, and the new one.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct PasswordChangeRequest {
    /// The current password.
    #[oai(validator(max_length = 1024))]
    old_password: NonBlank,
    /// The new one: at least 10 characters (422 `weak_password` otherwise, as at sign-up).
    #[oai(validator(max_length = 1024))]
    new_password: NonBlank,
}

/// A request for a password reset link.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct PasswordResetRequest {
    /// The account's email address.
    #[oai(validator(max_length = 254))]
    email: NonBlank,
}

#[derive(ApiResponse)]
enum ResetAsked {
    /// Taken: if an account uses this address (and got no link in the last few minutes), a
    /// mail with a one-time link (valid one hour) is on its way. The same answer whatever the
    /// address, so it tells nobody whether an account exists.
    #[oai(status = 202)]
    Accepted,
}

#[OpenApi(tag = "Tag::Auth")]
impl AuthApi {
    /// Exchange an email and password for a bearer token (valid 30 days).
    #[oai(path = "/auth/token", method = "post", operation_id = "create_token")]
    async fn create_token(
        &self,
        req: &poem::Request,
        body: Json<TokenRequest>,
    ) -> Result<Json<TokenResponse>, ApiError> {
        // Throttled before the password is checked: a refused attempt costs no hashing.
        self.throttle.address(self.throttle.client(req))?;
        self.throttle.account(&body.email)?;
        let grant = self.store.issue_token(&body.email, &body.password).await?;
        Ok(Json(TokenResponse {
            token: grant.token,
            expires_at: grant.expires_at,
            account: (&grant.actor).into(),
        }))
    }

    /// Create a consumer account.
    #[oai(path = "/accounts", method = "post", operation_id = "create_account")]
    async fn create_account(
        &self,
        req: &poem::Request,
        body: Json<SignupRequest>,
    ) -> Result<SignupResponse, ApiError> {
        self.throttle.address(self.throttle.client(req))?;
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
    /// Log out: the token sent stops working at once.
    #[oai(path = "/auth/token", method = "delete", operation_id = "delete_token")]
    async fn delete_token(&self, auth: BearerAuth) -> Result<Revoked, ApiError> {
        self.store.revoke_token(&auth.0.token).await?;
        Ok(Revoked::Done)
    }

    /// Log out everywhere: every token of this account stops working at once.
    #[oai(
        path = "/me/tokens",
        method = "delete",
        operation_id = "delete_my_tokens"
    )]
    async fn delete_my_tokens(&self, auth: BearerAuth) -> Result<Revoked, ApiError> {
        let actor = auth.actor(&self.store).await?;
        self.store.revoke_tokens(actor.account_id).await?;
        Ok(Revoked::Done)
    }

    /// Change one's password (the current one is asked): every token of the account, this one
    /// included, stops working; log in again with the new password.
    #[oai(
        path = "/me/password",
        method = "put",
        operation_id = "update_my_password"
    )]
    async fn update_my_password(
        &self,
        auth: BearerAuth,
        body: Json<PasswordChangeRequest>,
    ) -> Result<Revoked, ApiError> {
        let actor = auth.actor(&self.store).await?;
        let b = body.0;
        self.store
            .change_password(&actor, &b.old_password, b.new_password.into())
            .await?;
        Ok(Revoked::Done)
    }

    /// Ask for a password reset link by email ("forgotten password"): 202 whether or not the
    /// address has an account. The link opens the page `/password-reset/{token}`, where the
    /// new password is set; every session and token of the account then ends.
    #[oai(
        path = "/auth/password-reset",
        method = "post",
        operation_id = "create_password_reset"
    )]
    async fn create_password_reset(
        &self,
        req: &poem::Request,
        body: Json<PasswordResetRequest>,
    ) -> Result<ResetAsked, ApiError> {
        self.throttle.address(self.throttle.client(req))?;
        self.store.request_password_reset(&body.0.email).await?;
        Ok(ResetAsked::Accepted)
    }

    #[oai(path = "/me", method = "get", operation_id = "get_me")]
    async fn get_me(&self, auth: BearerAuth) -> Result<Json<AccountDto>, ApiError> {
        let actor = auth.actor(&self.store).await?;
        Ok(Json((&actor).into()))
    }
}
