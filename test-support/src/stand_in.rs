//! A stand-in of FoxReach's webhook management API on 127.0.0.1, as the
//! contract document describes it: `X-API-Key`, the `{"data": ...}`
//! envelope, lists with `meta`, the secret in the creation's answer only,
//! 401 for a wrong key, 422 for an unknown event type, 404 for an unknown
//! id, and 429 with `Retry-After` once a test's budget of requests is spent.
//! A `PATCH` must be a JSON object of `url`, `events` and `isActive` alone,
//! each of its type (422 otherwise: a field the API would ignore is a bug
//! in the client), and a `DELETE` carries no body. Webhooks are created a
//! second apart, so that the most recent one can be told.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The key the stand-in accepts.
pub const API_KEY: &str = "otr_standin_key_5d1e8c_never_printed";

/// The eleven event types FoxReach offers (its contract document), as
/// `GET /webhooks/event-types` lists them.
pub const EVENT_TYPES: [&str; 11] = [
    "email.sent",
    "email.failed",
    "email.bounced",
    "email.opened",
    "reply.received",
    "reply.categorized",
    "campaign.started",
    "campaign.paused",
    "campaign.completed",
    "lead.created",
    "lead.updated",
];

/// The API's path under the server's address.
const PREFIX: &str = "/api/v1";

/// 429s the stand-in answers once `after` requests have been served: the
/// next `times` requests get 429 with this `Retry-After` (none if `None`).
#[derive(Clone, Copy, Debug)]
pub struct RateLimit {
    pub after: u32,
    pub times: u32,
    pub retry_after: Option<&'static str>,
}

/// A webhook as stored, with its secret.
#[derive(Debug, Clone)]
pub struct Stored {
    pub json: Value,
    pub secret: String,
}

