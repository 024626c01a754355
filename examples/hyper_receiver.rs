//! The same receiver as `receiver`, on hyper alone (no axum): the same
//! secret (`FOXREACH_WEBHOOK_SECRET_FILE`, else `FOXREACH_WEBHOOK_SECRET`), port,
//! route, inbox (`FOXREACH_INBOX`), handler and statuses,
//! with the tower `receiver` service (`VerifySignatureLayer` around the
//! inbox, or around the dispatcher with `FOXREACH_INBOX=memory`). Other methods on
//! the route get `405` with `Allow: POST`, other paths `404`, and a request
//! not answered within `REQUEST_TIMEOUT_MS` (default 5000) `408`. It is
//! served by `http::server::Server` (the same timeouts and limits, from the
//! same variables, as `receiver`). On Ctrl-C or SIGTERM it stops accepting,
//! lets the requests in flight finish, and waits up to 10 seconds for the
//! handlers still running.
//!
//! ```text
//! cargo run --features tower,delivery,server --example hyper_receiver
//! ```

mod common;

use bytes::Bytes;
use common::inbox::Opened;
use common::printer::Printer;
use foxreach_webhooks::Verifier;
use foxreach_webhooks::delivery::{Dispatcher, Receive};
use foxreach_webhooks::http::tower::receiver;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{Either, Empty};
use hyper::body::Incoming;
use tower::{ServiceExt, service_fn};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let verifier = common::verifier()?;
    match common::inbox::open().await? {
        Opened::Sqlite(inbox, workers) => {
            serve(verifier, inbox).await?;
            return workers.stop().await;
        }
        Opened::Redis(inbox, workers) => {
            serve(verifier, inbox).await?;
            return workers.stop().await;
        }
        Opened::Memory => {}
    }
    let dispatcher = Dispatcher::new(Printer::from_env());
    serve(verifier, dispatcher.clone()).await?;
    dispatcher.shutdown(common::SHUTDOWN_GRACE).await?;
    Ok(())
}

/// Serves the webhook route until Ctrl-C or SIGTERM, then lets the
/// connections in flight finish.
async fn serve(verifier: Verifier, deliveries: impl Receive) -> Result<(), Box<dyn std::error::Error>> {
    // Only the webhook route is verified; anything else is refused plainly.
    let webhook = receiver(verifier, deliveries);
    let timeout = common::request_timeout()?;
    let app = service_fn(move |request: Request<Incoming>| {
        let webhook = webhook.clone();
        async move {
            match (request.uri().path() == common::ROUTE, request.method() == Method::POST) {
                // A body trickled past the request timeout gets 408 (a handler
                // already running goes on: it is detached from the request).
                (true, true) => match tokio::time::timeout(timeout, webhook.oneshot(request)).await {
                    Ok(answered) => answered.map(|response| response.map(Either::Left)),
                    Err(_) => Ok(refusal(StatusCode::REQUEST_TIMEOUT)),
                },
                (true, false) => Ok(refusal(StatusCode::METHOD_NOT_ALLOWED)),
                (false, _) => Ok(refusal(StatusCode::NOT_FOUND)),
            }
        }
    });

    // hyper, with the header and idle timeouts, the connection limit and
    // the shutdown deadline that a bare accept loop leaves out.
    let listener = common::listen(common::ROUTE).await?;
    common::stopped(common::server()?.serve(listener, app, common::shutdown_signal()).await);
    Ok(())
}

/// An empty answer with `status`; `405` says which method the route takes.
fn refusal<B>(status: StatusCode) -> Response<Either<B, Empty<Bytes>>> {
    let mut response = Response::new(Either::Right(Empty::new()));
    *response.status_mut() = status;
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    response
}
