//! The OpenAPI 3 document served at /api/openapi.json (and browsed at /api/docs/).

use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "doi178 API", description = "Planning, running and proving the inspections of the interagency teams (Đội 178). All errors are RFC 9457 problem bodies (`application/problem+json`) with a stable `code` and the offending `field`."),
    paths(
        routes::healthz,
        routes::auth::login, routes::auth::refresh, routes::auth::logout, routes::auth::me,
        routes::auth::change_password,
        routes::units::list, routes::units::get,
        routes::establishments::list, routes::establishments::create, routes::establishments::get, routes::establishments::update,
        routes::teams::list, routes::teams::create, routes::teams::get, routes::teams::add_member, routes::teams::remove_member,
        routes::users::list, routes::users::create, routes::users::get,
        routes::users::update, routes::users::set_active, routes::users::reset_password,
        routes::users::unlock,
        routes::reference::agencies, routes::reference::programmes,
        routes::reference::create_programme, routes::reference::update_programme,
        routes::coverage::get,
        routes::reports::series, routes::reports::never_inspected, routes::reports::follow_ups, routes::reports::summary,
        routes::planner::propose,
        routes::reference::list_templates,
        routes::reference::create_template, routes::reference::get_template,
        routes::tips::list, routes::tips::create, routes::tips::get, routes::tips::set_status,
        routes::assignments::list, routes::assignments::create, routes::assignments::get,
        routes::assignments::release, routes::assignments::cancel, routes::assignments::complete,
        routes::visits::put, routes::visits::list, routes::visits::get, routes::visits::revise, routes::visits::review,
        routes::photos::put, routes::photos::get, routes::photos::thumbnail,
        routes::sync::pull,
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&BearerAuth, &Conformance),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Makes the generated document say what the server really does (checked by schemathesis in
/// `scripts/ci/schemathesis.sh`):
/// - query parameters derived with `IntoParams` are declared `in: query` (utoipa defaults them to
///   `path`), optional unless required, and never `null` (a query string has no null);
/// - every error answer is `application/problem+json` with the `Problem` schema, and each
///   operation lists the errors the shared machinery can give it: 400 (malformed parameters or
///   body), 401/403 (signed-in routes), 404 (ids in the path), 413/415/422 (bodies), 503 (database
///   unreachable);
/// - photo uploads take raw JPEG or PNG bytes;
/// - the timestamps of answers are UTC written without an offset (`2026-11-14T09:00:00`), which
///   the `date-time` format does not allow: answer-only schemas say so with a pattern.
struct Conformance;

impl Modify for Conformance {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Ok(mut doc) = serde_json::to_value(&*openapi) else {
            return;
        };
        conform(&mut doc);
        match serde_json::from_value(doc) {
            Ok(fixed) => *openapi = fixed,
            Err(e) => tracing::error!(error = %e, "OpenAPI conformance rewrite failed"),
        }
    }
}

/// UTC timestamps as the answers write them: RFC 3339 with the offset optional.
const TIMESTAMP_PATTERN: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?$";

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": {
            "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

fn conform(doc: &mut Value) {
    let mut request_refs = Vec::new();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (_method, op) in item.iter_mut() {
                if let Some(op) = op.as_object_mut() {
                    conform_operation(path, op);
                    collect_refs(op.get("requestBody"), &mut request_refs);
                    collect_refs(op.get("parameters"), &mut request_refs);
                }
            }
        }
    }
    // Schemas reachable from a request keep `date-time` (the server parses RFC 3339 there).
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let mut seen: Vec<String> = Vec::new();
    while let Some(name) = request_refs.pop() {
        if seen.contains(&name) {
            continue;
        }
        collect_refs(schemas.get(&name), &mut request_refs);
        seen.push(name);
    }
    for (name, schema) in schemas.iter_mut() {
        if !seen.contains(name) {
            relax_timestamps(schema);
        }
    }
}

