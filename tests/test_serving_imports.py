"""A web process loads what serving needs and no model runtime: every gunicorn worker imports the whole URLconf
(the assist engines included), and onnx/onnxruntime or torch there cost each worker seconds of start-up and tens
of MB, for requests that never run a model in that process."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODEL_RUNTIMES = ("onnx", "onnxruntime", "torch", "torchvision", "timm", "segmentation_models_pytorch", "cleanlab")
PROBE = """
import json, sys
import defectlab.wsgi
from django.urls import get_resolver
get_resolver().url_patterns  # the URLconf and every view it names
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {runtimes!r})))
"""


def test_a_web_process_imports_no_model_runtime(tmp_path):
    # given
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DEFECTLAB_")}
    environment |= {
        "DJANGO_SETTINGS_MODULE": "defectlab.settings",
        "DEFECTLAB_SECRET_KEY": secrets.token_urlsafe(50),
        "DEFECTLAB_ALLOWED_HOSTS": "localhost",
        "DEFECTLAB_VAR_DIR": str(tmp_path),
    }
    # when
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(runtimes=set(MODEL_RUNTIMES))],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # then
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
