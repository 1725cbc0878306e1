"""Typed settings of one API server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """``at`` freezes the exchange's clock at that instant (``accord serve --at``)."""

    db_url: str
    at: datetime | None = None
    max_content_length: int = 10 * 1024 * 1024
    default_page_size: int = 100
    max_page_size: int = 1000
    title: str = "accord"
