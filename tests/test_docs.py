"""The documentation cannot drift from the product.

- Every page under docs/ is in the site's navigation and every navigation entry exists.
- Every relative link in README.md and docs/ reaches a file, and every `#anchor` a heading.
- A code block marked `<!-- example: NAME -->` is what the product prints: each NAME has a
  runner below that produces the block from the real command (against the fake where it needs
  a network), and the page must show exactly that, after the normalisations each runner names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import pytest
from conftest import run_cli

if TYPE_CHECKING:
    from conftest import CleanEnv

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_EXAMPLE = re.compile(r"<!-- example: ([a-z0-9-]+) -->\n\n((?:    .*\n|\n)+)")


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def nav_entries() -> list[str]:
    """The `.md` files mkdocs.yml's nav names (a flat read; the nav is plain `title: file.md`)."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text.split("\nnav:\n", 1)[1]
    return re.findall(r":\s+([\w/.-]+\.md)\s*$", nav, flags=re.MULTILINE)


def test_every_page_is_in_the_navigation_and_every_entry_exists() -> None:
    listed = nav_entries()
    assert len(listed) == len(set(listed)), "a page is listed twice in mkdocs.yml"
    on_disk = {str(p.relative_to(DOCS)) for p in pages()}
    assert set(listed) == on_disk, (
        f"missing from nav: {sorted(on_disk - set(listed))}; nav names absent files: {sorted(set(listed) - on_disk)}"
    )


def slug(heading: str) -> str:
    """The anchor Python-Markdown's toc extension gives a heading (mkdocs' default slugify)."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[\s-]+", "-", text).strip("-")


def anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    found: set[str] = set()
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and re.match(r"^#{1,6} ", line):
            found.add(slug(line.lstrip("#")))
    return found


def links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("    "))  # code blocks
    text = re.sub(r"`[^`\n]*`", "", text)
    return _LINK.findall(text)


@pytest.mark.parametrize("page", [ROOT / "README.md", *pages()], ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_reach_a_file_and_a_heading(page: Path) -> None:
    broken = []
    for target in links(page):
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto:
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading with anchor #{anchor}")
    assert not broken, f"{page.relative_to(ROOT)}: {broken}"


def examples() -> dict[str, tuple[Path, str]]:
    """NAME -> (page, block text without its 4-space indent)."""
    found: dict[str, tuple[Path, str]] = {}
    for page in [ROOT / "README.md", *pages()]:
        for name, block in _EXAMPLE.findall(page.read_text(encoding="utf-8")):
            assert name not in found, f"example {name} is marked twice"
            text = "\n".join(line[4:] for line in block.rstrip("\n").splitlines())
            found[name] = (page, text + "\n")
    return found


def test_every_marked_example_has_a_runner() -> None:
    assert set(examples()) == set(RUNNERS) | set(INPUTS)


# --- the runners -------------------------------------------------------------------------


def example(name: str) -> str:
    return examples()[name][1]


def explain_layered(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """`explain` for the layered file, on a machine without az and without a terminal."""
    config = cli_env.root / "keyringrc.cfg"
    config.write_text(example("layered-config"), encoding="utf-8")
    shown = example("layered-explain")
    command = shown.splitlines()[0]
    url = command.split()[-1]
    code, out, err = run_cli(capsys, "explain", url, "--config", str(config))
    assert code == 0, err
    doc_config = re.search(r"^Config    (.*) \(exists\)$", shown, re.MULTILINE)
    assert doc_config is not None
    out = out.replace(str(config), doc_config.group(1))
    return f"{command}\n{out}", shown


RUNNERS: dict[str, Callable[..., tuple[str, str]]] = {"layered-explain": explain_layered}
INPUTS = {"layered-config"}  # blocks that runners read, not compare


@pytest.mark.parametrize("name", sorted(RUNNERS))
def test_example_is_what_the_product_prints(
    name: str, cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    actual, shown = RUNNERS[name](cli_env, capsys)
    assert actual == shown, f"{examples()[name][0].relative_to(ROOT)}: example {name} drifted"
