//! Talking to the target: raw requests (a mutated body is not a typed value), bounded in time and
//! in bytes read, paced, counted, and recorded for reproducers.

use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The placeholder that stands for the API key in everything the harness prints or writes.
pub const KEY_PLACEHOLDER: &str = "$PHALA_API_KEY";

/// A credential the suite was given: it is sent, and never shown (`Debug` included).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The credential itself, to send.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

impl std::ops::Deref for Secret {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// The variable a reproducer names for each credential, by how it was given.
pub const AUTH_VAR: &str = "CONTRACT_AUTH";
pub const OTHER_AUTH_VAR: &str = "CONTRACT_OTHER_AUTH";
pub const KEY_VAR: &str = "PHALA_API_KEY";
pub const OTHER_KEY_VAR: &str = "CONTRACT_OTHER_API_KEY";

/// The variable a reproducer names for the value of header `name` given with `-H`.
pub fn header_var(name: &str, other: bool) -> String {
    let up: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("CONTRACT_{}HEADER_{up}", if other { "OTHER_" } else { "" })
}
/// How reports write the second user's key.
pub const OTHER_KEY_PLACEHOLDER: &str = "$CONTRACT_OTHER_API_KEY";

/// Where the API key goes, as the document's security scheme says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Credential {
    /// Nowhere: the operations need none.
    #[default]
    None,
    /// In this header.
    Header(String),
    /// In this query parameter.
    Query(String),
    /// `Authorization: Bearer KEY`.
    Bearer,
    /// `Authorization: Basic base64(KEY)`, KEY being `user:password` (`--auth`).
    Basic,
}

impl Credential {
    /// From the model's `header:NAME`, `query:NAME` or `bearer`.
    pub fn parse(s: &str) -> Credential {
        match s.split_once(':') {
            Some(("header", h)) => Credential::Header(h.to_string()),
            Some(("query", q)) => Credential::Query(q.to_string()),
            _ if s == "bearer" => Credential::Bearer,
            _ if s == "basic" => Credential::Basic,
            _ => Credential::None,
        }
    }

    /// The header and value that carry `key`, if it goes in a header.
    fn header(&self, key: &str) -> Option<(String, String)> {
        match self {
            Credential::Header(h) => Some((h.clone(), key.to_string())),
            Credential::Bearer => Some(("Authorization".into(), format!("Bearer {key}"))),
            Credential::Basic => Some((
                "Authorization".into(),
                format!("Basic {}", openapi_runtime::base64(key.as_bytes())),
            )),
            _ => None,
        }
    }
}

/// Which credentials a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// The configured API key.
    Key,
    /// No key at all.
    Missing,
    /// A key that cannot be valid.
    Wrong,
    /// The credential's place, empty.
    Empty,
    /// The configured key less its last character: a near miss.
    Truncated,
    /// The configured key with one character more: a near miss.
    Extended,
    /// The configured key with the case of its letters swapped: a near miss.
    CaseChanged,
    /// The second user's key (`TargetOptions::other_api_key`).
    Other,
}

impl Auth {
    /// The near misses of a key: wrong, yet each close to the real one.
    pub const NEAR_MISSES: [Auth; 4] = [
        Auth::Empty,
        Auth::Truncated,
        Auth::Extended,
        Auth::CaseChanged,
    ];

