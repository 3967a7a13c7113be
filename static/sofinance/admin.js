// SOFinance admin: behaviour shared by every page (a static file: the Content-Security-Policy
// allows no inline script).
"use strict";
(function () {
  document.addEventListener("DOMContentLoaded", () => {
    // The company switcher submits itself when another company is chosen; the button stays for
    // keyboards and browsers without scripts.
    const select = document.getElementById("company-select");
    if (select && select.form) {
      select.addEventListener("change", () => select.form.submit());
      const button = document.getElementById("company-switch-button");
      if (button) button.classList.add("js-hidden");
    }
  });
})();
