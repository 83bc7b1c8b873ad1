//! Who calls (spec `im.md` §1): the `Authorization` header, parsed by the
//! domain and checked by [`Infrastructures::authenticate`]. Handlers call
//! it before they read the request body.

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;
use strato_domain::infrastructure::authorization::AuthData;
use strato_domain::infrastructure::{Caller, InfraError, Infrastructures};

/// The caller the request's `Authorization` header names (the first such
/// header; bytes that are not UTF-8 are replaced, so such a header names no
/// credentials).
///
/// # Errors
/// [`InfraError::Auth`] when the header is missing or names no valid
/// credentials; [`InfraError::Store`] when the owners cannot be read.
pub(super) async fn caller(
    req: &HttpRequest,
    service: &Infrastructures,
) -> Result<Caller, InfraError> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let auth = AuthData::parse(header.as_deref())?;
    service.authenticate(&auth).await
}
