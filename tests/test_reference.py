"""The configuration reference in the docs is the one generated from the validation model."""

from __future__ import annotations

from pathlib import Path

import pytest

from keyrings.azure_artifacts.config import reference
from keyrings.azure_artifacts.config.table import OPTION_NAMES, ROWS

ROOT = Path(__file__).resolve().parent.parent


def assert_reference_current(path: Path) -> None:
    """The block between the reference markers in `path` is exactly the generated one."""
    text = path.read_text(encoding="utf-8")
    try:
        found = reference.between_markers(text)
    except ValueError:
        pytest.fail(
            f"{path}: no {reference.START} ... {reference.END} block; paste `{reference.REGENERATE}`'s block"
        )
    assert found == reference.block(), (
        f"{path}: the configuration reference is stale; regenerate it with `{reference.REGENERATE}` "
        "(and copy the marked block into any other file that carries it)"
    )


def test_docs_configuration_is_current() -> None:
    assert_reference_current(ROOT / "docs" / "configuration.md")


def test_docs_configuration_is_the_whole_generated_document() -> None:
    assert (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8") == reference.document()


def test_every_option_is_described() -> None:
    for row in ROWS:
        assert row.values.strip() and row.what.strip(), row.name
        assert "|" not in row.name and "\n" not in row.values + row.what + row.default_text, row.name


def test_one_row_per_option_in_table_order() -> None:
    rows = [line for line in reference.table().splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == list(OPTION_NAMES)


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("auth", "`session`"),
        ("pat_duration", "`30d`"),
        ("pat_renew_before", "`3d`"),
        ("session_duration", "`4h`"),
        ("timeout", "`20`"),
        ("allow_http", "`false`"),
        ("credential", "`auto`"),
        ("username", "`VssSessionToken`"),
    ],
)
def test_defaults_come_from_the_resolver(option: str, expected: str) -> None:
    assert reference.default_text(option) == expected


def test_a_stale_copy_is_caught(tmp_path: Path) -> None:
    stale = tmp_path / "README.md"
    stale.write_text("# x\n\n" + reference.block().replace("`30d`", "`31d`") + "\nmore\n", encoding="utf-8")
    with pytest.raises(AssertionError):
        assert_reference_current(stale)

    current = tmp_path / "README2.md"
    current.write_text("# x\n\n" + reference.block() + "\nmore\n", encoding="utf-8")
    assert_reference_current(current)


def test_missing_markers_fail(tmp_path: Path) -> None:
    bare = tmp_path / "README.md"
    bare.write_text("# nothing here\n", encoding="utf-8")
    with pytest.raises(pytest.fail.Exception):
        assert_reference_current(bare)
