use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use ::http::request::Parts;
use ::http::{Request, Response};
use bytes::Bytes;
use http_body::Body;
use http_body_util::Limited;
use http_body_util::combinators::Collect;
use pin_project_lite::pin_project;
use tower_service::Service;

use super::{Config, RequestBody, ResponseBody};
use crate::Event;
use crate::http::WebhookRejection;
use crate::http::intake::verify;
use crate::http::rejection::BoxError;

pin_project! {
    /// The response future of [`VerifySignature`](super::VerifySignature):
    /// collects the body, verifies it, then calls the inner service.
    pub struct ResponseFuture<B, S>
    where
        B: Body,
        B::Error: Into<BoxError>,
        S: Service<Request<RequestBody>>,
    {
        #[pin]
        state: State<B, S>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<B, S>
    where
        B: Body,
        B::Error: Into<BoxError>,
        S: Service<Request<RequestBody>>,
    {
        Collecting {
            #[pin]
            collect: Collect<Limited<B>>,
            // Taken when the body is in.
            ready: Option<(Parts, S, Config)>,
        },
        Calling {
            #[pin]
            future: S::Future,
        },
        Rejected {
            rejection: Option<WebhookRejection>,
        },
    }
}

impl<B, S> ResponseFuture<B, S>
where
    B: Body,
    B::Error: Into<BoxError>,
    S: Service<Request<RequestBody>>,
{
    pub(super) fn collecting(collect: Collect<Limited<B>>, parts: Parts, inner: S, config: Config) -> Self {
        Self { state: State::Collecting { collect, ready: Some((parts, inner, config)) } }
    }

    pub(super) fn rejected(rejection: WebhookRejection) -> Self {
        Self { state: State::Rejected { rejection: Some(rejection) } }
    }
}

impl<B, S, ResBody> Future for ResponseFuture<B, S>
where
    B: Body,
    B::Error: Into<BoxError>,
    S: Service<Request<RequestBody>, Response = Response<ResBody>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Collecting { collect, ready } => {
                    let collected = ready!(collect.poll(cx));
                    let (parts, mut inner, config) = ready.take().expect("polled after completion");
                    let collected = collected.map(|collected| collected.to_bytes());
                    match prepare(parts, collected, &config) {
                        Ok(request) => state.set(State::Calling { future: inner.call(request) }),
                        Err(rejection) => return Poll::Ready(Ok(refuse(rejection))),
                    }
                }
                StateProj::Calling { future } => {
                    return future.poll(cx).map_ok(|response| response.map(ResponseBody::inner));
                }
                StateProj::Rejected { rejection } => {
                    return Poll::Ready(Ok(refuse(rejection.take().expect("polled after completion"))));
                }
            }
        }
    }
}

/// Verifies the collected body and builds the request the inner service gets.
fn prepare(
    parts: Parts,
    collected: Result<Bytes, BoxError>,
    config: &Config,
) -> Result<Request<RequestBody>, WebhookRejection> {
    let bytes = collected.map_err(|err| WebhookRejection::from_body_error(err, Some(config.body_limit)))?;
    let verified = verify(&config.verifier, &parts.headers, bytes)?;
    let mut request = Request::from_parts(parts, RequestBody::new(verified.bytes().clone()));
    if config.parse_events {
        let event = Event::from_slice_lenient(&verified)?;
        request.extensions_mut().insert(event);
    }
    request.extensions_mut().insert(verified);
    Ok(request)
}

fn refuse<B>(rejection: WebhookRejection) -> Response<ResponseBody<B>> {
    rejection.into_http_response().map(ResponseBody::rejection)
}
