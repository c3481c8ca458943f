//! The embedded reference server: an in-memory implementation of the Update CVM contract as the
//! endpoint's documentation describes it, shaped like the FastAPI service (422 bodies included).
//!
//! It is the default target of the suite, and it takes fault switches, one per realistic server
//! bug, so the suite can prove it catches what it claims to catch.

use crate::faults::{Generated, Kind};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

mod handlers;
mod validate;

use handlers::*;
use validate::*;

/// A deliberate bug, for proving that the suite notices it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// `shutdown_timeout` accepts 9 (the lower bound is off by one).
    BoundOffByOne,
    /// `shutdown_timeout: null` is rejected, although null means "no timeout".
    NullRejected,
    /// Fields left out of a PATCH are cleared (`public_logs`, `base_image`) or reset (`vcpu`).
    AbsentCleared,
    /// `memory` is accepted but never applied.
    PresentIgnored,
    /// Updates answer 200 instead of 202.
    OkInsteadOfAccepted,
    /// 422 answers carry no `detail` list.
    ValidationWithoutDetail,
    /// `shutdown_timeout: 1200` (the top edge) crashes with a 500.
    ServerErrorOnEdge,
    /// Requests without a valid API key are served anyway.
    AuthNotEnforced,
    /// The 202 body lacks `correlation_id`.
    AcceptedWithoutCorrelationId,
    /// `encrypted_env` is echoed back in the 202 answer.
    EchoesSecret,
    /// A PATCH to an id that does not exist answers 202 instead of 404.
    UnknownIdAccepted,
    /// A body with a key the schema does not declare crashes with a 500 (instead of being ignored).
    ExtraKeyServerError,
}

impl Fault {
    /// Every fault, with its command-line name.
    pub const ALL: [(Fault, &'static str); 12] = [
        (Fault::BoundOffByOne, "bound-off-by-one"),
        (Fault::NullRejected, "null-rejected"),
        (Fault::AbsentCleared, "absent-cleared"),
        (Fault::PresentIgnored, "present-ignored"),
        (Fault::OkInsteadOfAccepted, "ok-instead-of-accepted"),
        (Fault::ValidationWithoutDetail, "validation-without-detail"),
        (Fault::ServerErrorOnEdge, "server-error-on-edge"),
        (Fault::AuthNotEnforced, "auth-not-enforced"),
        (
            Fault::AcceptedWithoutCorrelationId,
            "accepted-without-correlation-id",
        ),
        (Fault::EchoesSecret, "echoes-secret"),
        (Fault::UnknownIdAccepted, "unknown-id-accepted"),
        (Fault::ExtraKeyServerError, "extra-key-server-error"),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map(|(_, n)| *n)
            .unwrap_or("?")
    }

    pub fn from_name(name: &str) -> Option<Fault> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }
}

/// The keys an update body may carry (`UpdateCvmRequest`'s properties).
const KNOWN_KEYS: [&str; 15] = [
    "docker_compose_file",
    "pre_launch_script",
    "allowed_envs",
    "public_logs",
    "public_sysinfo",
    "public_tcbinfo",
    "encrypted_env",
    "user_config",
    "gpus",
    "vcpu",
    "memory",
    "disk_size",
    "image",
    "shutdown_timeout",
    "allow_force_stop",
];

/// The id of the ordinary CVM the server starts with.
pub const CVM_ID: &str = "cvm-1";
/// The id of the CVM whose KMS is on chain (updates to its compose take two phases).
pub const ONCHAIN_CVM_ID: &str = "cvm-onchain";
/// The API key the server accepts unless told otherwise.
pub const DEFAULT_API_KEY: &str = "reference-key";