    /// How reports name it.
    pub fn label(self) -> &'static str {
        match self {
            Auth::Key => "(key)",
            Auth::Missing => "(no key)",
            Auth::Wrong => "(wrong key)",
            Auth::Empty => "(empty key)",
            Auth::Truncated => "(key, truncated)",
            Auth::Extended => "(key, one character more)",
            Auth::CaseChanged => "(key, case changed)",
            Auth::Other => "(the other user's key)",
        }
    }

    /// The credential sent for the configured `key`; `None` when none goes, or when this near
    /// miss of `key` would be the key itself (a key without letters has no case to change).
    pub fn credential(self, key: Option<&str>) -> Option<String> {
        match (self, key) {
            (Auth::Key, Some(k)) => Some(k.to_string()),
            (Auth::Wrong, _) => Some(WRONG_KEY.to_string()),
            (Auth::Empty, _) => Some(String::new()),
            (Auth::Truncated, Some(k)) if k.chars().count() > 1 => {
                let mut t = k.to_string();
                t.pop();
                Some(t)
            }
            (Auth::Extended, Some(k)) => Some(format!("{k}x")),
            (Auth::CaseChanged, Some(k)) => {
                let swapped = swap_case(k);
                (swapped != k).then_some(swapped)
            }
            _ => None,
        }
    }

    /// How a reproducer writes it: the variable `var` (the run's credential) or `other_var`
    /// (the second user's), near misses as shell expansions of it, so that no part of the
    /// credential is printed.
    fn shown(self, var: &str, other_var: &str) -> Option<String> {
        match self {
            Auth::Key => Some(format!("${var}")),
            Auth::Wrong => Some(WRONG_KEY.into()),
            Auth::Missing => None,
            Auth::Empty => Some(String::new()),
            Auth::Truncated => Some(format!("${{{var}%?}}")),
            Auth::Extended => Some(format!("${{{var}}}x")),
            Auth::CaseChanged => Some(format!("${{{var}~~}}")),
            Auth::Other => Some(format!("${other_var}")),
        }
    }
}

/// Another JSON spelling of one top-level value of a body: the same value to any JSON reader,
/// written otherwise on the wire (RFC 8259 allows both). A server must take the two alike.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Spelling {
    /// The top-level key whose value is respelled.
    pub key: String,
    pub form: Form,
}

/// How a value is respelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// An integer with an exponent: `600` as `6e2`, `7` as `7e0`.
    Exponent,
    /// A string with every character written as a `\uXXXX` escape: `"ab"` as `"\u0061\u0062"`.
    EscapedUnicode,
}

impl Form {
    /// `v` in this spelling, when it has one.
    pub fn write(self, v: &Value) -> Option<String> {
        match (self, v) {
            (Form::Exponent, Value::Number(n)) => {
                // An integer, or a double that holds one exactly (`6e2` read back is `600.0`).
                let n = n.as_i64().or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0)
                        .map(|f| f as i64)
                })?;
                let (mut m, mut k) = (n.unsigned_abs(), 0u32);
                while m != 0 && m % 10 == 0 {
                    m /= 10;
                    k += 1;
                }
                Some(format!("{}{m}e{k}", if n < 0 { "-" } else { "" }))
            }
            (Form::EscapedUnicode, Value::String(s)) => {
                let mut out = String::with_capacity(s.len() * 6 + 2);
                out.push('"');
                for unit in s.encode_utf16() {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
                out.push('"');
                Some(out)
            }
            _ => None,
        }
    }
}

/// `body` as JSON text: serde_json's writing, or, with `spelling`, the same but for its key's
/// value, written in that spelling (as written by serde_json when the key is absent or its value
/// has no such spelling).
pub fn write_body(body: &Value, spelling: Option<&Spelling>) -> String {
    let plain = || serde_json::to_string(body).expect("JSON values serialise");
    let Some(sp) = spelling else {
        return plain();
    };
    let Some(raw) = body.get(&sp.key).and_then(|v| sp.form.write(v)) else {
        return plain();
    };
    // The value's place is marked by a string no body carries, then the mark replaced.
    const MARK: &str = "\u{1}contract-tests-spelling\u{1}";
    let mut marked = body.clone();
    marked[sp.key.as_str()] = Value::String(MARK.into());
    let mark = serde_json::to_string(MARK).expect("a string serialises");
    serde_json::to_string(&marked)
        .expect("JSON values serialise")
        .replacen(&mark, &raw, 1)
}

/// A request as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub method: &'static str,
    pub path: String,
    /// Headers other than the key and content type.
    pub headers: Vec<(String, String)>,
    pub auth: Auth,
    /// The exact body text, when there is one.
    pub body: Option<String>,
    /// How reports show it: where the key went, which fields are secret.
    pub shown: std::sync::Arc<Shown>,
}

impl Sent {
    /// The body as JSON, when it was JSON.
    pub fn json_body(&self) -> Option<Value> {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
    }
}

