"""What the wheel holds and declares, and the base install as an operator gets it."""

from __future__ import annotations

import re
import zipfile
from email.parser import Parser

from logzio_s3_archive_runtime import __version__


def test_the_wheel_holds_only_the_library_and_the_runtime(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"logzio_s3_archive", "logzio_s3_archive_runtime", f"logzio_s3_archive-{__version__}.dist-info"}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    # The handler is in it: the Lambda asset is made from the installed runtime package.
    assert "logzio_s3_archive_runtime/handler.py" in names and "logzio_s3_archive/archive.py" in names


def test_the_library_declares_ranges_and_the_console_script(wheel):
    archive = zipfile.ZipFile(wheel)
    metadata = Parser().parsestr(archive.read(f"logzio_s3_archive-{__version__}.dist-info/METADATA").decode())
    assert metadata["Name"] == "logzio-s3-archive" and metadata["Version"] == __version__
    requires = metadata.get_all("Requires-Dist")
    base = [r for r in requires if "extra ==" not in r]
    cdk = sorted(r.split(";")[0].strip() for r in requires if 'extra == "cdk"' in r)
    assert base == ["botocore<2,>=1.34"]
    assert cdk == ["aws-cdk-lib<3,>=2.275.0", "cdk-nag<4,>=3", "constructs<11,>=10"]
    assert not [r for r in requires if "==" in r.split(";")[0]], "a library pins nothing"
    entry_points = archive.read(f"logzio_s3_archive-{__version__}.dist-info/entry_points.txt").decode()
    assert re.search(r"^logzio-archive = logzio_s3_archive_runtime\.cli:main$", entry_points, re.M)


def test_base_install_has_the_command_and_not_the_cdk(base_install, tmp_path):
    version = base_install.run([base_install.command, "--version"], cwd=tmp_path)
    assert (version.returncode, version.stdout.strip()) == (0, f"logzio-archive {__version__}")
    where = base_install.run([base_install.python, "-c", "import logzio_s3_archive_runtime as r; print(r.__file__)"],
                             cwd=tmp_path)
    assert where.stdout.startswith(str(base_install.site_packages)), where.stdout + where.stderr
    cdk = base_install.run([base_install.python, "-c", "import aws_cdk"], cwd=tmp_path)
    assert cdk.returncode == 1 and "No module named 'aws_cdk'" in cdk.stderr
    library = base_install.run([base_install.python, "-c", "import logzio_s3_archive"], cwd=tmp_path)
    assert library.returncode == 1 and "No module named 'aws_cdk'" in library.stderr
    help_ = base_install.run([base_install.command, "--help"], cwd=tmp_path)
    assert help_.returncode == 0 and all(name in help_.stdout for name in ("check", "status", "logzio-test"))
