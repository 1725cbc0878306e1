"""A scenario's checks of markings, duties and investigations (Art. 6(g), 6(h), 17).

Each returns None when the exchange answers as the scenario expects, else what differs.
"""

from __future__ import annotations

from accord.model.duties import Duty
from accord.model.time import iso
from accord.scenario.spec import ArticleCheck, DutyCheck, InvestigationCheck, MarkingCheck
from accord.service.exchange import Exchange


def check_article(exchange: Exchange, check: ArticleCheck) -> str | None:
    if isinstance(check, MarkingCheck):
        return _marking(exchange, check)
    if isinstance(check, DutyCheck):
        return _duty(exchange, check)
    return _investigation(exchange, check)


def _marking(exchange: Exchange, check: MarkingCheck) -> str | None:
    what = f"marking of {check.party}'s copy of {check.item} at {iso(check.at)}"
    found = exchange.marking(check.item, check.party, check.at)
    if found is None:
        return f"{what}: expected {check.level}, but {check.party} holds no copy"
    flag = found.flag.value if found.flag else ""
    problems = []
    if found.level != check.level:
        problems.append(f"level {check.level}, got {found.level}")
    if check.flag is not None and flag != check.flag:
        problems.append(f"flag {check.flag or 'none'}, got {flag or 'none'}")
    return f"{what}: expected " + "; expected ".join(problems) if problems else None


def _matches(duty: Duty, check: DutyCheck) -> bool:
    return (
        duty.kind is check.kind
        and (check.item is None or duty.item == check.item)
        and (check.agreement is None or duty.agreement == check.agreement)
    )


def _duty(exchange: Exchange, check: DutyCheck) -> str | None:
    what = f"duty {check.kind.value} of {check.party}" + (f" on {check.item}" if check.item else "")
    owed = [d for d in exchange.duties(check.party, check.at) if _matches(d, check)]
    if not owed:
        return f"{what} at {iso(check.at)}: expected one due {iso(check.due)}, found none"
    due = [d for d in owed if d.due == check.due]
    if not due:
        got = ", ".join(iso(d.due) for d in owed)
        return f"{what} at {iso(check.at)}: expected due {iso(check.due)}, got due {got}"
    duty = due[0]
    problems = []
    if check.state is not None and duty.state is not check.state:
        problems.append(f"state {check.state.value}, got {duty.state.value}")
    if check.late is not None and duty.late != check.late:
        problems.append(f"late {str(check.late).lower()}, got {str(duty.late).lower()}")
    return (
        f"{what} at {iso(check.at)}: expected " + "; expected ".join(problems) if problems else None
    )


def _investigation(exchange: Exchange, check: InvestigationCheck) -> str | None:
    what = f"investigation of {check.party}'s copy of {check.item} at {iso(check.at)}"
    found = exchange.investigation(check.item, check.party, check.at)
    state = found.state if found is not None else None
    if state != check.state:
        wanted = check.state.value if check.state else "none"
        return f"{what}: expected {wanted}, got {state.value if state else 'none'}"
    if found is None:
        return None
    problems = []
    if check.result is not None and found.result != check.result:
        got = found.result.value if found.result else "none"
        problems.append(f"result {check.result.value}, got {got}")
    if check.reported_late is not None and found.reported_late != check.reported_late:
        problems.append(f"reported_late {check.reported_late}, got {found.reported_late}")
    late = found.concluded_late(check.at)
    if check.concluded_late is not None and late != check.concluded_late:
        problems.append(f"concluded_late {check.concluded_late}, got {late}")
    return f"{what}: expected " + "; expected ".join(problems) if problems else None
