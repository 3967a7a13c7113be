"""The load mix `make load` runs (bench/load.py starts the server, the data and this file).

Each simulated client is an integration or an accountant working one company: mostly reads
(trial balance, balance sheet, a general-ledger page, the entry list, one entry, the AR aging)
and some writes (a posted entry, a bulk post of 20 entries, an invoice issued, a payment for it).
bench/load.py passes what the clients need in LOAD_* environment variables. Every write carries
an Idempotency-Key, as a real client's would; the harness checks the books afterwards.

Requests are named by operation (not URL) so the statistics are per operation.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import uuid
from decimal import Decimal

from locust import FastHttpUser, between, constant, task

CONFIG = json.loads(os.environ.get("LOAD_CONFIG", "{}"))
WAIT = os.environ.get("LOAD_WAIT", "0.5-1.5")
EXPENSES = ["6100", "6200", "6300", "6400", "6500", "6700"]
# Writes land in the current year's first months (the generated history ends before them).
WRITE_START = datetime.date.fromisoformat(CONFIG.get("write_start", "2026-01-01"))


def _wait_time():
    low, _, high = WAIT.partition("-")
    if not high:
        return constant(float(low))
    return between(float(low), float(high))


class Client(FastHttpUser):
    wait_time = _wait_time()

    def on_start(self) -> None:
        self.rng = random.Random()
        self.base = f"/api/v1/companies/{CONFIG['company']}"
        self.auth = {"Authorization": f"Bearer {CONFIG['token']}", "Content-Type": "application/json"}
        self.unpaid: list[tuple[int, int, str, str]] = []  # id, customer, total, date

    # ------------------------------------------------------------------ reads

    def _get(self, path: str, name: str) -> None:
        with self.client.get(path, headers=self.auth, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    def _as_of(self) -> str:
        return (datetime.date(2024, 1, 1) + datetime.timedelta(days=self.rng.randint(0, 1060))).isoformat()

    @task(10)
    def trial_balance(self) -> None:
        self._get(f"{self.base}/reports/trial-balance?as_of={self._as_of()}", "GET trial balance")

    @task(5)
    def balance_sheet(self) -> None:
        self._get(f"{self.base}/reports/balance-sheet?as_of={self._as_of()}", "GET balance sheet")

    @task(10)
    def general_ledger(self) -> None:
        account = self.rng.choice(CONFIG["ledger_accounts"])
        year = self.rng.choice([2024, 2025, 2026])
        self._get(
            f"{self.base}/reports/general-ledger?account={account}&from={year}-01-01&to={year}-12-31",
            "GET general ledger page",
        )

    @task(10)
    def entry_list(self) -> None:
        self._get(f"{self.base}/journal-entries?page_size=50", "GET journal entries (50)")

    @task(10)
    def one_entry(self) -> None:
        low, high = CONFIG["entry_ids"]
        self._get(f"{self.base}/journal-entries/{self.rng.randint(low, high)}", "GET one journal entry")

    @task(4)
    def ar_aging(self) -> None:
        self._get(f"{self.base}/reports/ar-aging?as_of={self._as_of()}", "GET AR aging")

    # ------------------------------------------------------------------ writes

    def _post(self, path: str, body: dict, name: str, expect: int = 201) -> dict | None:
        headers = {**self.auth, "Idempotency-Key": str(uuid.uuid4())}
        with self.client.post(
            path, data=json.dumps(body), headers=headers, name=name, catch_response=True
        ) as response:
            if response.status_code != expect:
                response.failure(f"{response.status_code}: {response.text[:300]}")
                return None
            return response.json()["data"]

    def _write_date(self) -> str:
        return (WRITE_START + datetime.timedelta(days=self.rng.randint(0, 300))).isoformat()

    def _entry(self) -> dict:
        amount = Decimal(self.rng.randint(100, 500_000)) / 100
        return {
            "date": self._write_date(),
            "description": "Load test",
            "post": True,
            "lines": [
                {"account": self.rng.choice(EXPENSES), "debit": str(amount)},
                {"account": "1010", "credit": str(amount)},
            ],
        }

    @task(6)
    def post_entry(self) -> None:
        self._post(f"{self.base}/journal-entries", self._entry(), "POST journal entry")

    @task(1)
    def post_bulk(self) -> None:
        entries = [self._entry() for _ in range(20)]
        self._post(f"{self.base}/journal-entries/bulk", {"entries": entries}, "POST bulk (20 entries)")

    @task(3)
    def issue_invoice(self) -> None:
        body = {
            "customer": self.rng.choice(CONFIG["customers"]),
            "date": self._write_date(),
            "issue": True,
            "lines": [
                {"item": CONFIG["item"], "quantity": str(self.rng.randint(1, 9))},
                {"description": "Delivery", "quantity": "1", "unit_price": "25.00", "account": "4000"},
            ],
        }
        invoice = self._post(f"{self.base}/invoices", body, "POST invoice (issued)")
        if invoice is not None:
            self.unpaid.append((invoice["id"], invoice["customer"], invoice["total"], invoice["date"]))

    @task(2)
    def record_payment(self) -> None:
        if not self.unpaid:
            return
        invoice_id, customer, total, date = self.unpaid.pop()
        body = {
            "customer": customer,
            "date": date,
            "amount": total,
            "allocations": [{"invoice": invoice_id, "amount": total}],
        }
        self._post(f"{self.base}/payments", body, "POST payment (allocated)")
