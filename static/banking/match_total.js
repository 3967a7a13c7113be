// SOFinance: the running total of the ledger lines ticked on a bank line's "Match by hand" form,
// against the bank line's amount (a static file: CSP). Exact: the amounts are added with the
// ledger's BigInt arithmetic (static/ledger/entry_totals.js, loaded first). The server checks
// the match again when it is submitted.
"use strict";
(function () {
  function update(form, math) {
    const places = Number(form.dataset.places);
    const target = math.roundTo(math.scaled(form.dataset.target), places);
    let total = 0n;
    let count = 0;
    form.querySelectorAll("input[name='journal_line']:checked").forEach((box) => {
      total += math.roundTo(math.scaled(box.dataset.amount), places);
      count += 1;
    });
    const shown = document.getElementById("ticked-total");
    if (!shown) return;
    if (!count) {
      shown.textContent = "Tick the ledger lines that make up this bank line.";
      shown.className = "ticked-total";
      return;
    }
    const gap = target - total;
    const lines = count === 1 ? "1 line" : `${count} lines`;
    const verdict =
      gap === 0n
        ? "equal to the bank line."
        : `the bank line is ${math.format(target, places)}, a difference of ${math.format(gap, places)}.`;
    shown.textContent = `Ticked: ${lines}, ${math.format(total, places)}; ${verdict}`;
    shown.className = `ticked-total ${gap === 0n ? "balanced" : "unbalanced"}`;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("manual-match");
    const math = window.ledgerEntryMath;
    if (!form || !math) return;
    form.addEventListener("change", () => update(form, math));
    update(form, math);
  });
})();
