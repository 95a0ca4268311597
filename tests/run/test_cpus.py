from __future__ import annotations

import pytest

from twinbench.errors import UsageError
from twinbench.run.cpus import available_cpus, check_available, format_cpu_list, parse_cpu_list


@pytest.mark.parametrize(
    ("text", "cpus"), [("0", (0,)), ("1,0", (0, 1)), ("0-2,5", (0, 1, 2, 5)), (" 3 ", (3,))]
)
def test_parse(text: str, cpus: tuple[int, ...]) -> None:
    assert parse_cpu_list(text) == cpus


@pytest.mark.parametrize("text", ["", "a", "1,", "3-1", "-1", "0-x"])
def test_parse_rejects_naming_the_value(text: str) -> None:
    with pytest.raises(UsageError, match="bad CPU list"):
        parse_cpu_list(text)


def test_check_available() -> None:
    have = available_cpus()
    assert check_available(have) == have
    with pytest.raises(UsageError, match="CPU 4096 is not available"):
        check_available((4096,))


def test_format() -> None:
    assert format_cpu_list((0, 1)) == "0,1"
    assert format_cpu_list(None) == "any"
