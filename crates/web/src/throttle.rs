//! Throttling of password checks: `POST /auth/token` and `POST /accounts` each cost an argon2id
//! hash (19 MiB, tens of ms of a core). Per client address and per account (email), with
//! `governor`'s keyed GCRA limiters (one timestamp per key, no background task); past the
//! quota, a 429 `too_many_attempts` with `Retry-After`, before any hashing. The store's hashing
//! gate bounds what gets through (many addresses at once): see `store::gate`.

use std::{
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

use crate::ApiError;

const fn nonzero(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    }
}

/// Per client address: 60 attempts at once, then one a second. Generous for a household or
/// an office behind one address; a flood from one address is refused after its first minute's
/// worth.
const PER_ADDRESS: Quota = Quota::per_minute(nonzero(60));
/// Per account: 10 attempts at once, then one every 30 s (120 an hour): enough for someone
/// who mistypes, far too few to guess a password of 10 characters.
const PER_ACCOUNT: Quota = Quota::per_hour(nonzero(120)).allow_burst(nonzero(10));
/// Past this many remembered keys, the keys back to a fresh state are forgotten.
const KEYS_MAX: usize = 100_000;

/// How the server reads its clients' addresses, and how long it gives a request.
#[derive(Clone, Copy, Debug)]
pub struct WebOptions {
    /// Take the client's address from the last `X-Forwarded-For` entry (the one the reverse
    /// proxy in front of Halle appended) instead of the socket's peer. Off by default: a
    /// client talking to Halle directly could send any `X-Forwarded-For`.
    pub trust_proxy: bool,
    /// Render every shop page in full, never from the offers kept rendered per cycle version
    /// (`pages::shop::kept`): for the tests that compare both, or to rule the cache out.
    pub shop_in_full: bool,
    /// The directory map's tile server, as Leaflet takes it
    /// (`https://tile.example.org/{z}/{x}/{y}.png`); no map (the list alone) when `None`.
    pub map_tiles: Option<&'static str>,
    /// The longest a request may take (an upload, two minutes at least): past it, it is
    /// answered 503 (`unavailable`, a page in the visitor's words for pages) and dropped, so
    /// that a stuck database does not hold connections. A basket already in the order writer's
    /// hands is waited for instead (see `store::deadline`).
    pub request_timeout: std::time::Duration,
}

impl WebOptions {
    /// The default [`WebOptions::request_timeout`]: 10 s, far above what any page takes.
    pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
}

impl Default for WebOptions {
    fn default() -> Self {
        Self {
            trust_proxy: false,
            shop_in_full: false,
            map_tiles: None,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

/// The login and sign-up throttle.
pub(crate) struct LoginThrottle {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
    trust_proxy: bool,
}

impl LoginThrottle {
    pub(crate) fn new(options: WebOptions) -> Self {
        Self {
            per_address: RateLimiter::keyed(PER_ADDRESS),
            per_account: RateLimiter::keyed(PER_ACCOUNT),
            trust_proxy: options.trust_proxy,
        }
    }

    /// True when `X-Forwarded-*` headers are believed (`--trust-proxy`).
    pub(crate) fn trusts_proxy(&self) -> bool {
        self.trust_proxy
    }

    /// The client's address: the socket's peer, or the proxy's word for it when trusted. An
    /// IPv6 client counts by its /64, the block one subscriber usually has.
    pub(crate) fn client(&self, req: &poem::Request) -> Option<IpAddr> {
        let forwarded = self
            .trust_proxy
            .then(|| req.headers().get_all("x-forwarded-for").iter().next_back())
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        let ip = forwarded.or_else(|| req.remote_addr().as_socket_addr().map(|a| a.ip()))?;
        Some(match ip {
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        })
    }

    /// Counts an attempt from `client` (none when it cannot be told: a Unix socket).
    pub(crate) fn address(&self, client: Option<IpAddr>) -> Result<(), ApiError> {
        match client {
            Some(ip) => check(&self.per_address, &ip),
            None => Ok(()),
        }
    }

    /// Counts an attempt on the account `email` (compared as the store compares emails).
    pub(crate) fn account(&self, email: &str) -> Result<(), ApiError> {
        check(&self.per_account, &email.trim().to_lowercase())
    }
}

fn check<K: std::hash::Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), ApiError> {
    if limiter.len() > KEYS_MAX {
        limiter.retain_recent();
    }
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(limiter.clock().now());
        // Whole seconds, rounded up: a client retrying at once would only be refused again.
        ApiError::too_many_attempts(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    })
}

#[cfg(test)]
mod tests {
    use super::{LoginThrottle, WebOptions};
    use crate::ApiError;

    #[test]
    fn an_account_is_throttled_after_its_burst_whatever_the_case_of_its_email() {
        let t = LoginThrottle::new(WebOptions::default());
        for _ in 0..10 {
            assert!(t.account("lea@example.org").is_ok());
        }
        match t.account(" LEA@example.org") {
            Err(ApiError::TooManyRequests(_, secs)) => assert!((1..=30).contains(&secs)),
            _ => panic!("the 11th attempt should be throttled"),
        }
        assert!(t.account("other@example.org").is_ok());
    }
}
