"""The driver JVM's class archive: named for the installation it was built from, used only when
it exists, and a JVM whose installation changed starts without it, silently."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from lake.config.settings import load_settings
from lake.platform import class_archive


@pytest.fixture
def settings(tmp_path):
    jars = tmp_path / "jars"
    jars.mkdir()
    (jars / "delta.jar").write_bytes(b"jar one")
    return load_settings(env={"LAKEHOUSE_JARS_DIR": str(jars)}, home=tmp_path / "home")


def test_the_archive_is_named_for_the_installation_and_used_only_when_built(settings):
    path = class_archive.archive_path(settings)
    assert path.parent == settings.jars_dir and path.name.startswith(class_archive.PREFIX)
    assert class_archive.java_options(settings) == ""  # not built: the JVM starts as before
    path.write_bytes(b"archive")
    assert class_archive.java_options(settings).startswith(f"-XX:SharedArchiveFile={path} ")
    jar = settings.jars_dir / "delta.jar"
    jar.write_bytes(b"jar two, a new version")
    os.utime(jar, (1, 1))
    assert class_archive.archive_path(settings) != path  # another installation: another name
    assert class_archive.java_options(settings) == ""


def test_a_jvm_with_the_archive_flags_and_an_archive_it_cannot_use_still_starts(tmp_path):
    java = shutil.which("java")
    assert java, "the platform needs a Java runtime"
    stale = tmp_path / "stale.jsa"
    stale.write_bytes(b"not an archive of this JVM" * 100)
    run = subprocess.run([java, f"-XX:SharedArchiveFile={stale}",
                          *class_archive.QUIET.split(), "-version"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "cds" not in (run.stdout + run.stderr).lower()
    assert "archive" not in (run.stdout + run.stderr).lower()


def test_a_build_that_fails_leaves_no_archive_and_says_so(settings, monkeypatch, capsys):
    monkeypatch.setattr(class_archive.sys, "executable", shutil.which("false"))
    assert class_archive.build(settings) is None
    assert "class archive: not built" in capsys.readouterr().err
    assert not list(settings.jars_dir.glob(f"{class_archive.PREFIX}*"))
    assert class_archive.java_options(settings) == ""
