//! Tauri 2 shell of the doi178 field app: one window showing `field-app/ui/dist`, whose JavaScript
//! calls the commands registered here through `window.__TAURI__.core.invoke(name, { args })`.
//! Every command of the `doi178-field` core ([`doi178_field::commands::COMMANDS`]) is registered
//! under its own name and maps 1:1 onto [`doi178_field::commands::call`]; nothing else happens
//! here but opening the core in the app's data directory and running calls off the UI thread.

use std::sync::Arc;

use doi178_field::commands;
use doi178_field::{FieldCore, FieldError};
use serde::Serialize;
use serde_json::Value;
use tauri::Manager;

/// What `app_info` returns to the UI: `{"name": "Đội 178", "version": "0.1.0"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppInfo {
    /// The product name (tauri.conf.json `productName`).
    pub name: String,
    /// The app's version (the workspace version, from Cargo.toml).
    pub version: String,
}

/// The app's name and version, as the UI's footer shows them.
#[tauri::command]
fn app_info(app: tauri::AppHandle) -> AppInfo {
    let info = app.package_info();
    AppInfo {
        name: info.name.clone(),
        version: info.version.to_string(),
    }
}

/// The core, shared by every command (its store serialises access itself).
struct Core(Arc<FieldCore>);

/// Runs one core command on a blocking thread: the store and the network must never block the
/// window.
async fn call_core(
    core: &tauri::State<'_, Core>,
    name: &'static str,
    args: Option<Value>,
) -> Result<Value, FieldError> {
    let core = core.0.clone();
    tauri::async_runtime::spawn_blocking(move || {
        commands::call(&core, name, args.unwrap_or(Value::Null))
    })
    .await
    .map_err(|e| FieldError::new("internal", format!("the command {name} stopped: {e}")))?
}

/// One Tauri command per core command, same name, same JSON in and out.
macro_rules! core_commands {
    ($($name:ident),* $(,)?) => {
        $(
            #[tauri::command]
            async fn $name(core: tauri::State<'_, Core>, args: Option<Value>) -> Result<Value, FieldError> {
                call_core(&core, stringify!($name), args).await
            }
        )*
        /// The names registered by [`core_commands!`], to check them against the core's list.
        pub const REGISTERED: &[&str] = &[$(stringify!($name)),*];
        fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![app_info, $($name),*]
        }
    };
}

core_commands!(
    sign_in,
    sync_now,
    status,
    assignments_today,
    establishments_nearby,
    establishment,
    checklist,
    visit_start,
    visit_get,
    visit_update,
    visit_gps,
    photo_capture,
    visit_add_photo,
    visit_submit,
    outbox,
    settings_get,
    settings_set,
    team_roster,
    sign_out,
);

/// Builds and runs the app; `main` on desktop, the JNI entry point on Android.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let result = tauri::Builder::default()
        .setup(|app| {
            let dir = app.path().app_data_dir()?;
            let core = FieldCore::open(&dir, None)
                .map_err(|e| format!("cannot open the local store in {}: {e}", dir.display()))?;
            app.manage(Core(Arc::new(core)));
            Ok(())
        })
        .invoke_handler(handler())
        .run(tauri::generate_context!());
    if let Err(err) = result {
        eprintln!("doi178-field-app: {err}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_command_is_registered_once() {
        let mut registered = REGISTERED.to_vec();
        registered.sort_unstable();
        let mut core = commands::COMMANDS.to_vec();
        core.sort_unstable();
        assert_eq!(registered, core);
    }
}