/// How the server applies updates, beyond its faults. The real API applies an update in the
/// background: it shows in GET later, and a PATCH during it gets the documented 409.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timing {
    /// How long an accepted update takes to show in GET (zero: at once).
    pub apply_delay: std::time::Duration,
    /// Answer 409 to a PATCH while an earlier update of the same CVM is still being applied
    /// (without it, the later update is applied on top, its delay counted anew).
    pub busy_conflict: bool,
    /// How long every answer is held back: a target this far away over the network.
    pub latency: std::time::Duration,
    /// Answer a 500, once, to the update with this number (1 for the first valid one): a passing
    /// glitch, which a replay does not reproduce.
    pub blip_at: Option<u64>,
}

#[derive(Debug, Clone)]
struct Cvm {
    /// Every stored field by its PATCH name (disk in MB), plus the read-only ones.
    fields: Map<String, Value>,
    onchain: bool,
    /// An accepted update still being applied: the fields it will leave, and when.
    pending: Option<(std::time::Instant, Map<String, Value>)>,
}

impl Cvm {
    /// Applies a pending update whose time has come.
    fn settle(&mut self) {
        if let Some((due, _)) = &self.pending {
            if *due <= std::time::Instant::now() {
                let (_, fields) = self.pending.take().expect("pending");
                self.fields = fields;
            }
        }
    }
}

struct Inner {
    api_key: String,
    faults: BTreeSet<Fault>,
    /// Faults generated from the document ([`crate::faults`]) switched on.
    generated: Vec<Generated>,
    /// Requests a generated fault changed the answer or the state of.
    fired: u64,
    /// The last update accepted, for [`Kind::ServerErrorOnRepeat`].
    last_update: Option<Value>,
    /// The top-level fields the last accepted update set to null ([`Kind::ServerErrorAfterNull`]).
    nulled: BTreeSet<String>,
    timing: Timing,
    cvms: BTreeMap<String, Cvm>,
    next_correlation: u64,
    /// Valid updates received so far.
    updates: u64,
    /// Operations that have answered once ([`Kind::SlowAnswer`] holds back only the first).
    answered: BTreeSet<&'static str>,
}

type Shared = Arc<Mutex<Inner>>;

fn initial_cvm(id: u64, name: &str, onchain: bool) -> Cvm {
    let mut f = Map::new();
    f.insert("id".into(), json!(id));
    f.insert("name".into(), json!(name));
    f.insert("status".into(), json!("running"));
    f.insert("app_id".into(), json!(format!("app_{name}")));
    f.insert("vcpu".into(), json!(2));
    f.insert("memory".into(), json!(4096));
    f.insert("disk_size".into(), json!(40 * 1024));
    f.insert("image".into(), json!("dstack-0.5.0"));
    f.insert("public_logs".into(), json!(true));
    f.insert("public_sysinfo".into(), json!(true));
    f.insert("public_tcbinfo".into(), json!(false));
    f.insert("docker_compose_file".into(), json!("services: {}\n"));
    f.insert("shutdown_timeout".into(), json!(60));
    f.insert("allow_force_stop".into(), json!(false));
    Cvm {
        fields: f,
        onchain,
        pending: None,
    }
}

/// Builds the router for a server with these faults and this API key.
pub fn router(api_key: &str, faults: &[Fault]) -> Router {
    router_with(api_key, faults, Timing::default())
}

/// Builds the router for a server with these faults, this API key and this timing.
pub fn router_with(api_key: &str, faults: &[Fault], timing: Timing) -> Router {
    router_of(state(api_key, faults, &[], timing), timing)
}

fn state(api_key: &str, faults: &[Fault], generated: &[Generated], timing: Timing) -> Shared {
    let mut cvms = BTreeMap::new();
    cvms.insert(CVM_ID.to_string(), initial_cvm(1, "web", false));
    cvms.insert(ONCHAIN_CVM_ID.to_string(), initial_cvm(2, "chain", true));
    let state: Shared = Arc::new(Mutex::new(Inner {
        api_key: api_key.to_string(),
        faults: faults.iter().copied().collect(),
        generated: generated.to_vec(),
        fired: 0,
        last_update: None,
        nulled: BTreeSet::new(),
        timing,
        cvms,
        next_correlation: 1,
        updates: 0,
        answered: BTreeSet::new(),
    }));
    state
}

