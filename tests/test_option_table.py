"""One table of options: the quick parsers, the pydantic model, `Settings` and the reference are
all read from its rows, so an option is described in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from keyrings.azure_artifacts.config import options, reference, resolve, table
from keyrings.azure_artifacts.config.settings import Settings
from keyrings.azure_artifacts.urls import parse_service


def test_every_derived_list_names_the_rows_in_order() -> None:
    names = [row.name for row in table.ROWS]
    assert names == list(table.OPTION_NAMES) == list(options.OPTION_NAMES)
    assert list(options.Options.model_fields) == names
    assert [name for name, _ in Settings().items()] == names
    assert list(table.PARSERS) == names
    assert [line.split("`")[1] for line in reference.table().splitlines() if line.startswith("| `")] == names


def test_the_model_runs_each_rows_parser() -> None:
    for row in table.ROWS:
        assert table.PARSERS[row.name] is row.parse
        validators = [m.func for m in options.Options.model_fields[row.name].metadata]
        assert validators == [row.parse], row.name


def test_settings_defaults_are_the_rows_defaults() -> None:
    built_in = Settings()
    for row in table.ROWS:
        assert getattr(built_in, row.name) == row.default, row.name
        assert getattr(Settings, row.name) is row  # on the class, the attribute is the row


def test_host_only_and_duration_options_come_from_the_rows() -> None:
    assert table.HOST_ONLY_OPTIONS == ("path_prefix", "allow_http")
    assert table.DURATION_OPTIONS == ("pat_duration", "pat_renew_before", "session_duration")
    assert "only allowed in a section with a `host` qualifier" in reference.block()
    assert "`path_prefix`, `allow_http`, which are only allowed" in reference.block()


def test_a_host_only_row_is_refused_outside_host_sections(tmp_path: Path) -> None:
    path = tmp_path / "k.cfg"
    path.write_text('[artifacts org="contoso"]\nallow_http = true\n', encoding="utf-8")
    from keyrings.azure_artifacts.config.files import read_config

    problems = resolve.validate(read_config(path)).problems
    assert problems == (f'{path}: [artifacts org="contoso"] allow_http: only allowed in a host section',)


def test_url_dependent_defaults_come_from_the_row() -> None:
    download = parse_service("https://pkgs.dev.azure.com/contoso/_packaging/feed/pypi/simple/")
    upload = parse_service("https://pkgs.dev.azure.com/contoso/_packaging/feed/pypi/upload/")
    assert download is not None and upload is not None
    assert table.OptionTable.scopes.default_for(download) == ("vso.packaging",)
    assert table.OptionTable.scopes.default_for(upload) == ("vso.packaging_write",)
    assert table.OptionTable.vssps_url.default_for(download) == "https://vssps.dev.azure.com/contoso"
    assert table.OptionTable.timeout.default_for(download) == 20.0
    assert table.OptionTable.scopes.default_for(None) == ("vso.packaging",)


def test_compatibility_variables_are_listed_on_their_rows() -> None:
    variables = {variable: row.name for row in table.ROWS for variable, _ in row.compat}
    assert variables == {
        "KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN": "auth",
        "AZURE_AUTHORITY_HOST": "authority_host",
        "AZURE_DEVOPS_PAT_SCOPE": "scopes",
        "AZURE_DEVOPS_PAT_DURATION": "pat_duration",
        "ARTIFACTS_KEYRING_NONINTERACTIVE_MODE": "interactive",
    }
    assert resolve.env_options is table.env_options


def test_settings_are_read_only_and_override_copies() -> None:
    settings = Settings(auth="pat", sources={"auth": "artifacts"})
    with pytest.raises(AttributeError):
        settings.auth = "bearer"  # type: ignore[misc]
    changed = settings.override("interactive", "always", "--interactive")
    assert (changed.auth, changed.interactive) == ("pat", "always")
    assert changed.sources == {"auth": "artifacts", "interactive": "--interactive"}
    assert settings.interactive == "auto" and settings.sources == {"auth": "artifacts"}


def test_settings_compare_values_not_sources() -> None:
    assert Settings(auth="pat", sources={"auth": "artifacts"}) == Settings(auth="pat")
    assert Settings(auth="pat") != Settings(auth="bearer")
    assert Settings(host_sets_entra=True) != Settings()
    assert hash(Settings(auth="pat")) == hash(Settings(auth="pat", sources={"auth": "x"}))


def test_an_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="unknown option colour"):
        Settings(colour="blue")


def test_no_option_shadows_what_settings_itself_has() -> None:
    own = {name for name in vars(Settings) if not name.startswith("_")} | {"sources", "host_sets_entra"}
    assert not own & set(table.OPTION_NAMES)


def test_each_default_has_its_parsers_type() -> None:
    """mypy infers a row's type from its parser and default together, so a default of the wrong
    type would widen it quietly; this holds them to one type."""
    import typing

    for row in table.ROWS:
        if row.default is None:
            continue
        returned = typing.get_type_hints(row.parse)["return"]
        kind = typing.get_origin(returned) or returned
        if kind is typing.Union:  # Optional[X]
            kind = next(arg for arg in typing.get_args(returned) if arg is not type(None))
        assert type(row.default) is kind, (row.name, row.default, returned)
