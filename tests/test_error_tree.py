"""The error tree: every class has a category, and both edges (HTTP statuses, exit codes) map
every category in their one table. Integrity and key failures are server-side (500, nothing
said); the store being unavailable is 503 with Retry-After."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import accord
import accord.api.errors as api_errors
import accord.errors as domain
from accord.api.errors import TABLE as HTTP_TABLE
from accord.api.errors import describe
from accord.cli import exits
from accord.cli.exits import TABLE as EXIT_TABLE
from accord.cli.exits import exit_code
from accord.errors import AccordError, Category
from accord.model.launch import InvalidLaunchEvent


def _tree(root: type[AccordError]) -> list[type[AccordError]]:
    found, stack = [], [root]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def _mapped(table: object) -> set[Category]:
    return {match for match, _ in table if isinstance(match, Category)}  # type: ignore[attr-defined]


def _example(cls: type[AccordError]) -> AccordError:
    if issubclass(cls, domain.ScenarioInvalid):
        return cls("bad", file="f.yaml")
    if issubclass(cls, domain.Refused):
        return cls("no", ("r",))
    if issubclass(cls, api_errors.Unprocessable):
        return cls("no", {})
    if issubclass(cls, (api_errors.TooManyRequests,)):
        return cls("wait", 7)
    if issubclass(cls, api_errors.MethodNotAllowed):
        return cls("no", ("GET",))
    if issubclass(cls, InvalidLaunchEvent):
        return cls("apogee_km", "message that must not leak")
    return cls("message that must not leak")


# every module of the package, so that every error class anyone defines is in the tree
for _module in pkgutil.walk_packages(accord.__path__, "accord."):
    if _module.name != "accord.__main__":
        importlib.import_module(_module.name)
TREE = _tree(AccordError)
LEAVES = [cls for cls in TREE if not cls.__subclasses__()]


def test_the_tree_is_walked() -> None:
    names = {cls.__name__ for cls in TREE}
    assert {"IntegrityError", "KeyUnavailable", "NotFound", "TooManyRequests"} <= names
    assert len(LEAVES) >= 15


@pytest.mark.parametrize("cls", TREE, ids=lambda c: c.__name__)
def test_every_class_has_a_category_both_edges_map(cls: type[AccordError]) -> None:
    assert isinstance(cls.category, Category), cls
    assert cls.category in _mapped(HTTP_TABLE), f"{cls.__name__}: no HTTP row for its category"
    assert cls.category in _mapped(EXIT_TABLE), f"{cls.__name__}: no exit row for its category"


def test_every_category_is_mapped_at_both_edges() -> None:
    assert _mapped(HTTP_TABLE) == set(Category) == _mapped(EXIT_TABLE)


@pytest.mark.parametrize(
    "cls",
    [
        domain.IntegrityError,
        domain.KeyUnavailable,
        domain.KeyMismatch,
        domain.ProofInvalid,
        domain.CheckpointInvalid,
    ],
    ids=lambda c: c.__name__,
)
def test_integrity_and_key_failures_are_server_side_and_say_nothing(
    cls: type[AccordError],
) -> None:
    status, body, headers = describe(cls("ciphertext of item x failed its check"))
    assert status == 500 and headers == {}
    assert body == {
        "title": "Internal Server Error",
        "description": "The server hit an internal error.",
        "error_code": "internal",
        "http_status": "500",
    }


def test_unavailable_is_503_with_retry_after() -> None:
    status, body, headers = describe(domain.StoreError("the disk is full"))
    assert status == 503 and headers == {"Retry-After": "1"}
    assert "disk" not in body["description"]

    class Busy(domain.StoreError):  # what a retryable conflict looks like at this edge
        retry_after = 3

    assert describe(Busy("x"))[2] == {"Retry-After": "3"}


@pytest.mark.parametrize("cls", LEAVES, ids=lambda c: c.__name__)
def test_no_message_leaks_unless_the_api_wrote_it(cls: type[AccordError]) -> None:
    status, body, _ = describe(_example(cls))
    assert 400 <= status < 600
    if not issubclass(cls, api_errors.ApiError):
        assert "must not leak" not in body["description"]


def test_exit_codes_keep_their_numbers() -> None:
    assert exit_code(domain.Refused("no", ())) == exits.DENIED == 1
    assert exit_code(domain.InvalidInput("x")) == exits.INVALID == 2
    assert exit_code(domain.UnknownReference("x")) == 2
    assert exit_code(domain.OutOfOrder("x")) == 2
    assert exit_code(domain.StoreError("x")) == exits.STORE == 3
    assert exit_code(domain.KeyUnavailable("x")) == 4
    assert exit_code(domain.KeyMismatch("x")) == 5
    assert exit_code(domain.IntegrityError("x")) == 6
    assert exit_code(domain.ProofInvalid("x")) == 7
    assert exit_code(domain.CheckpointInvalid("x")) == 8


def test_http_statuses_of_the_domain() -> None:
    cases = {
        domain.Unauthenticated("x"): 401,
        domain.Refused("x", ()): 422,
        domain.UnknownReference("x"): 404,
        domain.DuplicateId("x"): 409,
        domain.OutOfOrder("x"): 409,
        domain.InvalidInput("x"): 400,
        api_errors.TooManyRequests("x", 5): 429,
    }
    for error, status in cases.items():
        assert describe(error)[0] == status, error
    assert describe(api_errors.TooManyRequests("x", 5))[2] == {"Retry-After": "5"}
    assert describe(domain.Unauthenticated("x"))[2]["WWW-Authenticate"].startswith("Basic")
    assert describe(ValueError("boom"))[0] == 500


def test_a_subclass_with_its_own_category_gets_that_categorys_row() -> None:
    class Retryable(domain.OutOfOrder):  # e.g. another process wrote first: retry
        category = Category.UNAVAILABLE
        retry_after = 2

    status, _, headers = describe(Retryable("x"))
    assert (status, headers) == (503, {"Retry-After": "2"})
    assert exit_code(Retryable("x")) == exits.STORE
    assert describe(domain.OutOfOrder("x"))[0] == 409