fn conform_operation(path: &str, op: &mut Map<String, Value>) {
    let mut has_path_params = false;
    let mut has_query_params = false;
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for param in params.iter_mut() {
            let Some(param) = param.as_object_mut() else {
                continue;
            };
            let name = param
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let location = param.get("in").and_then(Value::as_str).unwrap_or_default();
            if location == "path" && !path.contains(&format!("{{{name}}}")) {
                param.insert("in".into(), json!("query"));
            }
            let location = param.get("in").and_then(Value::as_str).unwrap_or_default();
            match location {
                "path" => has_path_params = true,
                "query" => has_query_params = true,
                _ => {}
            }
            if location != "path" {
                if let Some(schema) = param.get_mut("schema") {
                    if drop_null_type(schema) {
                        param.insert("required".into(), json!(false));
                    }
                }
            }
        }
    }
    let has_body = op.contains_key("requestBody");
    if let Some(content) = op
        .get_mut("requestBody")
        .and_then(|b| b.get_mut("content"))
        .and_then(Value::as_object_mut)
    {
        if content.contains_key("image/jpeg") {
            let bytes = json!({ "schema": { "type": "string", "format": "binary" } });
            content.insert("image/jpeg".into(), bytes.clone());
            content.insert("image/png".into(), bytes);
        }
    }
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(responses) = responses else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        if status.starts_with('4') || status.starts_with('5') {
            let Some(response) = response.as_object_mut() else {
                continue;
            };
            let problem_json = response
                .get("content")
                .and_then(|c| c.get("application/json"))
                .and_then(|c| c.get("schema"))
                .and_then(|s| s.get("$ref"))
                .and_then(Value::as_str)
                == Some("#/components/schemas/Problem");
            if problem_json {
                if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) {
                    if let Some(v) = content.remove("application/json") {
                        content.insert("application/problem+json".into(), v);
                    }
                }
            }
        }
    }
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_string())
            .or_insert_with(|| problem_response(description));
    };
    if has_path_params || has_query_params || has_body {
        add("400", "Malformed parameters or body");
    }
    if secured {
        add("401", "Not signed in, or the token is invalid or expired");
        add("403", "The role may not do this");
    }
    if has_path_params || has_query_params {
        add(
            "404",
            "No such record, or one named by a parameter (or not in your jurisdiction)",
        );
    }
    if has_query_params {
        add("422", "Parameters that parse but are not valid");
    }
    if has_body {
        add("413", "Body larger than the limit");
        add("415", "Body of the wrong Content-Type");
        add("422", "Body that parses but is not valid");
    }
    add("503", "The database is not reachable");
}

/// Removes `null` from a `type` list; true when it was there (an optional parameter).
fn drop_null_type(schema: &mut Value) -> bool {
    let Some(types) = schema.get_mut("type").and_then(Value::as_array_mut) else {
        return false;
    };
    let before = types.len();
    types.retain(|t| t != "null");
    let dropped = types.len() != before;
    if types.len() == 1 {
        let only = types[0].clone();
        schema["type"] = only;
    }
    dropped
}

fn collect_refs(value: Option<&Value>, out: &mut Vec<String>) {
    match value {
        Some(Value::Object(map)) => {
            for (key, v) in map {
                if key == "$ref" {
                    if let Some(name) = v
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    {
                        out.push(name.to_string());
                    }
                } else {
                    collect_refs(Some(v), out);
                }
            }
        }
        Some(Value::Array(items)) => {
            for v in items {
                collect_refs(Some(v), out);
            }
        }
        _ => {}
    }
}

fn relax_timestamps(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.get("format").and_then(Value::as_str) == Some("date-time") {
                map.remove("format");
                map.insert("pattern".into(), json!(TIMESTAMP_PATTERN));
            }
            for v in map.values_mut() {
                relax_timestamps(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(relax_timestamps),
        _ => {}
    }
}

/// `GET /api/openapi.json`: the document.
pub async fn openapi_json() -> actix_web::HttpResponse {
    use utoipa::OpenApi;
    actix_web::HttpResponse::Ok().json(ApiDoc::openapi())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_document_declares_query_parameters_and_problem_bodies() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let op = &doc["paths"]["/api/v1/assignments"]["get"];
        let team = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "team")
            .unwrap();
        assert_eq!(team["in"], "query");
        assert_eq!(team["required"], false);
        assert_eq!(team["schema"]["type"], "string");
        let problem = &op["responses"]["401"]["content"]["application/problem+json"];
        assert_eq!(problem["schema"]["$ref"], "#/components/schemas/Problem");
        let get = &doc["paths"]["/api/v1/visits/{id}"]["get"];
        assert!(get["responses"]["404"]["content"]["application/json"].is_null());
        assert_eq!(get["parameters"][0]["in"], "path");
        // Answers write naive UTC timestamps; requests keep RFC 3339.
        let created = &doc["components"]["schemas"]["UserView"]["properties"]["created_at"];
        assert!(created["format"].is_null());
        assert!(created["pattern"].is_string());
    }

    #[test]
    fn the_problem_body_lists_every_machine_code() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let code = &doc["components"]["schemas"]["Problem"]["properties"]["code"];
        assert_eq!(code["$ref"], "#/components/schemas/ProblemCode", "{code}");
        let listed: Vec<&str> = doc["components"]["schemas"]["ProblemCode"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let all: Vec<&str> = doi178_shared::ProblemCode::ALL
            .iter()
            .map(|c| c.as_str())
            .collect();
        assert_eq!(listed, all);
        assert!(listed.contains(&"not_your_photo") && listed.contains(&"malformed_json"));
    }
}
