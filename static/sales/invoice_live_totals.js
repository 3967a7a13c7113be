/*
 * Live totals of a draft invoice in the admin, recomputed as lines are typed.
 *
 * The rule is the server's (sales/amounts.py): a line's net is quantity x unit price less the
 * discount, rounded half-up to the currency's places; its tax is net x rate, rounded the same
 * way; the totals are the sums of the lines. Arithmetic is exact (BigInt on scaled integers,
 * never floating point). This is a preview: the server recomputes and validates on save.
 * Data (tax rate percents, item prices and rates, customers' currencies, currency places) comes
 * from the page's #sales-live-data JSON.
 */
(function () {
  "use strict";

  const SCALE = 4; // quantities, prices and percents have at most 4 decimals

  function scaled(text) {
    // "12.345" -> 123450n at SCALE places; null when not a plain decimal.
    const value = String(text || "").trim();
    if (!/^-?\d+(\.\d+)?$/.test(value)) return null;
    const negative = value.startsWith("-");
    const [whole, fraction = ""] = value.replace("-", "").split(".");
    if (fraction.length > SCALE) return null;
    const digits = BigInt(whole + fraction.padEnd(SCALE, "0"));
    return negative ? -digits : digits;
  }

  function roundHalfUp(value, fromPlaces, toPlaces) {
    // value has fromPlaces decimals (non-negative); returns it rounded half-up to toPlaces.
    const divisor = 10n ** BigInt(fromPlaces - toPlaces);
    return (value + divisor / 2n) / divisor;
  }

  function format(value, places) {
    // The admin's number format: thousands separators, negatives in parentheses.
    const negative = value < 0n;
    const digits = (negative ? -value : value).toString().padStart(places + 1, "0");
    const whole = (places ? digits.slice(0, -places) : digits).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    const fraction = places ? "." + digits.slice(-places) : "";
    return negative ? `(${whole}${fraction})` : whole + fraction;
  }

  function lineAmounts(quantity, price, discount, percent, places) {
    // net = q x p x (100 - d) / 100: scales 4 + 4 + 4, and /100 adds 2 more.
    const hundred = 100n * 10n ** BigInt(SCALE);
    const exactNet = quantity * price * (hundred - discount);
    const net = roundHalfUp(exactNet, 3 * SCALE + 2, places);
    // tax = net x rate / 100: scales places + 4, and /100 adds 2.
    const tax = roundHalfUp(net * percent, places + SCALE + 2, places);
    return { net, tax };
  }

  function field(row, name) {
    return row.querySelector(`[name$="-${name}"]`);
  }

  function recompute(data) {
    const currencyInput = document.getElementById("id_currency");
    const customerInput = document.getElementById("id_customer");
    const currency =
      (currencyInput && currencyInput.value.trim().toUpperCase()) ||
      (customerInput && data.customers[customerInput.value]) ||
      "";
    const places = currency in data.places ? data.places[currency] : 2;
    let subtotal = 0n;
    let taxTotal = 0n;
    let complete = true;
    document.querySelectorAll("tr.form-row[id^='lines-']:not(.empty-form)").forEach((row) => {
      const remove = field(row, "DELETE");
      const cell = row.querySelector("td.field-amounts p, td.field-amounts");
      const itemId = field(row, "item") ? field(row, "item").value : "";
      const item = data.items[itemId];
      const quantityText = field(row, "quantity") ? field(row, "quantity").value : "";
      if (!quantityText && !itemId) {
        if (cell) cell.textContent = "";
        return; // an empty extra row
      }
      let priceText = field(row, "unit_price") ? field(row, "unit_price").value : "";
      if (!priceText && item) {
        if (currency && item.currency !== currency) {
          // The item's price is in its company's currency: a line in another needs its own price
          // (the server refuses the line without one), so no total is made from the wrong one.
          if (cell) cell.textContent = `give its price in ${currency}`;
          complete = false;
          return;
        }
        priceText = item.price;
      }
      const discountText = (field(row, "discount") && field(row, "discount").value) || "0";
      let rateId = field(row, "tax_rate") ? field(row, "tax_rate").value : "";
      if (!rateId && item && item.tax_rate) rateId = String(item.tax_rate);
      const noTax = field(row, "no_tax") && field(row, "no_tax").checked;
      const percentText = noTax || !rateId ? "0" : data.tax_rates[rateId];
      const quantity = scaled(quantityText);
      const price = scaled(priceText);
      const discount = scaled(discountText);
      const percent = scaled(percentText);
      if ([quantity, price, discount, percent].some((v) => v === null) || quantity <= 0n || price < 0n) {
        if (cell) cell.textContent = "–";
        complete = false;
        return;
      }
      const { net, tax } = lineAmounts(quantity, price, discount, percent, places);
      if (cell) cell.textContent = `${format(net, places)} / ${format(tax, places)} / ${format(net + tax, places)}`;
      if (remove && remove.checked) return;
      subtotal += net;
      taxTotal += tax;
    });
    const show = (id, value) => {
      const element = document.getElementById(id);
      if (element) element.textContent = complete ? format(value, places) + (currency ? " " + currency : "") : "–";
    };
    show("live-subtotal", subtotal);
    show("live-tax", taxTotal);
    show("live-total", subtotal + taxTotal);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const source = document.getElementById("sales-live-data");
    if (!source) return;
    const data = JSON.parse(source.textContent);
    const form = document.getElementById("invoice_form");
    if (!form) return;
    const update = () => recompute(data);
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    document.addEventListener("formset:added", update);
    update();
  });

  // Exposed for tests run in a JavaScript engine.
  window.salesInvoiceMath = { scaled, lineAmounts, format };
})();