impl Exchange {
    /// The JSON body of a success (2xx), if there was one.
    pub fn json_success(&self) -> Option<Value> {
        self.outcome
            .as_ref()
            .ok()
            .filter(|a| (200..300).contains(&a.status))
            .and_then(Answer::json)
    }
}

/// An answer as received (body bounded).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub retry_after: Option<String>,
    /// The first bytes of the body, at most the read limit.
    pub body: Vec<u8>,
    /// Whether the body went on past the read limit (the rest was not read).
    pub truncated: bool,
    pub elapsed: Duration,
    /// Every header of the answer, names in lower case, in the order they came (those that are
    /// not text are left out).
    pub headers: Vec<(String, String)>,
}

impl Answer {
    /// The first value of a header, by name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is complete JSON.
    pub fn json(&self) -> Option<Value> {
        if self.truncated {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }

    /// At most `n` bytes of the body as text, marked when cut.
    pub fn excerpt(&self, n: usize) -> String {
        let cut = self.body.len() > n || self.truncated;
        let text = String::from_utf8_lossy(&self.body[..self.body.len().min(n)]).into_owned();
        if cut {
            format!("{text}... [cut]")
        } else {
            text
        }
    }
}

/// Why no answer came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `timeout`, `connect`, `reset` or `other`.
    pub kind: &'static str,
    pub message: String,
}

/// One request and what came of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    pub sent: Sent,
    pub outcome: Result<Answer, Failure>,
}

impl Exchange {
    pub fn status(&self) -> Option<u16> {
        self.outcome.as_ref().ok().map(|a| a.status)
    }
}

/// The budget ran out: `--max-requests` or the run's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted;

/// Settings of the connection to the target.
#[derive(Debug, Clone)]
pub struct TargetOptions {
    pub base_url: String,
    pub api_key: Option<Secret>,
    /// A second user's key, for requests that must not reach the first user's resources.
    pub other_api_key: Option<Secret>,
    /// `user:password` for HTTP basic (`--auth`), and the second user's.
    pub basic: Option<Secret>,
    pub other_basic: Option<Secret>,
    /// Headers that go with every request of the run's user (`-H`), and of the second user's:
    /// credentials the document's security schemes do not describe (a session header).
    pub headers: Vec<(String, Secret)>,
    pub other_headers: Vec<(String, Secret)>,
    /// Where the key goes, and which body fields are secret.
    pub shown: std::sync::Arc<Shown>,
    /// Bound of one request, answer included.
    pub timeout: Duration,
    /// Requests per second at most.
    pub rate: Option<f64>,
    /// Requests at most.
    pub max_requests: Option<u64>,
    /// When the whole run must end.
    pub deadline: Instant,
    /// Bytes of an answer read at most.
    pub read_limit: usize,
    /// Accept invalid TLS certificates.
    pub insecure: bool,
    /// Longest `Retry-After` honoured; a longer one is reported as it is.
    pub max_retry_after: Duration,
}

