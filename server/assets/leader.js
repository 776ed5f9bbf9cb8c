// Team leader workspace and tips: selection of proposals, fields that depend on the kind, and
// form errors shown next to the form (a 4xx fragment naming the field) instead of a toast.
(function () {
  "use strict";
  var en = document.documentElement.lang === "en";

  function updateCount() {
    var out = document.getElementById("selected-count");
    if (!out) return;
    var n = document.querySelectorAll('#plan-form input[name="establishment_ids"]:checked').length;
    out.textContent = n + " " + (en ? out.dataset.en : out.dataset.vi);
  }

  function showForKind() {
    var kind = document.getElementById("kind");
    if (!kind) return;
    document.querySelectorAll(".for-kind").forEach(function (el) {
      var kinds = (el.dataset.kinds || "").split(" ");
      el.hidden = kinds.indexOf(kind.value) < 0;
    });
  }

  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.classList && t.classList.contains("outing-all")) {
      var set = t.closest("fieldset");
      if (set) set.querySelectorAll('input[name="establishment_ids"]').forEach(function (c) { c.checked = t.checked; });
    }
    if (t.id === "kind") showForKind();
    updateCount();
  });

  // A form refused by the server (4xx) shows why inside the form.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var status = e.detail.xhr.status;
    if (status < 400 || status >= 500) return;
    var holder = e.detail.elt && e.detail.elt.closest ? e.detail.elt.closest("[data-errors-into]") : null;
    if (!holder) return;
    var target = document.querySelector(holder.dataset.errorsInto);
    if (!target) return;
    e.detail.shouldSwap = true;
    e.detail.isError = false;
    e.detail.target = target;
  });

  // A successful form clears its message area.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var holder = e.detail.elt && e.detail.elt.closest ? e.detail.elt.closest("[data-errors-into]") : null;
    var target = holder && document.querySelector(holder.dataset.errorsInto);
    if (target) target.textContent = "";
  });

  showForKind();
  updateCount();
})();
