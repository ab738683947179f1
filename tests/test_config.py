"""Configuration: sections, qualifiers, weights, layering, validation, env variables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts.config import values
from keyrings.azure_artifacts.config.files import ENV_CONFIG, host_rules, read_config
from keyrings.azure_artifacts.config.options import OPTION_NAMES, validate_options
from keyrings.azure_artifacts.config.resolve import Resolution, validate
from keyrings.azure_artifacts.config.sections import is_ours, parse_qualifiers

if TYPE_CHECKING:
    from conftest import CleanEnv

CONFIGS = Path(__file__).parent / "configs"
CONTOSO_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, clean_env: CleanEnv) -> None:
    """Nothing here reads or writes the machine's own keyring config or data root."""
    clean_env.install(monkeypatch, clean_env())


def resolved(url: str, config: str | Path, **env: str) -> Resolution:
    environ = {ENV_CONFIG: str(CONFIGS / config if isinstance(config, str) else config), **env}
    resolution = service.resolve(url, environ)
    assert resolution is not None, url
    return resolution


def feed_url(org: str = "contoso", feed: str = "release", project: str = "", view: str = "") -> str:
    project_part = f"{project}/" if project else ""
    view_part = f"@{view}" if view else ""
    return f"https://pkgs.dev.azure.com/{org}/{project_part}_packaging/{feed}{view_part}/pypi/simple/"


# --- layering -----------------------------------------------------------------------------------


def test_spec_example_layers_option_by_option() -> None:
    r = resolved(feed_url("contoso", "release"), "layered.cfg")
    assert r.errors == ()
    s = r.settings
    assert (s.auth, s.sources["auth"]) == ("pat", 'artifacts org="contoso" feed="release"')
    assert (s.pat_duration, s.sources["pat_duration"]) == (
        90 * 86400,
        'artifacts org="contoso" feed="release"',
    )
    assert s.scopes == ("vso.packaging_write",)
    assert (s.tenant, s.sources["tenant"]) == (CONTOSO_TENANT, 'artifacts org="contoso"')
    assert (s.session_duration, s.sources["session_duration"]) == (12 * 3600, 'artifacts org="contoso"')
    assert (s.timeout, s.sources["timeout"]) == (10.0, "artifacts")
    assert (s.credential, s.sources["credential"]) == (("auto",), "default")
    assert (s.username, s.sources["username"]) == ("VssSessionToken", "default")
    assert (s.pat_renew_before, s.sources["pat_renew_before"]) == (3 * 86400, "default")
    assert (s.interactive, s.sources["interactive"]) == ("auto", "default")
    assert s.vssps_url == "https://vssps.dev.azure.com/contoso"
    assert {name for name, _ in s.items()} == set(s.sources) == set(OPTION_NAMES)


def test_other_feed_of_same_org_gets_org_and_root_only() -> None:
    s = resolved(feed_url("contoso", "main"), "layered.cfg").settings
    assert (s.auth, s.sources["auth"]) == ("session", "artifacts")
    assert s.tenant == CONTOSO_TENANT
    assert (s.pat_duration, s.sources["pat_duration"]) == (30 * 86400, "default")
    assert (s.scopes, s.sources["scopes"]) == (("vso.packaging",), "default")


def test_other_org() -> None:
    s = resolved(feed_url("fabrikam", "release"), "layered.cfg").settings
    assert s.auth == "bearer"
    assert s.credential == ("managed_identity",)
    assert s.client_id == "00000000-0000-0000-0000-000000000001"
    assert (s.tenant, s.sources["tenant"]) == (None, "default")


def test_section_reports_applies_weight_and_reason() -> None:
    r = resolved(feed_url("contoso", "release", project="Web", view="Release"), "layered.cfg")
    reports = {report.name: report for report in r.sections}
    assert set(reports) == {
        "artifacts",
        'artifacts org="contoso"',
        'artifacts org="contoso" feed="release"',
        'artifacts org="fabrikam"',
        "artifacts org='contoso' project='web'",
        'artifacts view="Release"',
    }, "[backend] and [other-plugin] are not ours"
    assert reports["artifacts"].applies and reports["artifacts"].weight == 0
    assert reports['artifacts org="contoso" feed="release"'].weight == 10
    assert reports["artifacts org='contoso' project='web'"].applies
    assert reports["artifacts org='contoso' project='web'"].weight == 6
    assert reports['artifacts view="Release"'].weight == 2
    fabrikam = reports['artifacts org="fabrikam"']
    assert not fabrikam.applies
    assert "contoso" in fabrikam.reason and "fabrikam" in fabrikam.reason
    s = r.settings
    assert (s.username, s.sources["username"]) == ("web-user", "artifacts org='contoso' project='web'")
    assert (s.interactive, s.sources["interactive"]) == ("never", 'artifacts view="Release"')


