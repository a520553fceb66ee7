//! Digital mediation: a coordinator (or an admin) finds a member of the market by name or
//! phone, or creates one on the spot for someone who has no email, and then orders for them
//! (`Store::act_for`, and `place_order` with `on_behalf_of`).
//!
//! A member created here is a consumer account like any other, except for its login:
//! `accounts.email` is `NOT NULL UNIQUE`, so it gets an internal address
//! `member-<random>@` [`INTERNAL_EMAIL_DOMAIN`], which is no mailbox (`.invalid` is reserved)
//! and which no page shows ([`MemberView::email`] is `None` for it). Its password hash is not a
//! hash at all, so no password opens it: nobody logs in as such a member; a mediator orders
//! for them.

use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Func},
};

use crate::{Actor, Role, Store, StoreError, entities::account, rights};

/// The domain of the internal addresses of members created without an email.
pub const INTERNAL_EMAIL_DOMAIN: &str = "members.halle.invalid";

/// Not a PHC string: `argon2` refuses to parse it, so no password matches.
const NO_PASSWORD: &str = "!no-password";

/// The most members a search shows.
const SEARCH_LIMIT: u64 = 25;

/// A member as a mediator sees it.
#[derive(Clone, Debug)]
pub struct MemberView {
    /// Account id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Phone, if known.
    pub phone: Option<String>,
    /// Email, unless the member was created without one.
    pub email: Option<String>,
}

fn member_view(a: account::Model) -> MemberView {
    let internal = a.email.ends_with(&format!("@{INTERNAL_EMAIL_DOMAIN}"));
    MemberView {
        id: a.id,
        name: a.name,
        phone: a.phone,
        email: (!internal).then_some(a.email),
    }
}

impl Store {
    /// The market a mediator works for (`None` for an admin: every market); 403 for anyone else.
    fn mediated_market(actor: &Actor) -> Result<Option<i64>, StoreError> {
        if !rights::may_mediate(actor) {
            return Err(StoreError::forbidden(
                "only a coordinator of the market can order for its members",
            ));
        }
        Ok(actor.market_id.filter(|_| actor.role != Role::Admin))
    }

    /// The members the actor may order for whose name, email or phone contains `q` (case and
    /// spaces in phone numbers ignored), by name, at most 25. A blank `q` finds nobody.
    pub async fn find_members(
        &self,
        actor: &Actor,
        q: &str,
    ) -> Result<Vec<MemberView>, StoreError> {
        let market = Self::mediated_market(actor)?;
        crate::text::check_chars("q", q)?;
        let words: String = q
            .trim()
            .chars()
            .filter(|c| !matches!(c, '%' | '_' | '\\'))
            .collect::<String>()
            .to_lowercase();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let like = format!("%{words}%");
        let mut any = Condition::any()
            .add(Expr::expr(Func::lower(Expr::col(account::Column::Name))).like(like.clone()))
            .add(Expr::expr(Func::lower(Expr::col(account::Column::Email))).like(like));
        let digits: String = words.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 2
            && words
                .chars()
                .all(|c| c.is_ascii_digit() || " +.-".contains(c))
        {
            let mut phone: Expr = Expr::col(account::Column::Phone);
            for sep in [" ", ".", "-"] {
                phone = Func::cust("REPLACE").arg(phone).arg(sep).arg("").into();
            }
            any = any.add(Expr::expr(phone).like(format!("%{digits}%")));
        }
        let mut query = account::Entity::find()
            .filter(account::Column::Role.eq(Role::Consumer.as_str()))
            .filter(any);
        if let Some(m) = market {
            query = query.filter(
                Condition::any()
                    .add(account::Column::MarketId.is_null())
                    .add(account::Column::MarketId.eq(m)),
            );
        }
        let rows = query
            .order_by_asc(account::Column::Name)
            .order_by_asc(account::Column::Id)
            .limit(SEARCH_LIMIT)
            .all(self.db())
            .await?;
        Ok(rows.into_iter().map(member_view).collect())
    }

    /// One member the actor may order for, as a mediator sees it (404 otherwise).
    pub async fn member_view(&self, actor: &Actor, id: i64) -> Result<MemberView, StoreError> {
        Ok(member_view(self.member(actor, id).await?))
    }

    /// Creates a member on the spot, without email or password (see the module's doc), in
    /// the mediator's market.
    pub async fn create_member(
        &self,
        actor: &Actor,
        name: &str,
        phone: Option<&str>,
    ) -> Result<MemberView, StoreError> {
        let market = Self::mediated_market(actor)?;
        crate::text::check_all([("name", Some(name)), ("phone", phone)])?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(StoreError::invalid(
                "invalid_name",
                "a name is required (at most 200 characters)",
            ));
        }
        let phone = phone.map(str::trim).filter(|p| !p.is_empty());
        if phone.is_some_and(|p| p.chars().count() > 40) {
            return Err(StoreError::invalid(
                "invalid_phone",
                "a phone number has at most 40 characters",
            ));
        }
        let email = format!(
            "member-{}@{INTERNAL_EMAIL_DOMAIN}",
            hex::encode(rand::random::<[u8; 12]>())
        );
        let a = self
            .insert_account_with_hash(
                &email,
                NO_PASSWORD.to_owned(),
                name.to_owned(),
                phone.map(str::to_owned),
                Role::Consumer,
                None,
                market,
            )
            .await?;
        self.member_view(actor, a.account_id).await
    }
}