fn router_of(state: Shared, timing: Timing) -> Router {
    let latency = timing.latency;
    let router = Router::new()
        .route("/api/v1/cvms/{cvm_id}", axum::routing::any(by_method))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            slow_answers,
        ))
        .with_state(state);
    if latency.is_zero() {
        return router;
    }
    router.layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| async move {
            tokio::time::sleep(latency).await;
            next.run(req).await
        },
    ))
}

/// An operation's first answer held back, when a generated fault says so ([`Kind::SlowAnswer`]).
async fn slow_answers(
    State(s): State<Shared>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (get, update) = op_names();
    let op = match *req.method() {
        axum::http::Method::GET => Some(get),
        axum::http::Method::PATCH => Some(update),
        _ => None,
    };
    let slow = op.is_some_and(|op| {
        let mut inner = s.lock().expect("state lock");
        inner.answered.insert(op) && inner.fire(Kind::SlowAnswer, op)
    });
    if slow {
        tokio::time::sleep(crate::faults::SLOW_ANSWER).await;
    }
    next.run(req).await
}

/// The CVM's path, by method: the documented ones to their handlers, any other to
/// [`other_method`] (routed by hand, so that a fault can leave out the `Allow` axum would add).
async fn by_method(
    state: State<Shared>,
    method: axum::http::Method,
    id: Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match method {
        axum::http::Method::GET => get_cvm(state, id, headers).await,
        axum::http::Method::PATCH => patch_cvm(state, id, headers, body).await,
        _ => other_method(state, id, headers).await,
    }
}

/// A method the document does not give for the CVM's path: a 405 with `Allow` naming the
/// documented ones, unless a generated fault serves it as a GET ([`Kind::MethodServed`]) or
/// leaves `Allow` out ([`Kind::AllowMissing`]).
async fn other_method(
    State(s): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (get, update) = op_names();
    let first = get.min(update);
    let (served, bare) = {
        let mut inner = s.lock().expect("state lock");
        (
            inner.fire(Kind::MethodServed, first),
            inner.fire(Kind::AllowMissing, first),
        )
    };
    if served {
        return get_cvm(State(s), Path(id), headers).await;
    }
    let mut r = detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    if !bare {
        r.headers_mut().insert(
            axum::http::header::ALLOW,
            axum::http::HeaderValue::from_static("GET, PATCH"),
        );
    }
    r
}

/// A server listening on 127.0.0.1 on a thread of its own; it stops when dropped.
pub struct Listening {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves `app` on `port` of 127.0.0.1 (0: a free one), on a thread named `name`.
pub fn listen(port: u16, app: Router, name: &str) -> std::io::Result<Listening> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
        })?;
    Ok(Listening {
        url,
        stop: Some(tx),
        thread: Some(thread),
    })
}

/// A running reference server on 127.0.0.1; it stops when dropped.
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    state: Shared,
    _listening: Listening,
}

impl Running {
    /// Requests whose answer or effect a generated fault changed so far: zero means the suite
    /// never sent what fires it.
    pub fn fired(&self) -> u64 {
        self.state.lock().map_or(0, |i| i.fired)
    }
}

/// Starts the reference server on a free port of 127.0.0.1, on a thread of its own.
pub fn spawn(api_key: &str, faults: &[Fault]) -> std::io::Result<Running> {
    spawn_with(0, api_key, faults, Timing::default())
}

/// Starts the reference server on `port` of 127.0.0.1 (0: a free one), on a thread of its own.
pub fn spawn_with(
    port: u16,
    api_key: &str,
    faults: &[Fault],
    timing: Timing,
) -> std::io::Result<Running> {
    spawn_mutant(port, api_key, faults, &[], timing)
}

