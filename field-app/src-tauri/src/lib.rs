//! Tauri 2 shell of the doi178 field app: one window showing `field-app/ui`, whose JavaScript calls
//! the commands registered here through `window.__TAURI__.core.invoke`. The commands are thin
//! wrappers over the `doi178-field` core; for now only [`app_info`] exists.

use serde::Serialize;

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

/// Builds and runs the app; `main` on desktop, the JNI entry point on Android.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let result = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![app_info])
        .run(tauri::generate_context!());
    if let Err(err) = result {
        eprintln!("doi178-field-app: {err}");
        std::process::exit(1);
    }
}