#[derive(Debug)]
pub struct State {
    pub webhooks: Vec<Stored>,
    pub offered: Vec<String>,
    pub page_size: usize,
    pub rate_limit: Option<RateLimit>,
    /// Every request: method, path and query.
    pub requests: Vec<String>,
    /// The bodies of the requests, as sent.
    pub bodies: Vec<String>,
    /// Requests with this method (`"PATCH"`…) are answered with this
    /// status, as a failing FoxReach would, and change nothing.
    pub failing: Option<(&'static str, StatusCode)>,
    /// A `PATCH` answers 200 but leaves `isActive` as it was, as a FoxReach
    /// ignoring the field would.
    pub patch_ignores_active: bool,
    next_id: u32,
    limited: u32,
}

/// The running stand-in; stopped when dropped.
pub struct StandIn {
    pub base_url: String,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StandIn {
    /// A stand-in offering FoxReach's eleven event types, 2 webhooks a page.
    pub fn start() -> Self {
        Self::with(|_| {})
    }

    /// A stand-in whose state `setup` adjusts first.
    pub fn with(setup: impl FnOnce(&mut State)) -> Self {
        let mut state = State {
            webhooks: Vec::new(),
            offered: EVENT_TYPES.iter().map(|&name| name.to_owned()).collect(),
            page_size: 2,
            rate_limit: None,
            requests: Vec::new(),
            bodies: Vec::new(),
            failing: None,
            patch_ignores_active: false,
            next_id: 1,
            limited: 0,
        };
        setup(&mut state);
        let state = Arc::new(Mutex::new(state));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds 127.0.0.1");
        listener.set_nonblocking(true).expect("non-blocking");
        let base_url = format!("http://{}{PREFIX}", listener.local_addr().expect("an address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shared = state.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                let app = Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                    let state = shared.clone();
                    async move { answer(&state, &method, &uri, &headers, &body) }
                });
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("the stand-in serves");
            });
        });
        Self { base_url, state, stop: Some(stop), thread: Some(thread) }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("not poisoned")
    }

    /// Adds a webhook as if created earlier; returns its id.
    pub fn seed(&self, url: &str, events: &[&str], failures: u32, last_delivered: Option<&str>) -> String {
        let mut state = self.state();
        let (id, secret, n) = state.new_id();
        let mut json = webhook_json(&id, url, &json!(events), true, n);
        json["consecutiveFailures"] = json!(failures);
        json["lastDeliveredAt"] = json!(last_delivered);
        state.webhooks.push(Stored { json, secret });
        id
    }

    /// The secret of webhook `id`, as the stand-in keeps it.
    pub fn secret_of(&self, id: &str) -> Option<String> {
        self.state().webhooks.iter().find(|stored| stored.json["id"] == id).map(|stored| stored.secret.clone())
    }

    pub fn ids(&self) -> Vec<String> {
        self.state().webhooks.iter().filter_map(|stored| stored.json["id"].as_str().map(str::to_owned)).collect()
    }

    pub fn request_count(&self) -> usize {
        self.state().requests.len()
    }

    /// The PATCH and DELETE requests received, in order.
    pub fn changes(&self) -> Vec<String> {
        let changing = |request: &&String| request.starts_with("PATCH ") || request.starts_with("DELETE ");
        self.state().requests.iter().filter(changing).cloned().collect()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl State {
    /// A new webhook's id, secret and number.
    fn new_id(&mut self) -> (String, String, u32) {
        let n = self.next_id;
        self.next_id += 1;
        let mut bytes = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).expect("random bytes");
        (format!("cwh_{n:04}"), hex::encode(bytes), n)
    }

    /// A 422 unless `body` is what `PATCH /webhooks/{id}` takes: an object
    /// of `url` (a string), `events` (strings FoxReach offers) and
    /// `isActive` (a boolean), nothing else.
    fn refuse_update(&self, body: &Value) -> Option<Response> {
        let Some(fields) = body.as_object() else {
            return Some(detail(StatusCode::UNPROCESSABLE_ENTITY, "the body must be a JSON object"));
        };
        for (name, value) in fields {
            let fits = match name.as_str() {
                "url" => value.is_string(),
                "events" => value.as_array().is_some_and(|events| events.iter().all(Value::is_string)),
                "isActive" => value.is_boolean(),
                _ => false,
            };
            if !fits {
                let refused = json!([{"loc": ["body", name], "msg": "Not a field of the right type", "input": value}]);
                return Some(
                    (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(json!({"detail": refused}))).into_response(),
                );
            }
        }
        fields.get("events").and_then(|events| self.refuse_unknown(events))
    }

    /// The events in `body` FoxReach does not offer, as a 422, if any.
    fn refuse_unknown(&self, events: &Value) -> Option<Response> {
        let refused: Vec<Value> = events
            .as_array()?
            .iter()
            .enumerate()
            .filter(|(_, name)| !name.as_str().is_some_and(|name| self.offered.iter().any(|offered| offered == name)))
            .map(|(i, name)| json!({"loc": ["body", "events", i], "msg": "Unknown event type", "input": name}))
            .collect();
        (!refused.is_empty())
            .then(|| (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(json!({"detail": refused}))).into_response())
    }
}

/// Webhook number `n`, created `n - 1` seconds after 2025-01-15T10:00:00.
fn webhook_json(id: &str, url: &str, events: &Value, active: bool, n: u32) -> Value {
    let created = format!("2025-01-15T10:{:02}:{:02}.123456", (n - 1) / 60 % 60, (n - 1) % 60);
    json!({
        "id": id, "url": url, "isActive": active, "events": events,
        "lastDeliveredAt": null, "consecutiveFailures": 0,
        "createdAt": created, "updatedAt": created,
        "teamId": "team_1",
    })
}

fn data(status: StatusCode, data: Value) -> Response {
    (status, axum::Json(json!({"data": data}))).into_response()
}

fn detail(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(json!({"detail": text}))).into_response()
}