def test_exclusion_reasons() -> None:
    no_project = resolved(feed_url("contoso", "release"), "layered.cfg")
    reason = {report.name: report.reason for report in no_project.sections}
    assert reason["artifacts org='contoso' project='web'"] == "URL has no project"
    assert reason['artifacts view="Release"'] == "URL has no view"
    other_view = resolved(feed_url("contoso", "release", view="Local"), "layered.cfg")
    reason = {report.name: report.reason for report in other_view.sections}
    assert reason['artifacts view="Release"'] == "view 'Local' is not 'Release'"


def test_qualifier_values_compare_case_insensitively() -> None:
    s = resolved(feed_url("CONTOSO", "Release"), "layered.cfg").settings
    assert s.auth == "pat"


def test_equal_weight_later_section_wins() -> None:
    s = resolved(feed_url("contoso", "other", view="Release"), "equal_weight.cfg").settings
    assert (s.auth, s.sources["auth"]) == ("pat", 'artifacts view="Release"')
    # An option only the earlier section sets still comes from it.
    assert (s.username, s.sources["username"]) == ("from-org", 'artifacts org="contoso"')


def test_iso_and_short_durations_from_file() -> None:
    s = resolved(feed_url("contoso", "main"), "equal_weight.cfg").settings
    assert s.pat_duration == 90 * 86400
    assert s.session_duration == 12 * 3600
    assert s.pat_renew_before == 45 * 60


def test_upload_url_defaults_to_write_scope() -> None:
    s = resolved(
        "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/upload/", "equal_weight.cfg"
    ).settings
    assert (s.scopes, s.sources["scopes"]) == (("vso.packaging_write",), "default")
    s = resolved(feed_url("contoso", "main"), "equal_weight.cfg").settings
    assert s.scopes == ("vso.packaging",)


def test_missing_file_means_defaults() -> None:
    """keyring's own keyringrc.cfg (none in this clean environment) may be absent."""
    r = service.resolve(feed_url(), {})
    assert r is not None and not r.config.exists
    assert r.errors == ()
    assert set(r.settings.sources.values()) == {"default"}


def test_a_missing_file_named_by_the_variable_fails_lookups(tmp_path: Path) -> None:
    r = resolved(feed_url(), tmp_path / "nothing.cfg")
    assert not r.config.exists
    assert r.errors == (f"{tmp_path / 'nothing.cfg'}: {ENV_CONFIG} names this file, which does not exist",)


# --- host sections ------------------------------------------------------------------------------


def test_host_sections_declare_hosts_and_layer() -> None:
    url = "https://tfs.example.com/tfs/DefaultCollection/_packaging/main/pypi/simple/"
    r = resolved(url, "hosts.cfg")
    assert r.errors == ()
    assert (r.ref.org, r.ref.feed, r.ref.path_prefix) == ("DefaultCollection", "main", "/tfs")
    s = r.settings
    assert (s.auth, s.sources["auth"]) == ("pat", 'artifacts host="tfs.example.com" org="DefaultCollection"')
    assert (s.authority_host, s.sources["authority_host"]) == (
        "https://login.example.com",
        'artifacts host="tfs.example.com"',
    )
    assert s.vssps_url == "https://tfs.example.com/tfs/DefaultCollection"


def test_host_section_with_port_and_http() -> None:
    environ = {ENV_CONFIG: str(CONFIGS / "hosts.cfg")}
    r = service.resolve("http://devops.example.com:8443/contoso/_packaging/main/pypi/simple/", environ)
    assert r is not None and r.settings.auth == "bearer" and r.settings.allow_http is True
    assert service.resolve("https://devops.example.com/contoso/_packaging/main/pypi/simple/", environ) is None
    assert service.resolve("https://other.example.com/contoso/_packaging/main/pypi/simple/", environ) is None


def test_host_rules_from_file() -> None:
    rules = host_rules(read_config(CONFIGS / "hosts.cfg"))
    assert {(r.host, r.port, r.path_prefix, r.allow_http) for r in rules} == {
        ("tfs.example.com", None, "/tfs", False),
        ("devops.example.com", 8443, "", True),
    }  # the org-qualified tfs section inherits /tfs instead of declaring a prefix-less rule
    assert rules[0].path_prefix == "/tfs"


