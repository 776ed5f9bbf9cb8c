// Reports page: the print button (no inline handlers under the CSP).
document.querySelectorAll("[data-print]").forEach((b) => b.addEventListener("click", () => window.print()));