/// The target server.
pub struct Target {
    opts: TargetOptions,
    client: reqwest::Client,
    /// A client that keeps no connection: the one retry after a kept-alive connection was closed
    /// under a request goes out on a fresh connection, as curl does.
    fresh: reqwest::Client,
    sent: AtomicU64,
    next_slot: Mutex<Option<Instant>>,
    /// The last address parsed, and what it parsed to: most requests go where the one before
    /// went, and parsing an address is a good part of a request's cost on loopback.
    last_url: Mutex<Option<(String, reqwest::Url)>>,
    /// Set, no request goes out any more: the run has what it was for.
    halted: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Target {
    pub fn new(opts: TargetOptions) -> Result<Self, String> {
        let builder = || {
            reqwest::Client::builder()
                .timeout(opts.timeout)
                .connect_timeout(opts.timeout)
                .danger_accept_invalid_certs(opts.insecure)
                // A redirect is an answer to judge, not a request to make.
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("phala-contract-tests/", env!("CARGO_PKG_VERSION")))
        };
        let client = builder()
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let fresh = builder()
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Target {
            opts,
            client,
            fresh,
            sent: AtomicU64::new(0),
            next_slot: Mutex::new(None),
            last_url: Mutex::new(None),
            halted: Default::default(),
        })
    }

    pub fn options(&self) -> &TargetOptions {
        &self.opts
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Whether the run's budget allows another request.
    pub fn has_budget(&self) -> bool {
        Instant::now() < self.opts.deadline
            && self.opts.max_requests.is_none_or(|m| self.requests() < m)
    }

    /// Counts a request about to be sent, if the budget allows it. Checking and counting are
    /// one step: requests sent at once (negative probes) could otherwise each see the last
    /// slot free while they wait for their pace, and all go.
    /// A switch that, once set, makes every later request fail as out of budget (a run that stops
    /// at its first failure).
    pub fn halt_switch(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        self.halted.clone()
    }

    fn take_budget(&self) -> bool {
        if Instant::now() >= self.opts.deadline || self.halted.load(Ordering::Relaxed) {
            return false;
        }
        match self.opts.max_requests {
            None => {
                self.sent.fetch_add(1, Ordering::Relaxed);
                true
            }
            Some(m) => self
                .sent
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    (n < m).then_some(n + 1)
                })
                .is_ok(),
        }
    }

    async fn pace(&self) {
        let Some(rate) = self.opts.rate.filter(|r| *r > 0.0) else {
            return;
        };
        let gap = Duration::from_secs_f64(1.0 / rate);
        let wait = {
            let mut slot = self.next_slot.lock().expect("pacer lock");
            let now = Instant::now();
            let at = slot.map_or(now, |s| s.max(now));
            *slot = Some(at + gap);
            at.saturating_duration_since(now)
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends one request; honours `Retry-After` on 429/503 up to a bound.
    pub async fn send(
        &self,
        method: &'static str,
        path: &str,
        headers: &[(String, String)],
        body: Option<&Value>,
        auth: Auth,
    ) -> Result<Exchange, Exhausted> {
        let text = body.map(|b| write_body(b, None));
        self.send_text(method, path, headers, text, auth).await
    }

    /// [`Client::send`] of a body already written out (in a [`Spelling`] of its own).
    pub async fn send_text(
        &self,
        method: &'static str,
        path: &str,
        headers: &[(String, String)],
        body_text: Option<String>,
        auth: Auth,
    ) -> Result<Exchange, Exhausted> {
        let sent = Sent {
            method,
            path: path.to_string(),
            headers: headers.to_vec(),
            auth,
            body: body_text,
            shown: self.opts.shown.clone(),
        };
        let mut attempt = 0;
        loop {
            if !self.take_budget() {
                return Err(Exhausted);
            }
            self.pace().await;
            let outcome = self.once(&sent).await;
            if let Ok(a) = &outcome {
                if matches!(a.status, 429 | 503) && attempt < 3 {
                    if let Some(wait) = a
                        .retry_after
                        .as_deref()
                        .and_then(|r| r.trim().parse::<u64>().ok())
                    {
                        let wait = Duration::from_secs(wait);
                        let left = self.opts.deadline.saturating_duration_since(Instant::now());
                        if wait <= self.opts.max_retry_after && wait < left {
                            attempt += 1;
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                    }
                }
            }
            return Ok(Exchange { sent, outcome });
        }
    }

    /// Sends a request again as it was sent (to see whether what it showed repeats).
    pub async fn resend(&self, sent: &Sent) -> Result<Exchange, Exhausted> {
        // The body's text as it was, in whatever spelling it was written.
        self.send_text(
            sent.method,
            &sent.path,
            &sent.headers,
            sent.body.clone(),
            sent.auth,
        )
        .await
    }

    /// One request. A kept-alive connection the target closed under it (no answer at all, as
    /// uvicorn does after a 500 without `Connection: close`) is not the request's fault: it is
    /// sent once more, on a fresh connection, before anything counts.
    async fn once(&self, sent: &Sent) -> Result<Answer, Failure> {
        match self.attempt(&self.client, sent).await {
            Err((f, false)) if f.kind == "reset" && self.has_budget() => {
                self.sent.fetch_add(1, Ordering::Relaxed);
                self.attempt(&self.fresh, sent).await.map_err(|(f, _)| f)
            }
            other => other.map_err(|(f, _)| f),
        }
    }

    /// One request on `client`; a failure says whether a status line had come.
    async fn attempt(
        &self,
        client: &reqwest::Client,
        sent: &Sent,
    ) -> Result<Answer, (Failure, bool)> {
        let mut url = format!("{}{}", self.opts.base_url.trim_end_matches('/'), sent.path);
        let method = reqwest::Method::from_bytes(sent.method.as_bytes()).expect("known method");
        let placement = &self.opts.shown.credential;
        // The credential the placement takes: `--auth`'s pair for HTTP basic (else the key),
        // the key for the others.
        let (own, other) = match placement {
            Credential::Basic => (
                self.opts.basic.as_ref().or(self.opts.api_key.as_ref()),
                self.opts
                    .other_basic
                    .as_ref()
                    .or(self.opts.other_api_key.as_ref()),
            ),
            _ => (self.opts.api_key.as_ref(), self.opts.other_api_key.as_ref()),
        };
        let key = match sent.auth {
            Auth::Other => other.map(|s| s.expose().to_string()),
            auth => auth.credential(own.map(Secret::expose)),
        };
        let key = key.as_deref();
        if let (Some(k), Credential::Query(q)) = (key, &self.opts.shown.credential) {
            let sep = if url.contains('?') { '&' } else { '?' };
            url = format!("{url}{sep}{q}={}", openapi_runtime::encode_component(k));
        }
        let parsed = {
            let mut last = self.last_url.lock().unwrap_or_else(|e| e.into_inner());
            match &*last {
                Some((text, parsed)) if *text == url => Ok(parsed.clone()),
                _ => reqwest::Url::parse(&url).inspect(|p| *last = Some((url.clone(), p.clone()))),
            }
        };
        // An address that does not parse goes to reqwest as it is, which reports it.
        let mut rb = match parsed {
            Ok(u) => client.request(method, u),
            Err(_) => client.request(method, url),
        };
        if let Some((h, v)) = key.and_then(|k| self.opts.shown.credential.header(k)) {
            rb = rb.header(h, v);
        }
        // What the run's user (or the second one) always carries: `-H` headers, and `--auth`
        // where the document names no basic scheme. A probe of credentials carries none of it.
        let (extra, basic) = match sent.auth {
            Auth::Key => (&self.opts.headers, self.opts.basic.as_ref()),
            Auth::Other => (&self.opts.other_headers, self.opts.other_basic.as_ref()),
            _ => (&Vec::new() as &Vec<(String, Secret)>, None),
        };
        for (h, v) in extra {
            rb = rb.header(h.as_str(), v.expose());
        }
        if let (Some(pair), false) = (basic, matches!(placement, Credential::Basic)) {
            if !extra
                .iter()
                .any(|(h, _)| h.eq_ignore_ascii_case("authorization"))
            {
                let v = format!(
                    "Basic {}",
                    openapi_runtime::base64(pair.expose().as_bytes())
                );
                rb = rb.header("Authorization", v);
            }
        }
        for (k, v) in &sent.headers {
            rb = rb.header(k, v);
        }
        if let Some(b) = &sent.body {
            // JSON, unless the request says otherwise (the recipe of a 415).
            if !sent
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                rb = rb.header("content-type", "application/json");
            }
            rb = rb.body(b.clone());
        }
        let started = Instant::now();
        let limit = self.opts.read_limit;
        let work = async {
            let mut resp = rb.send().await.map_err(|e| (failure(e), false))?;
            let header = |n: &str| {
                resp.headers()
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let content_type = header("content-type");
            let retry_after = header("retry-after");
            let headers: Vec<(String, String)> = resp
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
                .collect();
            let status = resp.status().as_u16();
            let mut body = Vec::new();
            let mut truncated = false;
            while let Some(chunk) = resp.chunk().await.map_err(|e| (failure(e), true))? {
                let room = limit - body.len();
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    truncated = true;
                    break; // the rest is never read: memory stays flat
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Answer {
                status,
                content_type,
                retry_after,
                body,
                truncated,
                elapsed: started.elapsed(),
                headers,
            })
        };
        match tokio::time::timeout(self.opts.timeout, work).await {
            Ok(r) => r,
            Err(_) => Err((
                Failure {
                    kind: "timeout",
                    message: format!("no complete answer within {:?}", self.opts.timeout),
                },
                true,
            )),
        }
    }
}

fn failure(e: reqwest::Error) -> Failure {
    let text = format!("{e}");
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if detail.contains("reset")
        || detail.contains("closed")
        || detail.contains("incomplete")
        || e.is_body()
    {
        "reset"
    } else {
        "other"
    };
    let message = if detail.is_empty() {
        text
    } else {
        format!("{text}: {detail}")
    };
    Failure { kind, message }
}

/// The key sent where a wrong one is wanted.
pub const WRONG_KEY: &str = "contract-tests-wrong-key";

/// How a report shows requests: where the key went, the variables reproducers name for each
/// credential, and which fields are secret.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shown {
    pub credential: Credential,
    pub secret_fields: Vec<String>,
    /// The variable that stands for the run's credential (`PHALA_API_KEY`, or `CONTRACT_AUTH`
    /// for HTTP basic given with `--auth`), and for the second user's; the defaults when empty.
    pub var: String,
    pub other_var: String,
    /// The `-H` headers of the run's user and of the second one, by name (their values are
    /// written as variables, `header_var`).
    pub headers: Vec<String>,
    pub other_headers: Vec<String>,
    /// Whether `--auth` goes as `Authorization: Basic` where the document names no such scheme.
    pub basic_extra: bool,
    pub other_basic_extra: bool,
}

impl Shown {
    fn vars(&self) -> (&str, &str) {
        (
            if self.var.is_empty() {
                KEY_VAR
            } else {
                &self.var
            },
            if self.other_var.is_empty() {
                OTHER_KEY_VAR
            } else {
                &self.other_var
            },
        )
    }
}

/// Replaces `secret` wherever it occurs in `text`.
pub fn redact_text(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s, "<redacted>");
    }
    out
}

