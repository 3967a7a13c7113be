"""`updated_at` of customers, items, tax rates, invoices and payments is stamped by the database on
every change, whatever writes it, and read as an index range for `updated_since` (syncing).

Django's `auto_now` stamps a row only when the column is among a save's `update_fields`, and a
queryset `update()` or raw SQL never stamps it: a change written so would be missed by a client
syncing with `updated_since`. A trigger now stamps every UPDATE: PostgreSQL with the
transaction's start (`now()`, as every row one change writes is stamped alike), SQLite with the
statement's time when the writer left the column as it was.
"""

from django.db import migrations, models

from sofinance.migration_ops import vendor_sql

TABLES = ["sales_customer", "sales_item", "sales_taxrate", "sales_invoice", "sales_payment"]

POSTGRES_FORWARD = (
    r"""
CREATE OR REPLACE FUNCTION sales_stamp_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""
    + "\n".join(
        f"CREATE TRIGGER {table}_stamp BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION sales_stamp_updated_at();"
        for table in TABLES
    )
)
POSTGRES_REVERSE = "\n".join(f"DROP TRIGGER IF EXISTS {table}_stamp ON {table};" for table in TABLES) + (
    "\nDROP FUNCTION IF EXISTS sales_stamp_updated_at();"
)

# Django writes SQLite date-times as "YYYY-MM-DD HH:MM:SS.ffffff" in UTC.
SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER {table}_stamp AFTER UPDATE ON {table}
    WHEN NEW.updated_at IS OLD.updated_at
    BEGIN UPDATE {table} SET updated_at = strftime('%Y-%m-%d %H:%M:%f000', 'now') WHERE id = NEW.id; END;
    """
    for table in TABLES
]


class Migration(migrations.Migration):
    dependencies = [("sales", "0002_sales_invariant_triggers")]

    operations = [
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["company", "updated_at"], name="customer_company_updated_idx"),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(fields=["company", "updated_at"], name="invoice_company_updated_idx"),
        ),
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(fields=["company", "updated_at"], name="payment_company_updated_idx"),
        ),
        vendor_sql(
            postgresql=(POSTGRES_FORWARD, POSTGRES_REVERSE),
            sqlite=(SQLITE_FORWARD, [f"DROP TRIGGER IF EXISTS {table}_stamp" for table in TABLES]),
        ),
    ]
