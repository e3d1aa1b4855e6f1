from pathlib import Path

import pytest

from app.settings import SettingsError, load_settings
from kb.documents import DEFAULT_DOCS_DIR


def _toml(tmp_path, text: str) -> Path:
    path = tmp_path / "keta.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults():
    s = load_settings(environ={})
    assert s.server.port == 7860
    assert s.server.host == "127.0.0.1"
    assert s.crisis.emergency_number == "911"
    assert s.retrieval.mode == "hybrid"
    assert s.docs_dir == DEFAULT_DOCS_DIR
    assert s.server.allowed_origins == ()


def test_toml_file_sets_values(tmp_path):
    path = _toml(tmp_path, '[server]\nport = 8080\nallowed_origins = ["https://clinic.example"]\n'
                           '[crisis]\nemergency_number = "999"\nregion = "United Kingdom"\n'
                           '[branding]\nprimary_color = "#112233"\n')
    s = load_settings(path, environ={})
    assert s.server.port == 8080
    assert s.server.allowed_origins == ("https://clinic.example",)
    assert s.crisis.emergency_number == "999"
    assert s.crisis.line_phone == "988"  # untouched nested default survives a partial table
    assert s.branding.primary_color == "#112233"


def test_env_overrides_file(tmp_path):
    path = _toml(tmp_path, "[server]\nport = 8080\nhost = \"0.0.0.0\"\n")
    s = load_settings(path, environ={"KETA_SERVER__PORT": "9001"})
    assert s.server.port == 9001  # env beats file, string "9001" -> int
    assert s.server.host == "0.0.0.0"  # other file values are kept


def test_config_path_from_env(tmp_path):
    path = _toml(tmp_path, "[retrieval]\nmode = \"bm25\"\n")
    assert load_settings(environ={"KETA_CONFIG": str(path)}).retrieval.mode == "bm25"


def test_env_list_is_comma_separated():
    s = load_settings(environ={"KETA_SERVER__ALLOWED_ORIGINS": "https://a.example,http://b.example:8000"})
    assert s.server.allowed_origins == ("https://a.example", "http://b.example:8000")


def test_env_without_prefix_is_ignored():
    assert load_settings(environ={"SERVER__PORT": "1", "PORT": "2"}).server.port == 7860


def _error(tmp_path=None, toml=None, environ=None) -> str:
    path = _toml(tmp_path, toml) if toml is not None else None
    with pytest.raises(SettingsError) as ei:
        load_settings(path, environ=environ or {})
    return str(ei.value)


def test_bad_port_from_env():
    msg = _error(environ={"KETA_SERVER__PORT": "abc"})
    assert "server.port" in msg and "KETA_" in msg


def test_port_out_of_range(tmp_path):
    assert "server.port" in _error(tmp_path, "[server]\nport = 70000\n")


def test_unknown_key(tmp_path):
    msg = _error(tmp_path, "[server]\nprot = 8080\n")
    assert "server.prot" in msg and "keta.toml" in msg


def test_unknown_env_key():
    assert "retrieval.topk" in _error(environ={"KETA_RETRIEVAL__TOPK": "3"})


@pytest.mark.parametrize("colour", ["#zzz", "#12345", "red", "#1234567"])
def test_bad_colour(tmp_path, colour):
    assert "branding.primary_color" in _error(tmp_path, f'[branding]\nprimary_color = "{colour}"\n')


@pytest.mark.parametrize("origin", ["https://clinic.example/", "clinic.example", "ftp://clinic.example"])
def test_bad_origin(tmp_path, origin):
    msg = _error(tmp_path, f'[server]\nallowed_origins = ["{origin}"]\n')
    assert "server.allowed_origins" in msg


def test_wildcard_origin_is_allowed():
    assert load_settings(environ={"KETA_SERVER__ALLOWED_ORIGINS": "*"}).server.allowed_origins == ("*",)


def test_bad_mode(tmp_path):
    assert "retrieval.mode" in _error(tmp_path, '[retrieval]\nmode = "sparse"\n')


def test_missing_config_file(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(SettingsError) as ei:
        load_settings(missing, environ={})
    assert str(missing) in str(ei.value) and "does not exist" in str(ei.value)


def test_invalid_toml(tmp_path):
    assert "not valid TOML" in _error(tmp_path, "[server\nport = 1\n")


def test_settings_are_frozen():
    s = load_settings(environ={})
    with pytest.raises(Exception):
        s.server.port = 1  # type: ignore[misc]


def test_conflicting_env_names_raise_settings_error():
    with pytest.raises(SettingsError):
        load_settings(environ={"KETA_SERVER": "x", "KETA_SERVER__PORT": "9000"})