def test_host_only_options_outside_host_section(tmp_path: Path) -> None:
    config = tmp_path / "k.cfg"
    config.write_text('[artifacts org="contoso"]\npath_prefix = /tfs\n', encoding="utf-8")
    problems = validate(read_config(config)).problems
    assert problems == (f'{config}: [artifacts org="contoso"] path_prefix: only allowed in a host section',)


# --- validation ---------------------------------------------------------------------------------


def problems_of(name: str) -> list[str]:
    return list(validate(read_config(CONFIGS / name)).problems)


def test_clean_file_has_no_problems() -> None:
    assert problems_of("clean.cfg") == []
    assert problems_of("layered.cfg") == []


@pytest.mark.parametrize(
    ("name", "section", "option", "what"),
    [
        (
            "bad_unknown_option.cfg",
            'artifacts org="contoso"',
            "tenat",
            "unknown option (did you mean 'tenant'?)",
        ),
        ("bad_enum.cfg", 'artifacts feed="main"', "auth", "'token' is not one of session, bearer, pat"),
        ("bad_duration.cfg", 'artifacts org="contoso"', "pat_duration", "'90 days' is not a duration"),
        ("bad_unquoted.cfg", "artifacts org=contoso", "org", 'value must be quoted: org="contoso"'),
        (
            "bad_unknown_qualifier.cfg",
            'artifacts organization="contoso"',
            "organization",
            "unknown qualifier",
        ),
        (
            "bad_duplicate.cfg",
            "artifacts feed='MAIN' org=\"Contoso\"",
            "qualifiers",
            'same qualifiers as [artifacts org="contoso" feed="main"]',
        ),
    ],
)
def test_problems_name_file_section_and_option(name: str, section: str, option: str, what: str) -> None:
    problems = problems_of(name)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{CONFIGS / name}: [{section}] {option}: {what}")


def test_section_with_bad_qualifiers_never_applies() -> None:
    r = resolved(feed_url("contoso", "main"), "bad_unquoted.cfg")
    assert r.errors
    (report,) = r.sections
    assert not report.applies
    assert r.settings.sources["auth"] == "default"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "[artifacts]\nauth = pat\n[artifacts]\nauth = bearer\n",
            "line 3: section [artifacts] is written twice",
        ),
        ("[artifacts]\nauth = pat\nauth = bearer\n", "line 3: [artifacts] sets auth twice"),
        ("auth = pat\n", "line 1: 'auth = pat' comes before any [section] header"),
        ('[artifacts]\nauth = pat\n[artifacts host="h"\nauth = bearer\n', "line 3: section header "),
        ("[artifacts]\n  indented\nnot an option\n", "line 2: cannot read '  indented'"),
    ],
)
def test_unreadable_files_are_problems_with_their_line(tmp_path: Path, content: str, expected: str) -> None:
    config = tmp_path / "keyringrc.cfg"
    config.write_text(content, encoding="utf-8")
    (problem,) = validate(read_config(config)).problems
    assert problem.startswith(f"{config}: {expected}"), problem


def test_binary_junk_is_a_problem_with_its_byte(tmp_path: Path) -> None:
    config = tmp_path / "keyringrc.cfg"
    config.write_bytes(b"[artifacts]\nauth = pat\n\xff\xfe\x00junk\x80\x81")
    (problem,) = validate(read_config(config)).problems
    assert problem.startswith(f"{config}: line 3 (byte 23): not UTF-8 text"), problem


def test_read_config_notices_changes(tmp_path: Path) -> None:
    config = tmp_path / "keyringrc.cfg"
    config.write_text("[artifacts]\nauth = pat\n", encoding="utf-8")
    assert read_config(config).sections[0].options == {"auth": "pat"}
    config.write_text("[artifacts]\nauth = bearer\ntimeout = 5\n", encoding="utf-8")
    assert read_config(config).sections[0].options == {"auth": "bearer", "timeout": "5"}


# --- section names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ours"),
    [
        ("artifacts", True),
        ('artifacts org="x"', True),
        ("backend", False),
        ("artifactsx", False),
        ("Artifacts", False),
        ("keyrings.artifacts", False),
    ],
)
def test_is_ours(name: str, ours: bool) -> None:
    assert is_ours(name) is ours


@pytest.mark.parametrize(
    ("name", "qualifiers"),
    [
        ("artifacts", {}),
        ("artifacts org='contoso'", {"org": "contoso"}),
        ('artifacts  org = "contoso"   feed="main" ', {"org": "contoso", "feed": "main"}),
        ("artifacts project='My Project' view=\"Release\"", {"project": "My Project", "view": "Release"}),
        ('artifacts host="devops.example.com:8443"', {"host": "devops.example.com:8443"}),
        ('artifacts ORG="contoso"', {"org": "contoso"}),
    ],
)
def test_parse_qualifiers(name: str, qualifiers: dict[str, str]) -> None:
    assert parse_qualifiers(name) == (qualifiers, [])


