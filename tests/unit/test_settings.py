"""Settings: the README's table and the model agree, bad values stop `paymock serve` with a message
naming the setting and its source, and flags > PAYMOCK_* > TOML file > defaults."""
import argparse
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import requests

from mock_server.cli import build_parser
from mock_server.config import Settings, SettingsError
from tests.processes import serve, stop

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
# Every setting, the registered providers' own included (`dodo_api_keys`, ...).
FIELDS = Settings.composed().model_fields


def readme_table() -> dict[str, dict[str, str]]:
    section = README.split("\n## Configuration\n", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    table = {}
    for row in rows:
        setting, flag, env, default, meaning = (cell.strip() for cell in row.strip("|").split("|"))
        table[setting.strip("`")] = {"flag": flag.strip("`"), "env": env.strip("`"),
                                     "default": default, "meaning": meaning}
    return table


def serve_flags() -> dict[str, str]:
    """Setting name -> its `paymock serve` flag."""
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    serve = commands.choices["serve"]
    return {action.dest: action.option_strings[-1]
            for action in serve._actions if action.dest in FIELDS}


def test_the_readme_table_lists_every_setting_and_no_other():
    assert list(readme_table()) and set(readme_table()) == set(FIELDS)


@pytest.mark.parametrize("name", list(FIELDS))
def test_the_readme_row_agrees_with_the_model(name):
    row = readme_table()[name]
    assert row["env"] == f"PAYMOCK_{name.upper()}"
    default = FIELDS[name].get_default(call_default_factory=True)
    if row["default"] == "none":  # TOML has no null
        assert default is None
    else:  # written as in the TOML file
        documented = tomllib.loads(f"value = {row['default'].strip('`')}")["value"]
        assert documented == default, row
        assert type(documented) is type(default) or (type(documented), type(default)) == (
            int, float)  # `30` for 30.0, as a file may write it
    assert row["meaning"]


def test_the_readme_flags_are_the_serve_flags():
    flags = serve_flags()
    assert {name: row["flag"] for name, row in readme_table().items() if row["flag"]} == flags
    # cli.py names a flag in an error by this spelling.
    assert all(flag == "--" + name.replace("_", "-") for name, flag in flags.items())


def test_the_readme_config_file_example_loads(tmp_path):
    example = re.search(r"```toml\n(\[paymock\].*?)```", README, flags=re.S).group(1)
    (tmp_path / "paymock.toml").write_text(example)
    settings = Settings.load(tmp_path / "paymock.toml", env={})
    assert (settings.port, settings.threads, settings.extra) == (9000, 8, {"waffo_lenient": True})


def without_paymock_variables() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PAYMOCK_")}


def refused(*args, env=None) -> str:
    """`paymock serve ARGS` must stop at start: exit 2, one message, no traceback."""
    result = subprocess.run([sys.executable, "-m", "mock_server.cli", "serve", *map(str, args)],
                            capture_output=True, text=True, timeout=60,
                            env={**without_paymock_variables(), **(env or {})})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stderr.startswith("paymock: cannot start: ")
    return result.stderr.strip()


def test_an_out_of_range_flag_is_refused():
    assert refused("--port", "99999") == (
        "paymock: cannot start: port = 99999 (from --port): must be at most 65535")


def test_a_webhook_url_the_sender_cannot_use_is_refused():
    assert refused("--port", "0", "--webhook-url", "http://a..b/") == (
        "paymock: cannot start: webhook_url = 'http://a..b/' (from --webhook-url): has an invalid "
        "host: a label is empty (two dots in a row, or a dot at the start) (give an http or https "
        "URL such as http://127.0.0.1:9000/webhooks)")
    assert refused("--port", "0", env={"PAYMOCK_WEBHOOK_URL": "http://127.0.0.1:99999/"}).startswith(
        "paymock: cannot start: webhook_url = 'http://127.0.0.1:99999/' (from PAYMOCK_WEBHOOK_URL): "
        "has an invalid port")


def test_a_negative_size_is_refused():
    assert refused("--port", "0", "--max-body-bytes", "-1") == (
        "paymock: cannot start: max_body_bytes = -1 (from --max-body-bytes): must be at least 1")


def test_a_variable_that_does_not_parse_is_refused():
    assert refused("--port", "0", env={"PAYMOCK_THREADS": "abc"}) == (
        "paymock: cannot start: threads = 'abc' (from PAYMOCK_THREADS): must be a whole number")


def test_a_fraction_in_the_file_is_refused_not_truncated(tmp_path):
    file = tmp_path / "paymock.toml"
    file.write_text("[paymock]\nthreads = 2.5\n")
    assert refused("--port", "0", "--config", file) == (
        f"paymock: cannot start: threads = 2.5 (from {file} [paymock] threads): "
        "must be a whole number")


def test_an_unknown_key_in_the_file_is_refused(tmp_path):
    file = tmp_path / "paymock.toml"
    file.write_text("[paymock]\nthread = 8\n")
    assert refused("--port", "0", env={"PAYMOCK_CONFIG": str(file)}) == (
        f"paymock: cannot start: thread = 8 (from {file} [paymock] thread): no such setting "
        "(did you mean threads?)")


def test_the_readme_shows_the_messages_paymock_prints():
    for line in ("port = 99999 (from --port): must be at most 65535",
                 "threads = 2.5 (from paymock.toml [paymock] threads): must be a whole number",
                 "thread = 8 (from paymock.toml [paymock] thread): no such setting (did you mean "
                 "threads?)"):
        assert f"paymock: cannot start: {line}\n" in README


@pytest.mark.parametrize("content, message", [
    ("port = 8000\n", "no [paymock] table"),
    ("[paymock]\nport = \n", "not valid TOML"),
    ("[paymock]\nport = true\n", "port = True (from {file} [paymock] port): must be a number"),
    ("[paymock]\nserver = 'gunicorn'\n", "unknown server 'gunicorn': use granian"),
    ("[paymock]\nwebhook_timeout_seconds = 0\n", "must be more than 0"),
    ("[paymock]\nstate_interval = -1\n", "must be at least 0"),
    ("[paymock]\njournal_size = 0\n", "must be at least 1"),
    ("[paymock]\nextra = 3\n", "extra = 3"),
    ("[paymock]\nstrict = 'maybe'\n", "must be true or false"),
])
def test_bad_files_are_refused_with_the_file_named(tmp_path, content, message):
    file = tmp_path / "paymock.toml"
    file.write_text(content)
    with pytest.raises(SettingsError) as refusal:
        Settings.load(file, env={})
    assert message.format(file=file) in str(refusal.value) and str(file) in str(refusal.value)


def test_several_bad_settings_are_all_named():
    with pytest.raises(SettingsError) as refusal:
        Settings.load(env={"PAYMOCK_PORT": "-1", "PAYMOCK_STRICT": "maybe"})
    assert refusal.value.problems == [
        "port = '-1' (from PAYMOCK_PORT): must be at least 0",
        "strict = 'maybe' (from PAYMOCK_STRICT): must be true or false"]


def test_secrets_are_not_echoed():
    with pytest.raises(SettingsError) as refusal:
        Settings.load(env={}, control_token=12345678)
    assert str(refusal.value) == (
        "control_token = <hidden> (from Settings.load(control_token=...)): must be a valid string")


def test_keyword_construction_is_validated_and_reads_no_environment(monkeypatch):
    monkeypatch.setenv("PAYMOCK_PORT", "9999")
    assert Settings(host="0.0.0.0").port == 8787
    with pytest.raises(SettingsError, match=r"^port = 99999 \(from Settings\(port=...\)\)"):
        Settings(port=99999)
    with pytest.raises(ValueError, match="no such setting"):  # SettingsError is a ValueError
        Settings(bogus=1)


def test_flags_beat_the_environment_which_beats_the_file_which_beats_the_defaults(tmp_path):
    file = tmp_path / "paymock.toml"
    file.write_text("[paymock]\nport = 1001\nserver = \"waitress\"\nthreads = 3\nstate_interval = 5\n")
    env = {"PAYMOCK_CONFIG": str(file), "PAYMOCK_PORT": "1002", "PAYMOCK_THREADS": "4"}
    settings = Settings.load(env=env, port=1003, threads=None)  # None: the flag was not given
    assert (settings.port, settings.threads, settings.state_interval, settings.journal_size) == (
        1003, 4, 5.0, 200)
    assert Settings.load(file, env={}).port == 1001  # an explicit file, without PAYMOCK_CONFIG


def test_environment_strings_parse_and_other_paymock_variables_are_ignored():
    settings = Settings.load(env={
        "PAYMOCK_PORT": "8788", "PAYMOCK_STRICT": "yes", "PAYMOCK_STATE_INTERVAL": "2.5",
        "PAYMOCK_FIXTURES": "catalog.json", "PAYMOCK_SERVER": "waitress", "PAYMOCK_THREADS": "2",
        "PAYMOCK_EXTRA": '{"waffo_lenient": true}', "PAYMOCK_WAFFO_PAYMENT_FAILED_EVENT": "",
        "PAYMOCK_WAFFO_LENIENT": "1",
        # Not settings: the suite's, the tools'.
        "PAYMOCK_URL": "http://127.0.0.1:1", "PAYMOCK_REQUIRE_VENDOR_SPEC": "1",
        "PAYMOCK_VENDOR_SPEC": "spec.json",
    })
    assert (settings.port, settings.strict, settings.state_interval, settings.fixtures,
            settings.server, settings.threads, settings.extra, settings.waffo_payment_failed_event
            ) == (8788, True, 2.5, Path("catalog.json"), "waitress", 2, {"waffo_lenient": True}, "")


def test_serve_applies_flag_environment_and_file_in_that_order(tmp_path):
    # The file's port loses to --port (serve() passes one), its threads to the variable; its
    # max_body_bytes, set nowhere else, beats the default.
    (tmp_path / "paymock.toml").write_text(
        "[paymock]\nport = 1\nserver = \"waitress\"\nthreads = 3\nmax_body_bytes = 10\n")
    env = {**without_paymock_variables(), "PAYMOCK_THREADS": "5"}
    proc, port = serve("--config", tmp_path / "paymock.toml", env=env)
    try:
        too_big = requests.post(f"http://127.0.0.1:{port}/_mock/faults", data=b"x" * 100, timeout=5)
    finally:
        out = stop(proc)
    assert f"listening on http://127.0.0.1:{port} (waitress, 5 threads)" in out
    assert too_big.status_code == 413
