// Placeholder sign-in screen: plain JavaScript, no build step. Inside the Tauri shell it calls the
// Rust commands through window.__TAURI__.core.invoke (app.withGlobalTauri); in a plain browser it
// only shows the form.
"use strict";

const SERVER_URL_KEY = "doi178.serverUrl";

function invoke(command, args) {
  const tauri = window.__TAURI__;
  if (!tauri || !tauri.core || typeof tauri.core.invoke !== "function") {
    return Promise.reject(new Error("Không chạy trong ứng dụng (thiếu Tauri)."));
  }
  return tauri.core.invoke(command, args);
}

function showStatus(text, isError) {
  const status = document.getElementById("signin-status");
  status.textContent = text;
  status.classList.toggle("error", Boolean(isError));
}

async function showAppInfo() {
  const footer = document.getElementById("app-info");
  try {
    const info = await invoke("app_info");
    footer.textContent = `${info.name} · phiên bản ${info.version}`;
    footer.dataset.version = info.version;
  } catch (err) {
    footer.textContent = "Đội 178";
  }
}

async function signIn(event) {
  event.preventDefault();
  const serverUrl = document.getElementById("server-url").value.trim();
  const username = document.getElementById("username").value.trim();
  const password = document.getElementById("password").value;
  if (!serverUrl) {
    document.getElementById("settings").open = true;
    showStatus("Hãy nhập địa chỉ máy chủ.", true);
    return;
  }
  if (!username || !password) {
    showStatus("Hãy nhập tên đăng nhập và mật khẩu.", true);
    return;
  }
  localStorage.setItem(SERVER_URL_KEY, serverUrl);
  const button = document.getElementById("signin-button");
  button.disabled = true;
  showStatus("Đang đăng nhập…", false);
  try {
    // The core's sign-in command is wired into the shell later; until then this reports its absence.
    await invoke("sign_in", { input: { server_url: serverUrl, username, password } });
    showStatus("Đã đăng nhập.", false);
  } catch (err) {
    showStatus(`Không đăng nhập được: ${err && err.message ? err.message : err}`, true);
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const saved = localStorage.getItem(SERVER_URL_KEY);
  if (saved) {
    document.getElementById("server-url").value = saved;
  }
  document.getElementById("signin-form").addEventListener("submit", signIn);
  showAppInfo();
});
