"""META.json follows the PGXN Meta Spec 1.0.0 (pgxn_meta.py encodes its
rules) and agrees with the rest of the checkout: the control file's
version, debian/changelog, the supported PostgreSQL versions."""

import copy
import json
import os
import re
import subprocess

import pytest

import pgxn_meta
from harness.util import REPO


def load_meta():
    with open(os.path.join(REPO, "META.json")) as f:
        return json.load(f)


def read(path):
    with open(os.path.join(REPO, path)) as f:
        return f.read()


def tracked(path):
    """Is path a committed file (so in what make dist's git archive holds)?"""
    return subprocess.run(["git", "-C", REPO, "ls-files", "--error-unmatch", path],
                          capture_output=True).returncode == 0


def test_meta_json_is_valid_pgxn_meta_spec_1_0_0():
    meta = load_meta()
    assert pgxn_meta.validate(meta) == []
    assert meta["meta-spec"]["version"] == "1.0.0"
    # what PGXN shows and indexes: a release status, where the code is
    assert meta["release_status"] == "stable"
    assert meta["resources"]["repository"]["type"] == "git"


# Each case breaks one rule of the spec; the validator must name it.
BROKEN = [
    (lambda m: m.pop("license"), "/license: missing, required field"),
    (lambda m: m.pop("provides"), "/provides: missing, required field"),
    (lambda m: m.update(provides={}), "/provides: needs at least 1 key(s)"),
    (lambda m: m.update(version="1.1"), "/version: '1.1' is not a valid semantic version"),
    (lambda m: m.update(version="1.01.0"), "/version: '1.01.0' is not a valid semantic version"),
    (lambda m: m.update(name="pg rotate"), "/name: 'pg rotate' is not a valid term"),
    (lambda m: m.update(license="PostgreSQL"), "/license[0]: 'PostgreSQL' is an unknown license"),
    (lambda m: m.update(license={"PostgreSQL": "not a url"}),
     "/license/PostgreSQL: 'not a url' is not a valid URL"),
    (lambda m: m.update(release_status="beta"), "/release_status: 'beta' is not a valid release status"),
    (lambda m: m["provides"]["pg_rotate"].pop("file"), "/provides/pg_rotate/file: missing, required field"),
    (lambda m: m["prereqs"].update(install={"requires": {"PostgreSQL": "14.0.0"}}),
     "/prereqs/install: Unknown prereq phase"),
    (lambda m: m["prereqs"]["runtime"].update(needs={"PostgreSQL": "14.0.0"}),
     "/prereqs/runtime/needs: Unknown prereq relationship"),
    (lambda m: m["prereqs"]["runtime"]["requires"].update(PostgreSQL="14"),
     "/prereqs/runtime/requires/PostgreSQL: '14' in '14' is not a valid semantic version"),
    (lambda m: m["prereqs"]["runtime"]["requires"].update(PostgreSQL="=> 14.0.0"),
     "'=> 14.0.0' in '=> 14.0.0' is not a valid semantic version"),
    (lambda m: m["resources"]["repository"].update(type="Git"),
     "/resources/repository/type: 'Git' is not a lowercase string"),
    (lambda m: m["resources"]["bugtracker"].update(web="github.com/x"),
     "/resources/bugtracker/web: 'github.com/x' is not a valid URL"),
    (lambda m: m.update(no_index=["test"]), "/no_index: should be a map structure"),
    (lambda m: m["no_index"].update(directory=[]), "/no_index/directory: missing entries from required list"),
    (lambda m: m.update(tags=["a/b"]), "/tags[0]: 'a/b' is not a valid tag"),
    (lambda m: m.update(homepage="https://x.example"), "/homepage: Unknown key; custom keys must begin"),
]


@pytest.mark.parametrize("breakage,error", BROKEN)
def test_validator_names_what_breaks_the_spec(breakage, error):
    meta = copy.deepcopy(load_meta())
    breakage(meta)
    errors = pgxn_meta.validate(meta)
    assert any(e.startswith(error) or error in e for e in errors), errors


def test_version_ranges_the_spec_allows():
    for ok in (0, "0", "14.0.0", ">= 14.0.0, < 19.0.0", "==1.0.0", "!= 1.5.0", "1.0.0-beta1"):
        assert pgxn_meta.version_range(ok) is None, ok


def test_provided_files_are_committed_so_in_the_distribution():
    """make dist archives HEAD: a generated or ignored file is not in it."""
    for name, ext in load_meta()["provides"].items():
        for key in ("file", "docfile"):
            if key in ext:
                assert tracked(ext[key]), f"provides.{name}.{key} {ext[key]} is not committed"


def test_no_index_names_directories_of_the_checkout():
    for d in load_meta()["no_index"]["directory"]:
        assert os.path.isdir(os.path.join(REPO, d)), d


def test_versions_agree_with_the_control_file_and_debian_changelog():
    """The control file sets the extension's version (X.Y); the distribution
    and the Debian packages are X.Y.Z."""
    meta = load_meta()
    control = re.search(r"default_version\s*=\s*'([^']+)'", read("extension/pg_rotate.control")).group(1)
    assert meta["version"].startswith(control + ".")
    assert meta["provides"]["pg_rotate"]["version"] == meta["version"]
    changelog = re.match(r"pg-rotate \(([^)]+)\)", read("debian/changelog")).group(1)
    assert changelog == meta["version"]


def test_supported_postgresql_versions_agree():
    """14 and newer, said once in each place that says it."""
    prereqs = load_meta()["prereqs"]
    assert prereqs["runtime"]["requires"]["PostgreSQL"] == "14.0.0"
    assert prereqs["build"]["requires"]["PostgreSQL"] == "14.0.0"
    pgversions = [line for line in read("debian/pgversions").splitlines()
                  if line and not line.startswith("#")]
    assert pgversions == ["14+"]
    compat = read("extension/compat.h")
    assert re.search(r"#if PG_VERSION_NUM < 140000\n#error", compat)
    assert "PostgreSQL 14 and newer" in read("README.md")
