"""Every write of the jobs app: integrity runs and discrepancies (`integrity`), exports (`exports`).

Views, the admin, tasks and commands call these; each writes in its own transaction(s) with its
audit events, and never changes the books: a correction is proposed as a draft entry only.
"""

from jobs.services.exports import (
    KIND_PARAMETERS,
    export_fail,
    export_format_default,
    export_parameters_parse,
    export_request,
    exports_purge_expired,
)
from jobs.services.exports import export_execute as export_execute
from jobs.services.integrity import (
    AUDIT_CHAIN_BROKEN,
    DISCREPANCY_KINDS,
    discrepancy_resolve,
    integrity_run_execute,
    integrity_run_fail,
    integrity_run_request,
    integrity_runs_request_all,
)

__all__ = [
    "AUDIT_CHAIN_BROKEN",
    "DISCREPANCY_KINDS",
    "KIND_PARAMETERS",
    "discrepancy_resolve",
    "export_execute",
    "export_fail",
    "export_format_default",
    "export_parameters_parse",
    "export_request",
    "exports_purge_expired",
    "integrity_run_execute",
    "integrity_run_fail",
    "integrity_run_request",
    "integrity_runs_request_all",
]
