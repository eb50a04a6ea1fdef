"""GOV.UK pagination parameters for a paged list: first, last, and the pages either side of
the current one, with ellipses between, and previous/next links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def govuk_pagination(
    page: int, pages: int, href: Callable[[int], str], label: str
) -> dict[str, Any] | None:
    """The ``govukPagination`` parameters for ``page`` of ``pages`` (None for one page)."""
    if pages <= 1:
        return None
    items: list[dict[str, Any]] = []
    previous = 0
    for n in sorted({1, pages, page - 1, page, page + 1} & set(range(1, pages + 1))):
        if n - previous > 1:
            items.append({"ellipsis": True})
        items.append({"number": n, "href": href(n), "current": n == page})
        previous = n
    result: dict[str, Any] = {"items": items, "landmarkLabel": label}
    if page > 1:
        result["previous"] = {"href": href(page - 1)}
    if page < pages:
        result["next"] = {"href": href(page + 1)}
    return result
