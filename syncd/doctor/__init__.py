"""``syncd check``, the doctor: can syncd run with this configuration, here, now?

Each check is a small function returning a ``Check`` (name, ok, detail, fix):
the store answers and is migrated; 1C answers, syncd's user logs in, what the
mappings and sources use is published, the exchange-plan node exists; the
CRM answers, the key is valid and has the scopes and site the flows need,
the mapped statuses exist; the webhook secret is set when webhooks are
served; both systems' clocks agree with this host's.  ``runner`` picks the
checks that apply and runs them side by side, each within a time limit.

    checks = run_checks(DoctorContext(settings, Limits(timeout=15), "/etc/syncd/syncd.yaml"))
"""

from syncd.doctor.context import DoctorContext, Limits
from syncd.doctor.result import Check
from syncd.doctor.runner import run_checks

__all__ = ["Check", "DoctorContext", "Limits", "run_checks"]
