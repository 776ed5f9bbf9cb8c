//! Request-body extraction with the API's error policy: a JSON body must be declared as JSON, fit
//! the size limit and match the schema exactly; every failure names the offending field.

use doi178_shared::ProblemCode;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The pure JSON checks, shared with the fuzz targets.
#[path = "json_guard.rs"]
mod json_guard;

use json_guard::{
    missing_field_name, parse_checked, unknown_field_name, JsonFault, MAX_JSON_DEPTH,
};

/// Largest JSON body accepted (a visit with 200 answers is about 40 KB).
pub const MAX_JSON_BYTES: usize = 1024 * 1024;

/// Like `web::Json`, with problem bodies that name the field at fault.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut payload = payload.take();
        Box::pin(async move {
            let mime = content_type
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            if mime != "application/json" && !mime.ends_with("+json") {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    ProblemCode::UnsupportedMediaType,
                    "send the body as JSON with Content-Type: application/json",
                )
                .field("Content-Type"));
            }
            let body = read_limited(&mut payload, MAX_JSON_BYTES).await?;
            parse_json(&body).map(ApiJson)
        })
    }
}

/// Like `web::Query`, with problem bodies that name the parameter at fault (a malformed UUID in
/// `team=…` names `team`).
pub struct ApiQuery<T>(pub T);

impl<T> ApiQuery<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(ApiQuery))
    }
}

/// Parses a query string into `T`; failures are 400 problems naming the parameter.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    // A control character is never a search term or an id, and PostgreSQL cannot even hold a NUL:
    // refuse it here, naming the parameter, before any handler or database sees it.
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(ApiError::bad_request(
                ProblemCode::InvalidQuery,
                &name,
                format!("invalid query parameter {name}: it contains a control character"),
            ));
        }
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let field = match unknown_field_name(&message).or_else(|| missing_field_name(&message)) {
            Some(name) => name,
            None if path != "." => path,
            None => "query".to_string(),
        };
        ApiError::bad_request(
            ProblemCode::InvalidQuery,
            &field,
            format!("invalid query parameter {field}: {message}"),
        )
    })
}

/// Reads a request body, refusing it with 413 as soon as it passes `limit` bytes.
pub async fn read_limited(payload: &mut Payload, limit: usize) -> Result<web::BytesMut, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::bad_request(
                ProblemCode::IncompleteBody,
                "body",
                "the request body was cut off; send it again",
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ProblemCode::TooLarge,
                format!("the body is larger than {limit} bytes"),
            )
            .field("body"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses JSON into `T`; failures name the path of the field at fault.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    parse_checked(body).map_err(|fault| match fault {
        JsonFault::TooDeep => ApiError::bad_request(
            ProblemCode::TooDeep,
            "body",
            format!("JSON nested deeper than {MAX_JSON_DEPTH} levels"),
        ),
        JsonFault::InvalidUtf8 => ApiError::bad_request(
            ProblemCode::InvalidUtf8,
            "body",
            "the body is not valid UTF-8",
        ),
        JsonFault::Serde {
            field,
            message,
            syntax: true,
        } => {
            ApiError::new(StatusCode::BAD_REQUEST, ProblemCode::MalformedJson, message).field(field)
        }
        JsonFault::Serde { field, message, .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemCode::Invalid,
            message,
        )
        .field(field),
    })
}

/// Parses a UUID path segment; a malformed id is a 404 like any unknown id.
pub fn parse_id(raw: &str, what: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::not_found(what))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        a: u32,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        inner: Vec<Inner>,
    }

    #[test]
    fn names_the_nested_field() {
        let err = parse_json::<Outer>(br#"{"inner":[{"a":1},{"a":"x"}]}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("inner[1].a"));
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn names_an_unknown_field() {
        let err = parse_json::<Outer>(br#"{"inner":[],"evil":1}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("evil"));
        let err = parse_json::<Outer>(br#"{"inner":[{"a":1,"b":2}]}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("inner[0].b"));
    }

    #[test]
    fn malformed_and_deep_json_are_bad_requests() {
        let err = parse_json::<Outer>(b"{\"inner\":").unwrap_err();
        assert_eq!(err.code, "malformed_json");
        let deep = "[".repeat(100) + &"]".repeat(100);
        let err = parse_json::<serde_json::Value>(deep.as_bytes()).unwrap_err();
        assert_eq!(err.code, "too_deep");
        // Brackets inside strings do not count.
        let s = format!("\"{}\"", "[".repeat(100));
        assert!(parse_json::<serde_json::Value>(s.as_bytes()).is_ok());
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Q {
        team: uuid::Uuid,
        limit: Option<u32>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let ok: Q = parse_query("team=67e55044-10b1-426f-9247-bb680e5fe0c8&limit=5").unwrap();
        assert_eq!(ok.limit, Some(5));
        assert_eq!(
            parse_query::<Q>("team=not-a-uuid")
                .unwrap_err()
                .field
                .as_deref(),
            Some("team")
        );
        assert_eq!(
            parse_query::<Q>("limit=5").unwrap_err().field.as_deref(),
            Some("team")
        );
        let e = parse_query::<Q>("team=67e55044-10b1-426f-9247-bb680e5fe0c8&limit=-1").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("limit"));
        let e = parse_query::<Q>("team=67e55044-10b1-426f-9247-bb680e5fe0c8&evil=1").unwrap_err();
        assert_eq!((e.field.as_deref(), e.status.as_u16()), (Some("evil"), 400));
    }

    #[test]
    fn control_characters_are_refused_naming_the_field() {
        let e =
            parse_query::<Q>("team=67e55044-10b1-426f-9247-bb680e5fe0c8&limit=%00").unwrap_err();
        assert_eq!(
            (e.field.as_deref(), e.status.as_u16()),
            (Some("limit"), 400)
        );
        let e = parse_json::<Outer>(br#"{"inner":[{"a":1}],"x":"\u0000"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("x"));
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Texts {
            items: Vec<String>,
        }
        let e = parse_json::<Texts>(br#"{"items":["ok","a\u0000b"]}"#).unwrap_err();
        assert_eq!(
            (e.field.as_deref(), e.status.as_u16()),
            (Some("items[1]"), 422)
        );
        // An escaped backslash followed by "u0000" is text, not a NUL.
        let ok = parse_json::<Texts>(br#"{"items":["\\u0000"]}"#).unwrap();
        assert_eq!(ok.items, vec!["\\u0000".to_string()]);
    }

    #[test]
    fn text_after_the_value_is_malformed() {
        for tail in ["xyz", " {}", "]", "\0", "\u{0}", "}", " 1", "\"\""] {
            let body = format!(r#"{{"inner":[{{"a":1}}]}}{tail}"#);
            let err = parse_json::<Outer>(body.as_bytes()).unwrap_err();
            assert_eq!(
                (err.code.as_str(), err.status.as_u16(), err.field.as_deref()),
                ("malformed_json", 400, Some("body")),
                "{body:?}"
            );
        }
        // Whitespace after the value is fine.
        for tail in ["", " ", "\n", "\r\n\t  "] {
            let body = format!(r#"{{"inner":[{{"a":1}}]}}{tail}"#);
            assert!(parse_json::<Outer>(body.as_bytes()).is_ok(), "{body:?}");
        }
    }

    #[test]
    fn invalid_utf8_is_refused() {
        let err = parse_json::<serde_json::Value>(b"\"\xff\"").unwrap_err();
        assert_eq!(err.code, "invalid_utf8");
    }
}