/// Starts the reference server with generated faults switched on as well: a mutant.
pub fn spawn_mutant(
    port: u16,
    api_key: &str,
    faults: &[Fault],
    generated: &[Generated],
    timing: Timing,
) -> std::io::Result<Running> {
    let shared = state(api_key, faults, generated, timing);
    let listening = listen(port, router_of(shared.clone(), timing), "reference-server")?;
    Ok(Running {
        url: listening.url.clone(),
        state: shared,
        _listening: listening,
    })
}

fn detail(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "detail": text }))).into_response()
}

impl Inner {
    /// The generated faults of `kind` switched on for operation `op`.
    fn switched(&self, kind: Kind, op: &str) -> Vec<Generated> {
        self.generated
            .iter()
            .filter(|g| g.kind == kind && g.on(op))
            .cloned()
            .collect()
    }

    /// Whether a generated fault of `kind` is on for `op`; counts it as fired when it is.
    fn fire(&mut self, kind: Kind, op: &str) -> bool {
        let on = self.generated.iter().any(|g| g.kind == kind && g.on(op));
        if on {
            self.fired += 1;
        }
        on
    }
}

fn authorized(inner: &mut Inner, headers: &HeaderMap, op: &str) -> bool {
    let given = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    if inner.faults.contains(&Fault::AuthNotEnforced) || given == Some(inner.api_key.as_str()) {
        return true;
    }
    let near = given.is_some_and(|g| !g.is_empty() && inner.api_key.starts_with(g));
    (near && inner.fire(Kind::NearMissKeyAccepted, op)) || inner.fire(Kind::AuthIgnored, op)
}

/// A success answer, as the generated faults of `op` shape it: a status the operation does not
/// document, a required property dropped, the wrong content type.
fn success(inner: &mut Inner, op: &str, status: StatusCode, mut body: Value) -> Response {
    let mut status = status;
    for g in inner.switched(Kind::UndocumentedSuccessStatus, op) {
        if let Some(s) = g.arg.as_ref().and_then(Value::as_u64) {
            status = StatusCode::from_u16(s as u16).unwrap_or(status);
            inner.fired += 1;
        }
    }
    for g in inner.switched(Kind::ResponseFieldDropped, op) {
        if let (Some(Value::String(k)), Some(m)) = (&g.arg, body.as_object_mut()) {
            if m.remove(k).is_some() {
                inner.fired += 1;
            }
        }
    }
    let text = body.to_string();
    if inner.fire(Kind::WrongContentType, op) {
        return (
            status,
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            text,
        )
            .into_response();
    }
    (status, Json(body)).into_response()
}

/// The operation names the generated faults use.
fn op_names() -> (&'static str, &'static str) {
    (
        crate::spec::get_op().name.as_str(),
        crate::spec::update_op().name.as_str(),
    )
}

/// The validation errors, as the generated faults of the update change them
/// ([`Generated::adjust_errors`]).
fn mutate_errors(inner: &mut Inner, op: &str, body: &Value, errs: &mut Vec<Value>) {
    let schema = crate::meta::schema();
    let changed = inner
        .generated
        .iter()
        .filter(|g| g.on(op))
        .filter(|g| g.adjust_errors(schema, body, errs))
        .count();
    inner.fired += changed as u64;
}

/// Whether a generated fault crashes this valid update ([`Generated::crashes`]).
fn crashes(inner: &mut Inner, op: &str, body: &Value) -> bool {
    let nulled: Vec<String> = std::mem::take(&mut inner.nulled).into_iter().collect();
    let repeat = inner.last_update.as_ref() == Some(body);
    let hit = inner
        .generated
        .iter()
        .filter(|g| g.on(op))
        .any(|g| g.crashes(crate::meta::schema(), Some(body), &nulled, repeat));
    if hit {
        inner.fired += 1;
    }
    hit
}
