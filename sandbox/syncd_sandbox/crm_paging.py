"""Pagination in the sandbox CRM: ``limit`` among the allowed sizes, ``page`` from 1.

Lists answer ``pagination: {limit, totalCount, currentPage, totalPageCount}``;
a ``limit`` other than 20, 50 or 100 (250 where an endpoint allows it) is
refused 400 naming ``limit`` (shared/reference/retailcrm-api.md §1.6).

    limit, page = paging(params)
    body = {"success": True, "pagination": pagination(len(found), limit, page), ...}
"""

from __future__ import annotations

from syncd_sandbox.crm_state import CrmRefusal

PAGE_LIMITS = (20, 50, 100)


def paging(p: dict, allowed: tuple[int, ...] = PAGE_LIMITS) -> tuple[int, int]:
    limit = int(p.get("limit") or 20)
    if limit not in allowed:
        raise CrmRefusal(
            400,
            "Errors in the input parameters",
            {"limit": f"The value must be one of {list(allowed)}"},
        )
    return limit, max(1, int(p.get("page") or 1))


def pagination(total: int, limit: int, page: int) -> dict:
    pages = max(1, -(-total // limit))
    return {"limit": limit, "totalCount": total, "currentPage": page, "totalPageCount": pages}


def page_of(items: list, limit: int, page: int) -> list:
    return items[(page - 1) * limit : page * limit]
