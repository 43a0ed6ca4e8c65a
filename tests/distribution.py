"""The distribution as a user gets it: the wheel, built once per session, installed into fresh
virtual environments in temporary folders (the repository not on their sys.path).

No test leaves loopback, so nothing is downloaded: the wheel is installed with pip from the
file (`--no-index --no-deps`), and the packages it requires come from this session's own
environment through a .pth file naming only them (the base install: botocore and what it
imports; with [cdk]: the whole session environment, whose own .pth files, such as the clone's
editable install, are not processed from there)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from tests.support import ROOT

#: What the base install imports besides the standard library: botocore and its requirements.
BASE_MODULES = ("botocore", "jmespath", "dateutil", "urllib3", "six.py")


def build_wheel(out: Path) -> Path:
    """`pip wheel` of this project, as a release would build it (setuptools from the pins, no
    build isolation: nothing downloaded), from a copy of what the build reads: a build in the
    clone itself would write its build/ folder there, where parallel test workers race."""
    import shutil

    source = out / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-q", "-w", str(out), str(source)],
                   check=True, capture_output=True, text=True, timeout=300)
    [wheel] = out.glob("logzio_s3_archive-*.whl")
    return wheel


@dataclass
class Venv:
    root: Path

    @property
    def python(self) -> str:
        return str(self.root / "bin" / "python")

    @property
    def command(self) -> str:
        return str(self.root / "bin" / "logzio-archive")

    @property
    def site_packages(self) -> Path:
        [site] = (self.root / "lib").glob("python3*/site-packages")
        return site

    def run(self, args, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), cwd=str(cwd), env=clean_env(env), capture_output=True, text=True,
                              timeout=timeout)


def clean_env(extra: dict | None = None) -> dict:
    """No PYTHONPATH (it would put a clone on sys.path), no ambient AWS settings."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("AWS_")}
    env.update({"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull, **(extra or {})})
    return env


def fresh_venv(root: Path, wheel: Path, *, cdk: bool) -> Venv:
    """A new virtual environment with the wheel installed by pip, and its requirements from
    this session's environment (see the module's docstring)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    venv = Venv(root)
    subprocess.run([sys.executable, "-m", "pip", "--python", venv.python, "install", "--no-index", "--no-deps",
                    "--disable-pip-version-check", "-q", str(wheel)], check=True, capture_output=True,
                   timeout=300)
    ours = Path(sysconfig.get_paths()["purelib"])
    if cdk:
        (venv.site_packages / "session-packages.pth").write_text(f"{ours}\n")
    else:
        base = root / "base-requirements"
        base.mkdir()
        for name in BASE_MODULES:
            (base / name).symlink_to(ours / name)
        (venv.site_packages / "base-requirements.pth").write_text(f"{base}\n")
    return venv
