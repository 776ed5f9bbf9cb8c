//! The pure part of the API's JSON parsing: the nesting-depth guard, UTF-8 and the typed parse
//! that names the field at fault. `extract::parse_json` maps its faults to problem bodies; the
//! fuzz targets (`fuzz/`) compile this file as it is, so they exercise exactly the server's code.

use serde::de::DeserializeOwned;

/// Deeper nesting than this is refused before parsing (hostile input, stack safety).
pub const MAX_JSON_DEPTH: usize = 32;

/// Why a body was refused.
#[derive(Debug)]
pub enum JsonFault {
    TooDeep,
    InvalidUtf8,
    /// The JSON did not parse (`syntax` true) or did not fit the type; `field` is the path of the
    /// field at fault (`body` for the whole body).
    Serde {
        field: String,
        message: String,
        syntax: bool,
    },
}

/// Parses JSON into `T` after the depth and UTF-8 checks.
/// The field of serde's "missing field `x`" message.
pub fn missing_field_name(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_string())
}

pub fn parse_checked<T: DeserializeOwned>(body: &[u8]) -> Result<T, JsonFault> {
    if json_depth_exceeds(body, MAX_JSON_DEPTH) {
        return Err(JsonFault::TooDeep);
    }
    let text = std::str::from_utf8(body).map_err(|_| JsonFault::InvalidUtf8)?;
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." {
            "body".to_string()
        } else {
            path
        };
        let message = inner.to_string();
        // serde reports unknown fields at the parent path; name the field itself.
        let field = match unknown_field_name(&message) {
            Some(name) if field == "body" => name,
            // Newer serde_path_to_error versions already end the path with the unknown field.
            Some(name) if field == name || field.ends_with(&format!(".{name}")) => field,
            Some(name) => format!("{field}.{name}"),
            None => field,
        };
        // A missing field is reported at its parent too: name the field that is missing.
        let field = match missing_field_name(&message) {
            Some(name) if field == "body" => name,
            Some(name) => format!("{field}.{name}"),
            None => field,
        };
        JsonFault::Serde {
            field,
            message,
            syntax: inner.is_syntax() || inner.is_eof(),
        }
    })?;
    // Nothing but whitespace may follow the value: `{…}xyz`, `{…} {}` or a trailing NUL byte is
    // malformed, not a valid body with noise after it.
    de.end().map_err(|e| JsonFault::Serde {
        field: "body".to_string(),
        message: format!("{e}: nothing but whitespace may follow the JSON value"),
        syntax: true,
    })?;
    // A NUL (`\u0000`) is never text, and PostgreSQL cannot store it: refuse it wherever it is,
    // naming the field, even in strings no domain rule looks at.
    if has_nul_escape(body) {
        let field = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| nul_path(&v, String::new()))
            .unwrap_or_else(|| "body".to_string());
        return Err(JsonFault::Serde {
            field,
            message: "must not contain the control character U+0000".to_string(),
            syntax: false,
        });
    }
    Ok(parsed)
}

/// True when a string in `body` has the escape `\u0000` (an escaped backslash followed by
/// `u0000` is text and does not count).
fn has_nul_escape(body: &[u8]) -> bool {
    let (mut in_string, mut escaped) = (false, false);
    for (i, &b) in body.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, b'u') => {
                    if body.get(i + 1..i + 5) == Some(b"0000") {
                        return true;
                    }
                    escaped = false;
                }
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        }
    }
    false
}

/// The path (`violations[0].legal_basis`) of the first string or key holding a NUL.
fn nul_path(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('\0') => Some(if path.is_empty() {
            "body".to_string()
        } else {
            path
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                return Some(if path.is_empty() {
                    "body".to_string()
                } else {
                    path.clone()
                });
            }
            nul_path(v, here)
        }),
        _ => None,
    }
}

pub fn unknown_field_name(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_string())
}

/// Cheap scan for nesting depth that ignores brackets inside strings.
pub fn json_depth_exceeds(body: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}
