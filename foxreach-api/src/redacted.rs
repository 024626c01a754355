//! URLs as they may be shown: in errors, logs and `Debug` output.

use reqwest::Url;

/// `url`'s scheme, host, port and path alone: no user name, password,
/// query or fragment, which may carry a secret.
pub(crate) fn shown(url: &Url) -> String {
    let mut shown = format!("{}:", url.scheme());
    if let Some(host) = url.host_str() {
        shown.push_str("//");
        shown.push_str(host);
        if let Some(port) = url.port() {
            shown.push_str(&format!(":{port}"));
        }
    }
    shown.push_str(url.path());
    shown
}
