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