fn answer(state: &Mutex<State>, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Response {
    let mut state = state.lock().expect("not poisoned");
    state.requests.push(format!("{method} {uri}"));
    state.bodies.push(String::from_utf8_lossy(body).into_owned());
    if let Some(limit) = state.rate_limit
        && state.requests.len() as u32 > limit.after
        && state.limited < limit.times
    {
        state.limited += 1;
        let mut response = detail(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded: 100 requests per minute");
        if let Some(seconds) = limit.retry_after {
            response.headers_mut().insert("retry-after", seconds.parse().expect("a header value"));
        }
        return response;
    }
    let key = headers.get("x-api-key").and_then(|key| key.to_str().ok()).unwrap_or_default();
    if key != API_KEY {
        // Echoing the key, as some APIs do: the client must not repeat it.
        return detail(StatusCode::UNAUTHORIZED, &format!("Invalid API key {key}"));
    }
    if let Some((failing, status)) = state.failing
        && method == failing
    {
        return detail(status, "Internal server error");
    }
    let path = uri.path().strip_prefix(PREFIX).unwrap_or_default();
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match (method.as_str(), path.trim_end_matches('/')) {
        ("GET", "/webhooks/events") => {
            let offered = state.offered.iter().map(|name| json!({"type": name, "description": "…"})).collect();
            data(StatusCode::OK, Value::Array(offered))
        }
        ("GET", "/webhooks") => {
            let page: usize = uri
                .query()
                .and_then(|query| query.split('&').find_map(|pair| pair.strip_prefix("page=")))
                .and_then(|page| page.parse().ok())
                .unwrap_or(1);
            let size = state.page_size;
            let items: Vec<Value> = state
                .webhooks
                .iter()
                .skip((page.max(1) - 1) * size)
                .take(size)
                .map(|stored| stored.json.clone())
                .collect();
            let total = state.webhooks.len();
            let meta = json!({"page": page, "pageSize": size, "total": total, "totalPages": total.div_ceil(size)});
            (StatusCode::OK, axum::Json(json!({"data": items, "meta": meta}))).into_response()
        }
        ("POST", "/webhooks") => {
            let (Some(url), Some(events)) = (json["url"].as_str(), json.get("events")) else {
                return detail(StatusCode::UNPROCESSABLE_ENTITY, "url and events are required");
            };
            if let Some(refused) = state.refuse_unknown(events) {
                return refused;
            }
            let (id, secret, n) = state.new_id();
            let stored = webhook_json(&id, url, events, json["isActive"].as_bool().unwrap_or(true), n);
            let mut created = stored.clone();
            created["secret"] = json!(secret);
            state.webhooks.push(Stored { json: stored, secret });
            data(StatusCode::CREATED, created)
        }
        (method, path) if path.starts_with("/webhooks/") => {
            let id = &path["/webhooks/".len()..];
            let Some(index) = state.webhooks.iter().position(|stored| stored.json["id"] == id) else {
                return detail(StatusCode::NOT_FOUND, "Webhook not found");
            };
            match method {
                "PATCH" => {
                    if let Some(refused) = state.refuse_update(&json) {
                        return refused;
                    }
                    let fields: &[&str] =
                        if state.patch_ignores_active { &["url", "events"] } else { &["url", "events", "isActive"] };
                    let stored = &mut state.webhooks[index].json;
                    for field in fields {
                        if let Some(value) = json.get(*field) {
                            stored[*field] = value.clone();
                        }
                    }
                    stored["updatedAt"] = json!("2025-01-16T09:00:00");
                    data(StatusCode::OK, stored.clone())
                }
                "DELETE" if !body.is_empty() => detail(StatusCode::BAD_REQUEST, "DELETE takes no body"),
                "DELETE" => {
                    state.webhooks.remove(index);
                    StatusCode::NO_CONTENT.into_response()
                }
                _ => detail(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed"),
            }
        }
        _ => detail(StatusCode::NOT_FOUND, "Not found"),
    }
}
