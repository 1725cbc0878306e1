"""The web console's vocabulary: how an agreement is drawn at an instant."""

from __future__ import annotations

from enum import StrEnum


class EdgeState(StrEnum):
    """An agreement's state as the console draws it: the lifecycle status, with an in-force
    agreement whose termination notice is suspended told apart from one with no notice."""

    NOT_YET_IN_FORCE = "not_yet_in_force"
    IN_FORCE = "in_force"
    NOTICE_PENDING = "notice_pending"
    SUSPENDED_NOTICE = "suspended_notice"
    TERMINATED = "terminated"
