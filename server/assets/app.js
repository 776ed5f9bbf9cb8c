// doi178 dashboard: small glue around htmx. Errors from htmx requests show in a toast instead of
// failing silently; everything else is plain HTML from the server.
(function () {
  "use strict";
  var toast = document.getElementById("toast");
  function show(message, kind) {
    if (!toast) return;
    toast.textContent = message;
    toast.className = kind || "error";
    toast.hidden = false;
    clearTimeout(show.timer);
    show.timer = setTimeout(function () { toast.hidden = true; }, 8000);
  }
  window.doi178 = { toast: show };
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    var text = "";
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var p = doc.querySelector(".problem p, p.error, p");
      text = p ? p.textContent.trim() : "";
    } catch (_) { /* not HTML */ }
    show(text || (document.documentElement.lang === "en"
      ? "The server could not do that (" + xhr.status + ")."
      : "Máy chủ không thực hiện được (" + xhr.status + ")."));
  });
  document.addEventListener("htmx:sendError", function () {
    show(document.documentElement.lang === "en"
      ? "No connection to the server. Check the network and try again."
      : "Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.");
  });
})();
