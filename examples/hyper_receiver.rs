//! The same receiver as `receiver`, on hyper alone (no axum): the same
//! secret, port, route, handler and statuses, with the tower `receiver`
//! service (`VerifySignatureLayer` around the dispatcher).
//!
//! ```text
//! cargo run --features tower,delivery --example hyper_receiver
//! ```

mod common;

use bytes::Bytes;
use common::printer::Printer;
use foxreach_webhooks::Verifier;
use foxreach_webhooks::delivery::Dispatcher;
use foxreach_webhooks::http::tower::receiver;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{Either, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::{ServiceExt, service_fn};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let verifier = Verifier::new(common::secret())?;
    // Only the webhook route is verified; anything else is a plain 404.
    let webhook = receiver(verifier, Dispatcher::new(Printer));
    let app = service_fn(move |request: Request<Incoming>| {
        let webhook = webhook.clone();
        async move {
            if request.method() == Method::POST && request.uri().path() == common::ROUTE {
                webhook.oneshot(request).await.map(|response| response.map(Either::Left))
            } else {
                let mut response = Response::new(Either::Right(Empty::<Bytes>::new()));
                *response.status_mut() = StatusCode::NOT_FOUND;
                Ok(response)
            }
        }
    });

    let listener = TcpListener::bind(("127.0.0.1", common::port()?)).await?;
    eprintln!("listening on http://{}{}", listener.local_addr()?, common::ROUTE);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            if let Err(err) =
                hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await
            {
                eprintln!("connection error: {err}");
            }
        });
    }
}
