// orderdesk.js: small progressive enhancements. Every page works without it
// (docs/architecture.md#pages-htmx-and-javascript).
(function () {
  "use strict";

  // Ship to: show only the picker for the chosen recipient type.
  function syncRecipient(form) {
    const checked = form.querySelector("input[name=recipient_type]:checked");
    if (!checked) return;
    form.querySelectorAll("[data-recipient]").forEach(function (section) {
      section.hidden = section.dataset.recipient !== checked.value;
    });
  }

  // Patient picker: arrow keys move through results, Enter chooses; Enter in the search box
  // searches now instead of submitting the order.
  function pickerKeys(event) {
    const query = event.target.closest("#patient-query");
    const choices = Array.from(document.querySelectorAll("#patient-results .picker-choice"));
    const index = choices.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && (query || index >= 0) && choices.length) {
      event.preventDefault();
      choices[Math.min(index + 1, choices.length - 1)].focus();
    } else if (event.key === "ArrowUp" && index >= 0) {
      event.preventDefault();
      if (index === 0) document.getElementById("patient-query").focus();
      else choices[index - 1].focus();
    } else if (event.key === "Enter" && query) {
      event.preventDefault();
      if (window.htmx) window.htmx.trigger(query, "search");
    } else if (event.key === "Enter" && event.target.matches("#order-form input:not([type=submit])")) {
      event.preventDefault();  // no accidental submit from a count or filter field
    }
  }

  // Site filter: narrow the <select> as the user types.
  function filterSelect(input) {
    const select = document.getElementById(input.dataset.filterSelect);
    if (!select) return;
    const needle = input.value.trim().toLowerCase();
    Array.from(select.options).forEach(function (option) {
      option.hidden = option.value !== "" && needle !== "" && !option.text.toLowerCase().includes(needle);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("order-form");
    if (form) {
      syncRecipient(form);
      form.addEventListener("change", function (event) {
        if (event.target.name === "recipient_type") syncRecipient(form);
      });
      form.addEventListener("keydown", pickerKeys);
      form.addEventListener("input", function (event) {
        if (event.target.dataset.filterSelect) filterSelect(event.target);
      });
      form.addEventListener("click", function (event) {
        const remove = event.target.closest("[data-remove-line]");
        if (remove) {
          event.preventDefault();
          const line = remove.closest("[data-line]");
          const next = line.nextElementSibling || line.previousElementSibling;
          line.remove();
          const focusTarget = next ? next.querySelector("select") : document.querySelector("#lines ~ button");
          if (focusTarget) focusTarget.focus();
        }
      });
      // One click, one order: the server also dedupes by the form's one-time token.
      form.addEventListener("submit", function (event) {
        const button = event.submitter;
        if (button && button.hasAttribute("data-once")) {
          window.setTimeout(function () {
            form.querySelectorAll("[data-once]").forEach(function (b) { b.disabled = true; });
          }, 0);
        }
      });
    }
    // Copy buttons: <button data-copy-target="id">.
    document.addEventListener("click", function (event) {
      const button = event.target.closest("[data-copy-target]");
      if (!button) return;
      const source = document.getElementById(button.dataset.copyTarget);
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent).then(function () { button.textContent = "Copied"; });
      }
    });
  });

  // After htmx adds a line, put the keyboard on its first field.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "lines") {
      const lines = event.detail.target.querySelectorAll("[data-line]");
      const last = lines[lines.length - 1];
      if (last) last.querySelector("select").focus();
    }
    if (event.detail.target && event.detail.target.id === "patient-picker") {
      const focusable = document.querySelector("#patient-card button, #patient-query");
      if (focusable) focusable.focus();
    }
  });
})();

// Copy buttons start hidden (they do nothing without JavaScript); show them where the
// clipboard is usable. The click handler above does the copying.
document.addEventListener("DOMContentLoaded", function () {
  if (!navigator.clipboard) return;
  document.body.addEventListener("htmx:load", function (event) {
    event.target.querySelectorAll("[data-copy-target][hidden]").forEach(function (b) { b.hidden = false; });
  });
  document.querySelectorAll("[data-copy-target][hidden]").forEach(function (b) { b.hidden = false; });
});
