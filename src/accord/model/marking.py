"""A copy's marking (R2) and the banner it is shown under, and the outcome of a copy's check.

The banner follows the pattern of classification banners (classification first, then control
markings separated by ``//``), with accord's three parts of a marking:

    極秘 (JPN) // ORIGINATOR KOR 군사II급비밀 // REL TO JPN, USA

the holder's own level with the holder's code, the originator and its level, and the
originator's releasable-to caveat (R5). A copy whose caveat names no party says
``REL TO NONE`` (originator only). The banner is shown above and below the content of every
read; the same fields are carried in JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from accord.model.item import Holding, Item


@dataclass(frozen=True, slots=True)
class Marking:
    """What a copy is marked with: the holder and its level, the originator and its level, and
    the originator's caveat."""

    holder: str
    holder_level: str
    originator: str
    originator_level: str
    releasable_to: tuple[str, ...]  # sorted

    @classmethod
    def of(cls, holding: Holding, item: Item) -> Marking:
        return cls(
            holding.party,
            holding.level,
            holding.originator,
            holding.originator_level,
            tuple(sorted(item.releasable_to)),
        )

    def banner(self) -> str:
        rel = ", ".join(self.releasable_to) if self.releasable_to else "NONE"
        return (
            f"{self.holder_level} ({self.holder}) // ORIGINATOR {self.originator}"
            f" {self.originator_level} // REL TO {rel}"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "holder": self.holder,
            "holder_level": self.holder_level,
            "originator": self.originator,
            "originator_level": self.originator_level,
            "releasable_to": list(self.releasable_to),
            "banner": self.banner(),
        }


class Integrity(StrEnum):
    """Whether a copy passed its check: its data key unwrapped with the holder's key, its
    envelope decrypted against its metadata, and its originator's signature verified."""

    VERIFIED = "verified"
    FAILED = "failed"
    NOT_CHECKED = "not-checked"
