//! The IM-compatible infrastructures API (`spec/im.md`): infrastructures of
//! VMs described in RADL under `/infrastructures`, and `GET /version`, with
//! IM's content negotiation, messages and error formats. Any other path of
//! the family (IM's `/clouds/…` and `/stats` included) answers 404
//! `Not Found`, and a wrong method 405 with `Allow`, in the family's format.

mod api_doc;
mod auth;
mod call;
mod error;
mod negotiation;
mod reply;
mod routes;

use actix_web::dev::HttpServiceFactory;
use actix_web::http::Method;
use actix_web::{FromRequest, Handler, HttpRequest, Resource, Responder, guard, web};

pub(crate) use api_doc::part as api_doc;

/// Whether a path belongs to the family.
fn serves(path: &str) -> bool {
    path == "/version"
        || path == "/infrastructures"
        || path.starts_with("/infrastructures/")
        || path == "/stats"
        || path == "/clouds"
        || path.starts_with("/clouds/")
}

/// Registers the family: its routes, and its answers to unknown paths and
/// wrong methods. Handlers take the [`Infrastructures`] service from the
/// app data (`web::Data<Infrastructures>`).
///
/// [`Infrastructures`]: strato_domain::infrastructure::Infrastructures
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(family());
}

fn family() -> impl HttpServiceFactory {
    web::scope("")
        .guard(guard::fn_guard(|ctx| serves(ctx.head().uri.path())))
        .service(resource("/version").get(routes::version).done())
        .service(
            resource("/infrastructures")
                .get(routes::list)
                .post(routes::create)
                .put(routes::import)
                .done(),
        )
        .service(
            resource("/infrastructures/{id}")
                .get(routes::vms)
                .post(routes::add)
                .delete(routes::destroy)
                .done(),
        )
        .service(
            resource("/infrastructures/{id}/authorization")
                .get(routes::owners)
                .post(routes::add_owner)
                .put(routes::operate)
                .done(),
        )
        .service(
            resource("/infrastructures/{id}/{property}")
                .get(routes::property)
                .put(routes::operate)
                .done(),
        )
        .service(
            resource("/infrastructures/{id}/vms/{vm}")
                .get(routes::vm_info)
                .put(routes::alter)
                .delete(routes::remove_vms)
                .done(),
        )
        .service(
            resource("/infrastructures/{id}/vms/{vm}/{property}")
                .get(routes::vm_feature)
                .put(routes::operate_vm)
                .done(),
        )
        .service(
            resource("/infrastructures/{id}/vms/{vm}/disks/{disk}/snapshot")
                .put(routes::snapshot)
                .done(),
        )
        .default_service(web::to(routes::not_found))
}

/// A path of the family and the methods it takes.
struct Endpoint {
    resource: Resource,
    allow: Vec<String>,
}

/// A path of the family, no method yet.
fn resource(path: &str) -> Endpoint {
    Endpoint {
        resource: web::resource(path),
        allow: Vec::new(),
    }
}

impl Endpoint {
    /// Takes `method` with `handler`.
    fn on<F, Args>(mut self, method: Method, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.allow.push(method.to_string());
        self.resource = self.resource.route(web::method(method).to(handler));
        self
    }

    fn get<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on(Method::GET, handler)
    }

    fn post<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on(Method::POST, handler)
    }

    fn put<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on(Method::PUT, handler)
    }

    fn delete<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on(Method::DELETE, handler)
    }

    /// The resource, answering other methods 405 with `Allow`.
    fn done(self) -> Resource {
        let allow = self.allow.join(", ");
        self.resource
            .default_service(web::to(move |req: HttpRequest| {
                let answer = routes::wrong_method(&req, &allow);
                async move { answer }
            }))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::http::header::{ACCEPT, ALLOW};
    use actix_web::test::{self, TestRequest};
    use actix_web::{App, HttpResponse};

    use super::*;

    #[test]
    fn the_family_has_its_paths_only() {
        for path in [
            "/version",
            "/infrastructures",
            "/infrastructures/x/vms/0",
            "/stats",
            "/clouds/c/images",
        ] {
            assert!(serves(path), "{path}");
        }
        for path in [
            "/",
            "/versions",
            "/infrastructuresx",
            "/api/v1/nodes",
            "/by-name/x",
        ] {
            assert!(!serves(path), "{path}");
        }
    }

    #[actix_web::test]
    async fn unknown_paths_and_wrong_methods_answer_in_the_family_format() {
        let app = test::init_service(
            App::new()
                .configure(routes)
                .default_service(web::to(|| async { HttpResponse::ImATeapot().finish() })),
        )
        .await;
        let answer = test::call_service(
            &app,
            TestRequest::get()
                .uri("/infrastructures/a/b/c/d/e/f/g")
                .insert_header((ACCEPT, "application/json"))
                .to_request(),
        )
        .await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND);
        let body: serde_json::Value = test::read_body_json(answer).await;
        assert_eq!(
            body,
            serde_json::json!({"message": "Not Found", "code": 404})
        );

        let answer = test::call_service(
            &app,
            TestRequest::delete().uri("/infrastructures").to_request(),
        )
        .await;
        assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(answer.headers().get(ALLOW).unwrap(), "GET, POST, PUT");
        assert_eq!(test::read_body(answer).await, "Method Not Allowed");

        let answer =
            test::call_service(&app, TestRequest::get().uri("/by-name/x").to_request()).await;
        assert_eq!(answer.status(), StatusCode::IM_A_TEAPOT);
    }

    #[actix_web::test]
    async fn the_version_needs_no_credentials() {
        let app = test::init_service(App::new().configure(routes)).await;
        let answer =
            test::call_service(&app, TestRequest::get().uri("/version").to_request()).await;
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(test::read_body(answer).await, env!("CARGO_PKG_VERSION"));
        let answer = test::call_service(
            &app,
            TestRequest::get()
                .uri("/version")
                .insert_header((ACCEPT, "application/json"))
                .to_request(),
        )
        .await;
        let body: serde_json::Value = test::read_body_json(answer).await;
        assert_eq!(
            body,
            serde_json::json!({"version": env!("CARGO_PKG_VERSION")})
        );
    }
}
