"""The warm path's fingerprint changes with every variable the settings read."""

from __future__ import annotations

from pathlib import Path


class _Recording(dict[str, str]):
    """An environment that remembers every variable asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)


def test_warm_fingerprint_covers_every_variable_the_settings_read(tmp_path: Path) -> None:
    """A compatibility variable added to the settings but not to the warm path's list would let
    the warm path hand back a decision made under the old value."""
    from keyrings.azure_artifacts import fastpath
    from keyrings.azure_artifacts.config.resolve import env_options

    environ = _Recording()
    env_options(environ)
    assert environ.asked, "env_options read no variable: the recording no longer works"
    assert environ.asked <= set(fastpath.RELEVANT_ENV)
    service = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"
    config = tmp_path / "keyringrc.cfg"
    base = fastpath.fingerprint(service, config, {})
    for name in sorted(environ.asked):
        assert fastpath.fingerprint(service, config, {name: "true"}) != base, name
