"""Random orders of the steps of one amendment across two real node stores: KOR proposes, the
outboxes are delivered either way, JPN countersigns, and any step may come again. After every
step, each node's state of the proposal and its notice period at the amendment's instant are
what an independent model of the protocol (written here, from the rules) says. Derandomized
(the profile in conftest); each example builds two real node stores."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.model.facts.cosignature import ProposalState
from accord.service.deliverer import Deliverer
from accord.store import outbox
from tests.test_node_amend import AT, P90D, P180D, Back, _amendment, _of, _period
from tests.test_node_apply import make_pair

STEPS = ("propose", "kor-to-jpn", "countersign", "jpn-to-kor")


class Model:
    """What each node holds: the shares it has (by party), and what waits in each outbox."""

    def __init__(self) -> None:
        self.kor: set[str] = set()
        self.jpn: set[str] = set()
        self.kor_out: set[str] = set()  # shares queued on KOR for JPN, not delivered
        self.jpn_out: set[str] = set()

    def step(self, step: str) -> None:
        if step == "propose" and "KOR" not in self.kor:
            self.kor.add("KOR")
            self.kor_out.add("KOR")
        elif step == "kor-to-jpn":
            self.jpn |= self.kor_out
            self.kor_out.clear()
        elif step == "countersign" and "KOR" in self.jpn and "JPN" not in self.jpn:
            self.jpn.add("JPN")
            self.jpn_out.add("JPN")
        elif step == "jpn-to-kor":
            self.kor |= self.jpn_out
            self.jpn_out.clear()


def _state_of(shares: set[str], own: str) -> ProposalState | None:
    if not shares:
        return None
    if shares == {"KOR", "JPN"}:
        return ProposalState.APPLIED
    return ProposalState.AWAITING if own in shares else ProposalState.TO_COUNTERSIGN


@settings(max_examples=12, deadline=None)
@given(st.lists(st.sampled_from(STEPS), min_size=1, max_size=7))
def test_each_node_holds_and_applies_what_the_model_of_the_protocol_says(steps: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        pair = make_pair(Path(folder))
        model = Model()
        for step in steps:
            proposal = None
            if step == "propose":
                _of(pair.kor).propose(_amendment())
            elif step == "kor-to-jpn":
                pair.arrival = AT
                wire = pair.kor_wire
                Deliverer(
                    wire.node.exchange, wire.identity, wire._keys, pair, wire.settings
                ).deliver("JPN", AT)
            elif step == "countersign":
                found = _of(pair.jpn).proposals()
                if found:
                    proposal = _of(pair.jpn).countersign(found[0].id)
            else:
                Back(pair).deliver(AT)
            model.step(step)
            if proposal is not None:
                assert proposal.state is _state_of(model.jpn, "JPN")
            for made, held, own in ((pair.kor, model.kor, "KOR"), (pair.jpn, model.jpn, "JPN")):
                found = _of(made).proposals()
                expected = _state_of(held, own)
                assert [p.state for p in found] == ([] if expected is None else [expected])
                applied = expected is ProposalState.APPLIED
                assert _period(made, AT) == (P180D if applied else P90D)
            with pair.kor.node.exchange.store.transaction() as tx:
                waiting = [q for q in outbox.queued(tx, "JPN") if q.delivered_at is None]
            assert len(waiting) == len(model.kor_out)
