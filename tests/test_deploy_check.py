"""`manage.py check --deploy` with production settings behind the TLS proxy: the warnings left are the ones
docs/deploy.md explains (HSTS for subdomains and the preload list are the site's own decisions)."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXPLAINED = {"security.W005", "security.W021"}


def deploy_check(tmp_path: Path, **environment: str) -> str:
    production = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DEFECTLAB_", "DJANGO_")) and key != "DATABASE_URL"
    }
    production |= {
        "DJANGO_SETTINGS_MODULE": "defectlab.settings",
        "DEFECTLAB_SECRET_KEY": secrets.token_urlsafe(50),
        "DEFECTLAB_ALLOWED_HOSTS": "defectlab.plant.example",
        "DEFECTLAB_CSRF_TRUSTED_ORIGINS": "https://defectlab.plant.example",
        "DEFECTLAB_BEHIND_TLS_PROXY": "1",
        "DEFECTLAB_VAR_DIR": str(tmp_path),
        **environment,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=REPO,
        env=production,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.stdout + result.stderr


def test_only_the_explained_warnings_remain(tmp_path):
    # when
    output = deploy_check(tmp_path)
    # then
    assert set(re.findall(r"\(([a-z_.]+\.[WE]\d+)\)", output)) == EXPLAINED, output
    deploy_doc = (REPO / "docs" / "deploy.md").read_text()
    assert all(warning in deploy_doc for warning in EXPLAINED)


def test_subdomains_can_be_included_in_hsts(tmp_path):
    # when
    output = deploy_check(tmp_path, DEFECTLAB_HSTS_INCLUDE_SUBDOMAINS="1")
    # then
    assert set(re.findall(r"\(([a-z_.]+\.[WE]\d+)\)", output)) == {"security.W021"}, output