/// A curl command that repeats `sent` against `base_url`; the key shows as `$PHALA_API_KEY` (near
/// misses of it as shell expansions of it), and the body as sent: what the suite drew is test
/// data, secret-marked fields included, and a reproducer must reproduce.
pub fn curl(base_url: &str, sent: &Sent) -> String {
    let shown = &sent.shown;
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut parts = vec![format!("curl -sS -X {}", sent.method)];
    let (var, other_var) = shown.vars();
    let key = sent.auth.shown(var, other_var);
    let mut url = format!("{}{}", base_url.trim_end_matches('/'), sent.path);
    if let (Some(k), Credential::Query(q)) = (&key, &shown.credential) {
        let sep = if url.contains('?') { '&' } else { '?' };
        url = format!("{url}{sep}{q}={k}");
    }
    parts.push(quote(&url));
    match (&key, &shown.credential) {
        // curl writes the basic header itself from the pair.
        (Some(k), Credential::Basic) if sent.auth != Auth::Wrong => {
            parts.push(format!("-u \"{k}\""))
        }
        (Some(k), Credential::Basic) => parts.push(format!("-u {}", quote(k))),
        (Some(k), c) => {
            if let Some((h, v)) = c.header(k) {
                if sent.auth != Auth::Wrong {
                    parts.push(format!("-H \"{h}: {v}\""));
                } else {
                    parts.push(format!("-H {}", quote(&format!("{h}: {v}"))));
                }
            }
        }
        _ => {}
    }
    let extra = match sent.auth {
        Auth::Key => Some((&shown.headers, shown.basic_extra, false)),
        Auth::Other => Some((&shown.other_headers, shown.other_basic_extra, true)),
        _ => None,
    };
    if let Some((headers, basic, other)) = extra {
        for h in headers {
            parts.push(format!("-H \"{h}: ${}\"", header_var(h, other)));
        }
        if basic && !matches!(shown.credential, Credential::Basic) {
            let v = if other { OTHER_AUTH_VAR } else { AUTH_VAR };
            parts.push(format!("-u \"${v}\""));
        }
    }
    for (k, v) in &sent.headers {
        parts.push(format!("-H {}", quote(&format!("{k}: {v}"))));
    }
    if let Some(b) = &sent.body {
        parts.push("-H 'Content-Type: application/json'".into());
        parts.push(format!("--data-raw {}", quote(b)));
    }
    parts.join(" ")
}

