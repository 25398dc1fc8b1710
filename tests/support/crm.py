"""Shared RetailCRM test fixtures."""

from __future__ import annotations


def partial_upload(errors: list[str], uploaded: list[dict], failed: list[str]) -> dict:
    """The body of a 460 answer to orders/upload, as RetailCRM sends it."""
    return {
        "success": False,
        "errorMsg": "Orders are loaded with errors",
        "errors": errors,
        "uploadedOrders": uploaded,
        "failedOrders": [{"externalId": ext} for ext in failed],
    }


def history_source(name: str = "crm_orders", interval_seconds: float = 60, **options) -> dict:
    """A ``retailcrm_history`` source entry for a test config."""
    return {
        "name": name,
        "kind": "retailcrm_history",
        "system": "crm",
        "interval_seconds": interval_seconds,
        "options": options,
    }