KNOWN = "known: feed, host, org, project, view"
WRITE_A_HOST = 'is not a host name: write host="devops.example.com" or "host:port"'


@pytest.mark.parametrize(
    ("name", "qualifiers", "problems"),
    [
        ("artifacts org=contoso", {}, [("org", 'value must be quoted: org="contoso"')]),
        ('artifacts orgg="contoso"', {}, [("orgg", f"unknown qualifier (did you mean 'org'?); {KNOWN}")]),
        ('artifacts tenant="x"', {}, [("tenant", f"unknown qualifier; {KNOWN}")]),  # nothing close
        ('artifacts org=""', {}, [("org", "empty value")]),
        ('artifacts org="a" org="b"', {"org": "a"}, [("org", "qualifier given twice")]),
        ("artifacts contoso", {}, [("qualifiers", "cannot read 'contoso': write key=\"value\"")]),
        (
            'artifacts host="https://devops.example.com/"',
            {},
            [("host", f"'https://devops.example.com/' {WRITE_A_HOST}")],
        ),
        (
            'artifacts host="user@devops.example.com"',
            {},
            [("host", f"'user@devops.example.com' {WRITE_A_HOST}")],
        ),
        (
            'artifacts host="devops.example.com/tfs"',
            {},
            [("host", f"'devops.example.com/tfs' {WRITE_A_HOST}")],
        ),
        (
            'artifacts host="devops.example.com:x"',
            {},
            [("host", "'devops.example.com:x' is not a host name (bad port)")],
        ),
        (
            'artifacts host="devops.example.com:0"',
            {},
            [("host", "'devops.example.com:0' is not a host name (port out of range)")],
        ),
        # One bad qualifier does not hide the rest of the name.
        (
            'artifacts organization="x" feed="main"',
            {"feed": "main"},
            [("organization", f"unknown qualifier; {KNOWN}")],
        ),
        (
            'artifacts org=contoso feed="main"',
            {"feed": "main"},
            [("org", 'value must be quoted: org="contoso"')],
        ),
        ('artifacts org="" feed="main"', {"feed": "main"}, [("org", "empty value")]),
    ],
)
def test_parse_qualifiers_problems(
    name: str, qualifiers: dict[str, str], problems: list[tuple[str, str]]
) -> None:
    """Each problem is the line `check` prints after the section name: the words are the interface."""
    assert parse_qualifiers(name) == (qualifiers, problems)


# --- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90d", 90 * 86400),
        ("12h", 12 * 3600),
        ("45m", 45 * 60),
        ("1d12h", 36 * 3600),
        ("30s", 30),
        ("P90D", 90 * 86400),
        ("PT12H", 12 * 3600),
        ("p1dt2h", 26 * 3600),
        (" 90D ", 90 * 86400),
    ],
)
def test_durations(text: str, seconds: int) -> None:
    assert values.parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "90", "90 days", "d", "0d", "P", "PXD", "-P1D", "400d", "P400D", "1.5d"]
)
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        values.parse_duration(text)


def test_validate_options_keeps_good_values_and_names_bad_ones() -> None:
    options, problems = validate_options(
        {
            "auth": "PAT",
            "credential": "azure_cli,device_code",
            "scopes": "vso.packaging vso.packaging",
            "timeout": "x",
        }
    )
    assert options.auth == "pat"
    assert options.credential == ("azure_cli", "device_code")
    assert options.scopes == ("vso.packaging",)
    assert options.timeout is None
    assert problems == [("timeout", "'x' is not a number of seconds")]


@pytest.mark.parametrize(
    ("raw", "option"),
    [
        ({"credential": "auto, azure_cli"}, "credential"),
        ({"credential": "azure_clii"}, "credential"),
        ({"tenant": "not a tenant"}, "tenant"),
        ({"client_id": "1234"}, "client_id"),
        ({"authority_host": "http://login.example.com"}, "authority_host"),
        ({"scopes": "packaging"}, "scopes"),
        ({"username": "a b"}, "username"),
        ({"interactive": "sometimes"}, "interactive"),
        ({"timeout": "0"}, "timeout"),
        ({"allow_http": "maybe"}, "allow_http"),
        ({"path_prefix": "tfs"}, "path_prefix"),
    ],
)
def test_bad_values(raw: dict[str, str], option: str) -> None:
    _, problems = validate_options(raw)
    assert [name for name, _ in problems] == [option]


