"""Sign-in lockout (django-axes), security headers and the HTTPS settings."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client

from planboard.roles import Role
from tests.factories import make_user

ROOT = Path(__file__).resolve().parent.parent
LOCKED = "该账号或该地址登录失败次数过多"


def attempt(client, url, username, password="wrong", address="10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
class LoginLockoutTests:
    @pytest.fixture
    def staff(self, db):
        return make_user("staff-x", role=Role.STAFF, password="right-password-123")

    @pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
    def test_it_blocks_an_account_after_five_failures_even_with_the_right_password(self, client, staff, url, settings):
        for _ in range(4):
            assert attempt(client, url, "staff-x").status_code == 200  # the form again, with its error
        response = attempt(client, url, "staff-x")
        assert response.status_code == 429 and LOCKED in response.content.decode()
        assert "60 分钟" in response.content.decode()
        # From another address, and with the right password: still blocked.
        response = attempt(Client(), "/login/", "staff-x", password="right-password-123", address="10.0.0.2")
        assert response.status_code == 429 and "_auth_user_id" not in Client().session

    def test_it_blocks_an_address_that_tries_many_accounts(self, client, staff):
        for n in range(5):
            attempt(client, "/login/", f"guess-{n}")
        response = attempt(client, "/login/", "staff-x", password="right-password-123")
        assert response.status_code == 429
        # Someone at another address signs in as usual.
        other = Client()
        assert attempt(other, "/login/", "staff-x", password="right-password-123", address="10.0.0.9").status_code == 302

    def test_an_administrator_lifts_the_block(self, client, staff):
        for _ in range(5):
            attempt(client, "/login/", "staff-x", address="10.0.0.3")
        assert AccessAttempt.objects.filter(username="staff-x").exists()
        call_command("axes_reset_username", "staff-x", verbosity=0)
        call_command("axes_reset_ip", "10.0.0.3", verbosity=0)
        assert attempt(client, "/login/", "staff-x", password="right-password-123", address="10.0.0.3").status_code == 302

    def test_behind_the_proxy_the_address_is_the_one_the_proxy_appended(self, staff, settings):
        settings.PLANBOARD_BEHIND_PROXY = True
        client = Client()
        for n in range(5):
            # The client forges the first entry; the proxy appends the real address.
            client.post("/login/", {"username": f"guess-{n}", "password": "x"}, REMOTE_ADDR="10.9.9.9",
                        HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.7")
        response = client.post("/login/", {"username": "staff-x", "password": "right-password-123"}, REMOTE_ADDR="10.9.9.9",
                               HTTP_X_FORWARDED_FOR="203.0.113.7")
        assert response.status_code == 429
        response = client.post("/login/", {"username": "staff-x", "password": "right-password-123"}, REMOTE_ADDR="10.9.9.9",
                               HTTP_X_FORWARDED_FOR="203.0.113.8")
        assert response.status_code == 302


@pytest.mark.django_db
class HeaderTests:
    def test_every_page_has_a_strict_content_security_policy(self, client):
        response = client.get("/login/")
        policy = response["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy

    def test_no_template_has_an_inline_script_style_or_handler(self):
        inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=\"|\son[a-z]+=\"", re.IGNORECASE)
        found = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in (ROOT / "templates").rglob("*.html")
                 for match in inline.finditer(path.read_text())]
        assert found == []


def settings_of(**env) -> str:
    """Some security settings as a fresh interpreter reads them with exactly these variables."""
    code = (
        "from django.conf import settings as s; "
        "print(getattr(s, 'SECURE_PROXY_SSL_HEADER', None), s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE)"
    )
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "planboard.settings", "SECRET_KEY": "x" * 50}
    result = subprocess.run([sys.executable, "-c", code], env={**base, **env}, cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout.strip()


class HttpsSettingsTests:
    def test_x_forwarded_proto_is_trusted_only_when_a_proxy_is_said_to_overwrite_it(self):
        assert settings_of(DEBUG="0").startswith("None True 31536000 True")
        assert settings_of(DEBUG="0", PLANBOARD_BEHIND_PROXY="1").startswith("('HTTP_X_FORWARDED_PROTO', 'https')")
        assert settings_of(DEBUG="1") == "None False 0 False"

    def test_the_documented_production_environment_passes_check_deploy_without_warnings(self):
        env = {
            "PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "planboard.settings", "DEBUG": "0",
            "SECRET_KEY": "k3Y-9fQ!x7Lr2@vB8nW#cT5pZ$hJ4mD6sA1gE0uR&yK^iO*qXw2Nb", "ALLOWED_HOSTS": "planboard.example.gov.cn",
            "PLANBOARD_BEHIND_PROXY": "1",
        }
        result = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], env=env, cwd=ROOT,
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        output = result.stdout + result.stderr
        assert "System check identified no issues" in output and "WARNING" not in output, output
