//! The command surface the Tauri shell and the development bridge map 1:1: each command takes
//! one JSON object and returns JSON (or a [`FieldError`]). [`COMMANDS`] lists the names;
//! [`call`] dispatches by name.
//!
//! | command | arguments | result |
//! | --- | --- | --- |
//! | `sign_in` | [`SignIn`] | [`SignInResult`] |
//! | `sync_now` | `{}` | [`SyncReport`] |
//! | `status` | `{}` | [`Status`] |
//! | `assignments_today` | [`DateArg`] | `[`[`AssignmentCard`]`]` |
//! | `establishments_nearby` | [`NearbyQuery`] | `[`[`EstablishmentSummary`]`]` |
//! | `establishment` | [`IdArg`] | [`EstablishmentCard`] |
//! | `checklist` | [`IdArg`] (establishment id) | [`Checklist`] |
//! | `visit_start` | [`VisitStart`] | [`VisitDraft`] |
//! | `visit_get` | [`IdArg`] | [`VisitDraft`] |
//! | `visit_update` | [`VisitUpdate`] | [`VisitDraft`] |
//! | `visit_gps` | [`VisitGps`] | [`GpsResult`] |
//! | `photo_capture` | [`PhotoCapture`] | [`PhotoItem`] |
//! | `visit_add_photo` | [`VisitAddPhoto`] | [`PhotoItem`] |
//! | `visit_submit` | [`VisitSubmit`] | [`OutboxItem`] |
//! | `outbox` | `{}` | `[`[`OutboxItem`]`]` |
//! | `settings_get` | `{}` | [`Settings`] |
//! | `settings_set` | [`SettingsPatch`] | [`Settings`] |
//! | `team_roster` | [`RosterQuery`] | `[`[`RosterMember`]`]` |
//! | `sign_out` | `{}` | [`SignOutResult`] |

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::{code, FieldError, FieldResult};
use crate::types::*;
use crate::FieldCore;

pub const COMMANDS: &[&str] = &[
    "sign_in",
    "sync_now",
    "status",
    "assignments_today",
    "establishments_nearby",
    "establishment",
    "checklist",
    "visit_start",
    "visit_get",
    "visit_update",
    "visit_gps",
    "photo_capture",
    "visit_add_photo",
    "visit_submit",
    "outbox",
    "settings_get",
    "settings_set",
    "team_roster",
    "sign_out",
];

fn args<T: DeserializeOwned>(v: Value) -> FieldResult<T> {
    let v = if v.is_null() {
        Value::Object(Default::default())
    } else {
        v
    };
    serde_json::from_value(v)
        .map_err(|e| FieldError::new(code::BAD_COMMAND, format!("arguments: {e}")))
}

fn out<T: Serialize>(r: FieldResult<T>) -> FieldResult<Value> {
    r.and_then(|x| serde_json::to_value(x).map_err(FieldError::from))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

/// Runs the command `name` with JSON `arguments` (`null` counts as `{}`).
pub fn call(core: &FieldCore, name: &str, arguments: Value) -> FieldResult<Value> {
    match name {
        "sign_in" => out(core.sign_in(args(arguments)?)),
        "sync_now" => {
            args::<NoArgs>(arguments)?;
            out(core.sync_now())
        }
        "status" => {
            args::<NoArgs>(arguments)?;
            out(core.status())
        }
        "assignments_today" => out(core.assignments_today(args::<DateArg>(arguments)?.date)),
        "establishments_nearby" => out(core.establishments_nearby(args(arguments)?)),
        "establishment" => out(core.establishment(args::<IdArg>(arguments)?.id)),
        "checklist" => out(core.checklist(args::<IdArg>(arguments)?.id)),
        "visit_start" => out(core.visit_start(args(arguments)?)),
        "visit_get" => out(core.visit_get(args::<IdArg>(arguments)?.id)),
        "visit_update" => out(core.visit_update(args(arguments)?)),
        "visit_gps" => out(core.visit_gps(args(arguments)?)),
        "photo_capture" => out(core.photo_capture(args(arguments)?)),
        "visit_add_photo" => out(core.visit_add_photo(args(arguments)?)),
        "visit_submit" => out(core.visit_submit(args(arguments)?)),
        "outbox" => {
            args::<NoArgs>(arguments)?;
            out(core.outbox())
        }
        "settings_get" => {
            args::<NoArgs>(arguments)?;
            out(core.settings_get())
        }
        "settings_set" => out(core.settings_set(args(arguments)?)),
        "team_roster" => out(core.team_roster(args(arguments)?)),
        "sign_out" => {
            args::<NoArgs>(arguments)?;
            out(core.sign_out())
        }
        other => Err(FieldError::new(
            code::BAD_COMMAND,
            format!("unknown command {other}; known: {}", COMMANDS.join(", ")),
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn offline_commands_work_without_a_server() {
        let dir = tempfile::tempdir().unwrap();
        let core = FieldCore::open(dir.path(), None).unwrap();
        let s = call(&core, "settings_get", Value::Null).unwrap();
        assert_eq!(s["gps_warning_radius_m"], 100.0);
        assert_eq!(s["photo_long_edge"], 1600);
        assert_eq!(s["photo_quality"], 80);
        let s = call(
            &core,
            "settings_set",
            serde_json::json!({"server_url": "https://example.invalid", "gps_warning_radius_m": 150.0}),
        )
        .unwrap();
        assert_eq!(s["gps_warning_radius_m"], 150.0);
        drop(core);
        // Kept in the store.
        let core = FieldCore::open(dir.path(), None).unwrap();
        assert_eq!(core.settings_get().unwrap().gps_warning_radius_m, 150.0);
        let e = call(
            &core,
            "settings_set",
            serde_json::json!({"photo_quality": 5}),
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("photo_quality"));
        let st = call(&core, "status", Value::Null).unwrap();
        assert_eq!(st["signed_in"], false);
        assert_eq!(
            call(&core, "outbox", Value::Null).unwrap(),
            serde_json::json!([])
        );
        let e = call(&core, "sync_now", Value::Null).unwrap();
        assert_eq!(e["ok"], false);
        assert_eq!(e["error"]["code"], "not_signed_in");
        assert_eq!(
            call(&core, "nope", Value::Null).unwrap_err().code,
            "bad_command"
        );
        assert_eq!(
            call(&core, "status", serde_json::json!({"x": 1}))
                .unwrap_err()
                .code,
            "bad_command"
        );
        let e = call(
            &core,
            "visit_start",
            serde_json::json!({"establishment_id": uuid::Uuid::new_v4()}),
        )
        .unwrap_err();
        assert_eq!(e.code, "not_signed_in");
        let found = call(
            &core,
            "establishments_nearby",
            serde_json::json!({"query": "Huế"}),
        )
        .unwrap();
        assert_eq!(found, serde_json::json!([]));
    }
}
