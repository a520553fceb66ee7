//! A browser-like HTTP client for the pages: it keeps cookies, does not follow redirects (tests
//! look at them), and posts forms with the CSRF token of the last page it loaded.

use reqwest::{StatusCode, header::HeaderMap, redirect::Policy};

use crate::helpers::TestApp;

/// One visitor's browser, without JavaScript.
pub struct Visit {
    pub base: String,
    pub client: reqwest::Client,
    /// The CSRF token of the last page loaded.
    pub csrf: String,
}

/// A page as the visitor got it.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub html: String,
}

impl Page {
    /// Where a redirect goes.
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Every `Set-Cookie` header.
    pub fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; page: {}",
            self.html
        );
        self
    }

    #[track_caller]
    pub fn contains(&self, text: &str) -> &Self {
        assert!(
            self.html.contains(text),
            "{text:?} not in the page: {}",
            self.html
        );
        self
    }
}

/// The value of the first `name="csrf"` input of a page.
pub fn csrf_of(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")?;
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    Some(rest[..rest.find('"')?].to_owned())
}

impl TestApp {
    /// A new visitor with an empty cookie jar, asking for `accept_language` pages.
    pub fn visit(&self, accept_language: &str) -> Visit {
        self.visit_with_cookie(accept_language, "")
    }

    /// A visitor whose browser sends `cookie` (`name=value`) with every request, besides the
    /// cookies it is given: the same browser on another node of the same site.
    pub fn visit_with_cookie(&self, accept_language: &str, cookie: &str) -> Visit {
        let mut headers = HeaderMap::new();
        if !cookie.is_empty() {
            headers.insert("cookie", cookie.parse().expect("a cookie header"));
        }
        headers.insert(
            "accept-language",
            accept_language.parse().expect("a header value"),
        );
        Visit {
            base: self.base.clone(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .default_headers(headers)
                .build()
                .expect("an HTTP client"),
            csrf: String::new(),
        }
    }
}

impl Visit {
    /// Loads a page (and remembers its CSRF token).
    pub async fn get(&mut self, path: &str) -> Page {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET a page");
        let page = page(resp).await;
        if let Some(token) = csrf_of(&page.html) {
            self.csrf = token;
        }
        page
    }

    /// Posts a form with the CSRF token of the last page.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        let csrf = self.csrf.clone();
        let page = self.post_raw(path, &all).await;
        if let Some(token) = csrf_of(&page.html) {
            self.csrf = token;
        } else {
            self.csrf = csrf;
        }
        page
    }

    /// Posts exactly these fields (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .expect("POST a form");
        page(resp).await
    }

    /// Posts a `multipart/form-data` form, as a browser does for a form with a file input,
    /// with the CSRF token of the last page; `files` are (field, file name, content).
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Page {
        let boundary = "----HalleTestBoundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        let csrf = self.csrf.clone();
        for (name, value) in std::iter::once(&("csrf", csrf.as_str())).chain(fields) {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        for (name, file_name, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("POST a form with a file");
        let page = page(resp).await;
        if let Some(token) = csrf_of(&page.html) {
            self.csrf = token;
        }
        page
    }

    /// Logs in through the login form; panics unless it redirects.
    pub async fn log_in(&mut self, email: &str, password: &str) -> Page {
        self.get("/login").await.expect(200);
        let page = self
            .post("/login", &[("email", email), ("password", password)])
            .await;
        assert_eq!(page.status.as_u16(), 303, "login failed: {}", page.html);
        page
    }
}

async fn page(resp: reqwest::Response) -> Page {
    let status = resp.status();
    let headers = resp.headers().clone();
    let html = resp.text().await.unwrap_or_default();
    Page {
        status,
        headers,
        html,
    }
}
