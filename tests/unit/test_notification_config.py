"""The notification settings: ``[smtp]`` / SAGEWATCH_SMTP_* and ``public_url`` /
SAGEWATCH_PUBLIC_URL, read like every other setting (defaults, file, environment, overrides)."""

from __future__ import annotations

import pytest

from sagewatch.config import ConfigError, Settings, SmtpSettings, load_settings

CONFIG = """
public_url = "https://sagewatch.example.com/"

[smtp]
host = "smtp.example.com"
security = "tls"
username = "alerts"
password = "secret"
sender = "ML alerts <alerts@example.com>"
"""


def test_defaults():
    settings = load_settings(environ={})
    assert settings.smtp == SmtpSettings()
    assert not settings.smtp.configured
    assert settings.smtp.security == "starttls" and settings.smtp.effective_port == 587
    assert settings.public_url is None
    assert settings.public_base_url == "http://127.0.0.1:4599"


@pytest.mark.parametrize("host, expected", [
    ("0.0.0.0", "http://127.0.0.1:4700"), ("::", "http://127.0.0.1:4700"),
    ("10.1.2.3", "http://10.1.2.3:4700"), ("::1", "http://[::1]:4700"),
])
def test_the_public_url_defaults_to_this_servers_address(host, expected):
    assert Settings(host=host, port=4700).public_base_url == expected


def test_file_then_environment(tmp_path):
    path = tmp_path / "sagewatch.toml"
    path.write_text(CONFIG)
    settings = load_settings(path, environ={"SAGEWATCH_SMTP_PORT": "2465", "SAGEWATCH_SMTP_PASSWORD": "from-env"})
    smtp = settings.smtp
    assert smtp.configured and smtp.host == "smtp.example.com"
    assert smtp.security == "tls" and smtp.port == 2465 and smtp.effective_port == 2465
    assert smtp.username == "alerts" and smtp.password == "from-env"
    assert smtp.sender == "ML alerts <alerts@example.com>"
    assert settings.public_base_url == "https://sagewatch.example.com"  # no trailing slash


def test_everything_from_the_environment():
    settings = load_settings(environ={
        "SAGEWATCH_SMTP_HOST": "127.0.0.1", "SAGEWATCH_SMTP_PORT": "2525", "SAGEWATCH_SMTP_SECURITY": "NONE",
        "SAGEWATCH_SMTP_USERNAME": "u", "SAGEWATCH_SMTP_SENDER": "x@example.com",
        "SAGEWATCH_PUBLIC_URL": "http://sagewatch.internal:4599"})
    assert settings.smtp == SmtpSettings(host="127.0.0.1", port=2525, security="none", username="u",
                                         sender="x@example.com")
    assert settings.public_base_url == "http://sagewatch.internal:4599"
    assert SmtpSettings(security="tls").effective_port == 465
    assert SmtpSettings(security="none").effective_port == 25


@pytest.mark.parametrize("text, message", [
    ("[smtp]\nsecurity = 'ssl'\n", "one of starttls, tls, none"),
    ("[smtp]\nport = 70000\n", "a port from 1 to 65535"),
    ("[smtp]\nhots = 'x'\n", r"unknown setting\(s\) hots"),
    ("[smtp]\nsender = ' '\n", "an email address"),
    ("smtp = 'x'\n", "smtp must be a table"),
    ("public_url = 'sagewatch.example.com'\n", "an http:// or https:// URL"),
])
def test_mistakes_are_named(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(path, environ={})
