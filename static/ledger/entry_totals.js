// SOFinance: running debit and credit totals of a journal entry while it is typed (a static
// file: CSP). Amounts are added exactly (BigInt at 10 decimal places) and shown in the
// functional currency: a line in another currency counts at the FX rate typed beside it, and
// is left out, with a note, when its rate is left to the stored one (the server applies it on
// save and checks the balance again).
"use strict";
(function () {
  const SCALE = 10;

  function scaled(text) {
    const value = (text || "").trim().replace(/,/g, "");
    if (!value) return 0n;
    const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(value);
    if (!match || (!match[2] && !match[3])) return null;
    const fraction = (match[3] || "").slice(0, SCALE).padEnd(SCALE, "0");
    const digits = BigInt((match[2] || "0") + fraction);
    return match[1] ? -digits : digits;
  }

  function roundTo(value, places) {
    // value at SCALE places -> rounded half-up (away from zero) at `places`.
    const divisor = 10n ** BigInt(SCALE - places);
    const negative = value < 0n;
    const magnitude = negative ? -value : value;
    const rounded = (magnitude + divisor / 2n) / divisor;
    return negative ? -rounded : rounded;
  }

  function format(value, places) {
    // The admin's format: thousands separators, negatives in parentheses.
    const negative = value < 0n;
    const digits = (negative ? -value : value).toString().padStart(places + 1, "0");
    const whole = (places ? digits.slice(0, -places) : digits).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    const text = whole + (places ? "." + digits.slice(-places) : "");
    return negative ? `(${text})` : text;
  }

  function field(row, name) {
    return row.querySelector(`[name$="-${name}"]`);
  }

  function recompute(data) {
    const places = data.places[data.currency] ?? 2;
    let debit = 0n;
    let credit = 0n;
    let invalid = false;
    let unrated = 0;
    document.querySelectorAll("tr.form-row[id^='lines-']:not(.empty-form)").forEach((row) => {
      const remove = field(row, "DELETE");
      if (remove && remove.checked) return;
      const debitInput = field(row, "debit");
      const creditInput = field(row, "credit");
      if (!debitInput || !creditInput) return;
      const lineDebit = scaled(debitInput.value);
      const lineCredit = scaled(creditInput.value);
      if (lineDebit === null || lineCredit === null) {
        invalid = true;
        return;
      }
      if (lineDebit === 0n && lineCredit === 0n) return;
      const currencyInput = field(row, "currency");
      const currency = ((currencyInput && currencyInput.value) || "").trim().toUpperCase();
      let rate = 10n ** BigInt(SCALE);
      if (currency && currency !== data.currency) {
        const rateInput = field(row, "fx_rate");
        const typed = rateInput ? scaled(rateInput.value) : 0n;
        if (!typed) {
          unrated += 1;
          return;
        }
        rate = typed;
      }
      const base = (amount) => roundTo((amount * rate) / 10n ** BigInt(SCALE), places);
      debit += base(lineDebit);
      credit += base(lineCredit);
    });
    const show = (id, text) => {
      const cell = document.getElementById(id);
      if (cell) cell.textContent = text;
    };
    const difference = document.getElementById("total-difference");
    if (invalid) {
      show("total-debit", "–");
      show("total-credit", "–");
      show("total-difference", "–");
      if (difference) difference.className = "difference";
    } else {
      show("total-debit", format(debit, places));
      show("total-credit", format(credit, places));
      const gap = debit - credit;
      show("total-difference", gap === 0n ? "Balanced" : format(gap, places));
      if (difference) difference.className = `difference ${gap === 0n ? "balanced" : "unbalanced"}`;
    }
    const note = document.getElementById("entry-totals-note");
    if (note) {
      note.textContent = unrated
        ? `${unrated} foreign-currency line(s) left out: their rate is the stored one, applied on save.`
        : "";
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const source = document.getElementById("entry-totals-data");
    const form = document.getElementById("journalentry_form");
    if (!source || !form) return;
    const data = JSON.parse(source.textContent);
    const update = () => recompute(data);
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    document.addEventListener("formset:added", update);
    document.addEventListener("formset:removed", update);
    update();
  });

  window.ledgerEntryMath = { scaled, roundTo, format };
})();
