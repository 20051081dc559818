// orderdesk.js: small progressive enhancements; every page works without it.

// Copy buttons start hidden (they do nothing without JavaScript); show them where the
// clipboard is usable. The click handler above does the copying.
document.addEventListener("DOMContentLoaded", function () {
  if (!navigator.clipboard) return;
  document.body.addEventListener("htmx:load", function (event) {
    event.target.querySelectorAll("[data-copy-target][hidden]").forEach(function (b) { b.hidden = false; });
  });
  document.querySelectorAll("[data-copy-target][hidden]").forEach(function (b) { b.hidden = false; });
});
