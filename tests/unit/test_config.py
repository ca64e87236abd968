from pathlib import Path

import pytest

from helpers.config import Settings
from helpers.errors import ConfigError


def test_argument_beats_environment_beats_default(monkeypatch, tmp_path):
    assert Settings.load().target == "lab"
    monkeypatch.setenv("WORKSHOP_TARGET", "kubeconfig")
    assert Settings.load().target == "kubeconfig"
    assert Settings.load(target="lab").target == "lab"


def test_lab_dir_from_environment_is_resolved(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKSHOP_LAB_DIR", str(tmp_path / "x" / ".." / "lab"))
    assert Settings.load().lab_dir == (tmp_path / "lab").resolve()


def test_empty_argument_falls_through_to_default(monkeypatch):
    monkeypatch.delenv("WORKSHOP_TARGET", raising=False)
    assert Settings.load(target="").target == "lab"


def test_unknown_target_names_the_choices():
    with pytest.raises(ConfigError) as info:
        Settings.load(target="aks")
    assert "unknown target 'aks'" in str(info.value)
    assert "lab, kubeconfig" in info.value.hint


def test_unknown_setting_is_refused():
    with pytest.raises(ConfigError, match="unknown setting"):
        Settings.load(namespace="x")


def test_settings_are_frozen():
    settings = Settings.load()
    with pytest.raises(Exception):
        settings.target = "kubeconfig"  # type: ignore[misc]
    assert settings.with_(target="kubeconfig").target == "kubeconfig"
    assert isinstance(settings.lab_dir, Path)