/// `text` with every ASCII letter in the other case: a key, an id or a property name as a server
/// that folds case would take it for the real one.
pub(crate) fn swap_case(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// `path` with `query` as its query string (each name and value percent-encoded).
pub(crate) fn with_query(path: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return path.to_string();
    }
    let q: Vec<String> = query
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                openapi_runtime::encode_component(k),
                openapi_runtime::encode_component(v)
            )
        })
        .collect();
    format!("{path}?{}", q.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_spelling_is_the_same_value_written_otherwise() {
        let body = json!({"vcpu": 600, "name": "né", "n": -7, "z": 0, "other": 600});
        let sp = |key: &str, form| Spelling {
            key: key.into(),
            form,
        };
        let cases = [
            (sp("vcpu", Form::Exponent), r#""vcpu":6e2"#),
            (sp("n", Form::Exponent), r#""n":-7e0"#),
            (sp("z", Form::Exponent), r#""z":0e0"#),
            (sp("name", Form::EscapedUnicode), r#""name":"\u006e\u00e9""#),
        ];
        for (spelling, expect) in cases {
            let text = write_body(&body, Some(&spelling));
            assert!(text.contains(expect), "{text}");
            // The same value to a JSON reader, and only that key written otherwise.
            let read: Value = serde_json::from_str(&text).unwrap();
            for (k, v) in body.as_object().unwrap() {
                match (v, &read[k.as_str()]) {
                    (Value::Number(a), Value::Number(b)) => {
                        assert!(crate::meta::same_number(a, b), "{k}: {text}")
                    }
                    (a, b) => assert_eq!(a, b, "{k}: {text}"),
                }
            }
            assert!(text.contains(r#""other":600"#), "{text}");
        }
        // No such spelling of the value: written as serde_json writes it.
        let text = write_body(&body, Some(&sp("name", Form::Exponent)));
        assert_eq!(text, serde_json::to_string(&body).unwrap());
    }

    #[test]
    fn curl_hides_the_key_and_shows_the_body_as_sent() {
        let sent = Sent {
            method: "PATCH",
            path: "/things/c1".into(),
            headers: vec![("X-Prepare-Only".into(), "true".into())],
            auth: Auth::Key,
            body: Some(r#"{"password":"dead\u0000beef","name":"it's"}"#.into()),
            shown: std::sync::Arc::new(Shown {
                credential: Credential::Header("X-API-Key".into()),
                secret_fields: vec!["password".into()],
                ..Shown::default()
            }),
        };
        let c = curl("http://127.0.0.1:1/", &sent);
        assert_eq!(
            c,
            "curl -sS -X PATCH 'http://127.0.0.1:1/things/c1' -H \"X-API-Key: $PHALA_API_KEY\" \
             -H 'X-Prepare-Only: true' -H 'Content-Type: application/json' \
             --data-raw '{\"password\":\"dead\\u0000beef\",\"name\":\"it'\\''s\"}'"
        );
        // Near misses of the key are written as expansions of it: no part of it is printed.
        let near = Sent {
            auth: Auth::Truncated,
            body: None,
            ..sent
        };
        assert!(curl("http://h", &near).contains("\"X-API-Key: ${PHALA_API_KEY%?}\""));
        assert_eq!(
            Auth::Truncated.credential(Some("abc")).as_deref(),
            Some("ab")
        );
        assert_eq!(
            Auth::Extended.credential(Some("abc")).as_deref(),
            Some("abcx")
        );
        assert_eq!(
            Auth::CaseChanged.credential(Some("aBc1")).as_deref(),
            Some("AbC1")
        );
        assert_eq!(Auth::CaseChanged.credential(Some("123")), None);
        assert_eq!(Auth::Truncated.credential(Some("a")), None);
    }
}
