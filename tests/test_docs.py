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
from helpers import run_cli

if TYPE_CHECKING:
    from helpers import CleanEnv

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


# Parts of an output that differ from run to run; they are replaced on both sides before the
# comparison, so a page shows one real run verbatim and still cannot drift.
_VOLATILE = (
    (re.compile(r"\b\d+\.\d\d s\b"), "<seconds> s"),
    (re.compile(r"sha256:[0-9a-f]{12}"), "sha256:<fingerprint>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), "<time>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
    (re.compile(r'"secret": "[^"]*"'), '"secret": <secret>'),
    (re.compile(r"'O=trustme v[0-9.]+'"), "'O=trustme'"),
    (re.compile(r"^( *)ok( +)", re.MULTILINE), r"\1ok\2"),
)


def normalised(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


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


def check_mistakes(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """`check` on the file with mistakes shown next to it: exit 1, one line per problem."""
    config = cli_env.root / "keyringrc.cfg"
    config.write_text(example("check-config"), encoding="utf-8")
    shown = example("check-output")
    code, out, err = run_cli(capsys, "check", "--config", str(config))
    assert code == 1
    return "$ azure-artifacts-keyring check\n" + (out + err).replace(str(config), "keyringrc.cfg"), shown


APP_ID = "0f0f0f0f-0000-4000-8000-00000000c001"


def against_the_fake(cli_env: CleanEnv, *commands: list[str], unset: tuple[str, ...] = ()) -> str:
    """Each command run in a subprocess against the fake, as a CI job with a service principal
    and a host section for the fake; the transcript with the machine's paths made readable."""
    import subprocess
    import sys

    from keyrings.azure_artifacts.testing import FakeAzure

    with FakeAzure() as fake:
        fake.add_org("contoso")
        fake.add_feed("contoso", "main", packages={"demo-pkg": ["1.0.0"]})
        fake.add_app(APP_ID, secret="docs-example-secret")
        config = (
            f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n'
            f"tenant = {fake.default_tenant}\n"
        )
        env = cli_env.for_lookup(
            config,
            ca=fake.ca_path,
            CI="1",
            AZURE_CLIENT_ID=APP_ID,
            AZURE_TENANT_ID=fake.default_tenant,
            AZURE_CLIENT_SECRET="docs-example-secret",
        )
        for name in unset:
            del env[name]
        url = fake.feed_url("contoso", "main")
        transcript = []
        for command in commands:
            argv = [part if part != "URL" else url for part in command]
            done = subprocess.run(
                [sys.executable, "-m", "keyrings.azure_artifacts", *argv],
                env=env, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            transcript.append(f"$ azure-artifacts-keyring {' '.join(command)}\n{done.stdout}")
        text = "".join(transcript)
        for path, shown in (
            (fake.ca_path, "~/fake-azure-ca.pem"),
            (str(cli_env.config_path), "~/.config/python_keyring/keyringrc.cfg"),
            (str(cli_env.state_dir), "~/.local/share/python_keyring/azure-artifacts"),
            (str(cli_env.root / "config"), "~/.config"),
            (str(cli_env.home), "~"),
            (str(Path(sys.executable).parent), "~/.local/bin"),
        ):
            text = text.replace(path, shown)
        return text


def cli_session(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    commands = [["doctor", "URL"], ["status"], ["token", "URL", "--json"], ["logout", "URL"]]
    return against_the_fake(cli_env, *commands), example("cli-session")


def cli_setup(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    # `setup` refuses PIP_CONFIG_FILE=/dev/null (pip would read no file): the user's pip.conf it is.
    done = against_the_fake(
        cli_env, ["setup", "URL", "--tool", "pip", "--dry-run"], unset=("PIP_CONFIG_FILE",)
    )
    return done, example("cli-setup")


def setup_pip(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """`setup --tool pip --dry-run` for the page's URL, into the user's pip.conf."""
    import os

    shown = example("setup-pip")
    command = shown.splitlines()[0]
    url = command.split()[3]
    os.environ.pop(
        "PIP_CONFIG_FILE", None
    )  # /dev/null (pip reads no file) is refused; monkeypatch restores it
    code, out, err = run_cli(capsys, "setup", url, "--tool", "pip", "--dry-run")
    assert code == 0, err
    out = out.replace(str(cli_env.root / "config"), "~/.config")
    return f"{command}\n{out}", shown


def uv_project(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """The page's copy of the uv example project's settings: the file without its comments."""
    text = (ROOT / "examples" / "uv-project" / "pyproject.toml").read_text(encoding="utf-8")
    tail = text[text.index("[tool.uv]") :]
    lines = [line for line in tail.splitlines() if not line.lstrip().startswith("#")]
    kept = re.sub(r"\n{3,}", "\n\n", "\n".join(lines).strip() + "\n")
    return kept, example("uv-project")


def keyring_get(cli_env: CleanEnv, name: str) -> tuple[str, str]:
    """`keyring get URL USER` as the page shows it, in a clean CI job with no credential at all:
    what keyring prints on stderr and its exit code (stdout must stay empty)."""
    import subprocess
    import sys

    shown = example(name)
    command = shown.splitlines()[0]
    argv = command.split()[1:]
    env = cli_env.for_lookup(CI="1")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "keyring"), *argv[1:]],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.stdout == ""
    return f"{command}\n{done.stderr}(exit {done.returncode})\n", shown


def ci_no_credential(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    return keyring_get(cli_env, "ci-no-credential")


def url_typo(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    return keyring_get(cli_env, "url-typo")


def setup_twine(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """`setup --tool twine --dry-run` for the page's upload URL, into ~/.pypirc."""
    shown = example("setup-twine")
    command = shown.splitlines()[0]
    code, out, err = run_cli(capsys, *command.split()[2:])
    assert code == 0, err
    return f"{command}\n{out.replace(str(cli_env.home), '~')}", shown


def tls_step(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """doctor's tls line against the fake, whose CA is named by REQUESTS_CA_BUNDLE."""
    session = against_the_fake(cli_env, ["doctor", "URL"])
    line = next(line for line in session.splitlines() if line.split()[:2] == ["ok", "tls"])
    return line + "\n", example("tls-step")


def state_refused(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """`status` with a state directory others may write (POSIX): refused in one line."""
    import os
    import subprocess
    import sys

    if os.name != "posix":
        pytest.skip("owners and mode bits decide nothing on Windows")
    shared = cli_env.root / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    env = cli_env(KEYRINGS_AZURE_ARTIFACTS_STATE_DIR=str(shared))
    done = subprocess.run(
        [sys.executable, "-m", "keyrings.azure_artifacts", "status"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    text = f"$ azure-artifacts-keyring status\n{done.stderr}(exit {done.returncode})\n"
    return text.replace(str(shared), "/srv/shared"), example("state-refused")


def in_a_project(cli_env: CleanEnv, name: str) -> tuple[str, str]:
    """The page's `setup ... --dry-run` run in a new project (`~/app`, a bare pyproject.toml)."""
    import subprocess
    import sys

    shown = example(name)
    command = shown.splitlines()[0]
    project = cli_env.home / "app"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0.1.0"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "keyrings.azure_artifacts", *command.split()[2:]],
        env=cli_env(), cwd=project, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return f"{command}\n{done.stdout.replace(str(project), '~/app')}", shown


def setup_poetry(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    return in_a_project(cli_env, "setup-poetry")


def setup_pdm(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    return in_a_project(cli_env, "setup-pdm")


def explain_variables(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """`explain` with the old backends' variables set: the options they give, `env:` sources."""
    import subprocess
    import sys

    shown = example("explain-variables")
    first = shown.splitlines()[0]
    assignments = [word for word in first.split()[1:] if "=" in word]
    url = first.split()[len(assignments) + 3]
    env = cli_env(**dict(word.split("=", 1) for word in assignments))
    done = subprocess.run(
        [sys.executable, "-m", "keyrings.azure_artifacts", "explain", url],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "env:" in line]
    return first + "\n" + "".join(line + "\n" for line in lines), shown


def explain_crafted(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """`explain` on a crafted URL: the line that names the invalid name and the rule."""
    shown = example("explain-crafted")
    command = shown.splitlines()[0]
    url = command.split()[3].strip("'")
    _code, out, _err = run_cli(capsys, "explain", url)  # not ours: explain still reports, exit aside
    lines = [line for line in out.splitlines() if line.startswith("Problem")]
    return command + "\n" + "".join(line + "\n" for line in lines), shown


RUNNERS: dict[str, Callable[..., tuple[str, str]]] = {
    "explain-crafted": explain_crafted,
    "setup-poetry": setup_poetry,
    "setup-pdm": setup_pdm,
    "explain-variables": explain_variables,
    "tls-step": tls_step,
    "state-refused": state_refused,
    "ci-no-credential": ci_no_credential,
    "url-typo": url_typo,
    "setup-twine": setup_twine,
    "setup-pip": setup_pip,
    "uv-project": uv_project,
    "layered-explain": explain_layered,
    "check-output": check_mistakes,
    "cli-session": cli_session,
    "cli-setup": cli_setup,
}
INPUTS = {"layered-config", "check-config"}  # blocks that runners read, not compare


@pytest.mark.parametrize("name", sorted(RUNNERS))
def test_example_is_what_the_product_prints(
    name: str, cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    actual, shown = RUNNERS[name](cli_env, capsys)
    page = examples()[name][0].relative_to(ROOT)
    assert normalised(actual) == normalised(shown), (
        f"{page}: example {name} drifted; it now prints:\n{actual}"
    )