# --- compatibility environment variables ------------------------------------------------


def test_env_vars_act_below_root_section_above_defaults() -> None:
    env: dict[str, Any] = {
        "KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN": "true",
        "AZURE_DEVOPS_PAT_DURATION": "7",
        "AZURE_DEVOPS_PAT_SCOPE": "vso.packaging_manage",
        "ARTIFACTS_KEYRING_NONINTERACTIVE_MODE": "true",
    }
    # contoso/main: [artifacts] sets auth, nothing sets the others.
    s = resolved(feed_url("contoso", "main"), "layered.cfg", **env).settings
    assert (s.auth, s.sources["auth"]) == ("session", "artifacts")
    assert (s.pat_duration, s.sources["pat_duration"]) == (7 * 86400, "env:AZURE_DEVOPS_PAT_DURATION")
    assert (s.scopes, s.sources["scopes"]) == (("vso.packaging_manage",), "env:AZURE_DEVOPS_PAT_SCOPE")
    assert (s.interactive, s.sources["interactive"]) == ("never", "env:ARTIFACTS_KEYRING_NONINTERACTIVE_MODE")
    # contoso/release: the feed section sets pat_duration and scopes; they win over the env.
    s = resolved(feed_url("contoso", "release"), "layered.cfg", **env).settings
    assert s.sources["pat_duration"] == s.sources["scopes"] == 'artifacts org="contoso" feed="release"'


def test_env_vars_used_when_no_section_sets_the_option(tmp_path: Path) -> None:
    s = resolved(feed_url(), _empty(tmp_path), KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN="false").settings
    assert (s.auth, s.sources["auth"]) == ("pat", "env:KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN")
    s = resolved(feed_url(), _empty(tmp_path), ARTIFACTS_KEYRING_NONINTERACTIVE_MODE="false").settings
    assert s.sources["interactive"] == "default"


def test_bad_env_var_is_an_error_not_a_guess(tmp_path: Path) -> None:
    r = resolved(feed_url(), _empty(tmp_path), AZURE_DEVOPS_PAT_DURATION="ninety")
    assert r.settings.sources["pat_duration"] == "default"
    assert any(e.startswith("env:AZURE_DEVOPS_PAT_DURATION:") for e in r.errors)


def test_typed_settings_and_the_validation_model_list_the_same_options() -> None:
    from keyrings.azure_artifacts.config.options import Options
    from keyrings.azure_artifacts.config.settings import OPTION_NAMES as TYPED
    from keyrings.azure_artifacts.config.settings import Settings

    assert tuple(Options.model_fields) == TYPED
    assert [name for name, _ in Settings().items()] == list(TYPED)


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.cfg"
    path.write_text("")
    return path


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ('artifact org="contoso"', 'artifacts org="contoso"'),
        ('Artifacts org="contoso"', 'artifacts org="contoso"'),
        (' artifacts org="contoso"', 'artifacts org="contoso"'),
        ("artifacs", "artifacts"),
    ],
)
def test_near_miss_section_names_get_a_did_you_mean(name: str, meant: str) -> None:
    from keyrings.azure_artifacts.config.sections import near_miss

    assert f"did you mean [{meant}]?" in near_miss(name)


@pytest.mark.parametrize("name", ["artifactory", "backend", "artifacts-cache", "artifacts", "art"])
def test_other_sections_are_no_near_miss(name: str) -> None:
    from keyrings.azure_artifacts.config.sections import near_miss

    assert near_miss(name) == ""


def test_a_near_miss_section_warns_a_lookup_and_fails_check(tmp_path: Path) -> None:
    config = tmp_path / "keyringrc.cfg"
    config.write_text('[Artifacts org="contoso"]\nauth = pat\n[artifactory]\nurl = x\n')
    r = resolved(feed_url(), config)
    assert r.errors == ()
    (warning,) = r.warnings
    assert warning.startswith(f'{config}: [Artifacts org="contoso"] section: not read')
    assert validate(read_config(config)).problems == (warning,)


def test_an_invalid_section_name_fails_only_the_urls_it_was_meant_for(tmp_path: Path) -> None:
    config = tmp_path / "keyringrc.cfg"
    config.write_text("[artifacts org=fabrikam]\nauth = pat\n")
    assert resolved(feed_url("contoso"), config).errors == ()
    assert resolved(feed_url("contoso"), config).warnings
    assert resolved(feed_url("fabrikam"), config).errors
