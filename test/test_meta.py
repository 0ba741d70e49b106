"""META.json follows the PGXN Meta Spec 1.0.0 and agrees with the control file."""

import json
import os
import re
import subprocess

from harness.util import REPO

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+)?$")
# Licenses the spec names; "restricted"/"open_source"/"unknown" are allowed too.
SPEC_LICENSES = {"agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2",
                 "bsd", "freebsd", "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3",
                 "lgpl_2_1", "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1",
                 "openssl", "perl_5", "postgresql", "qpl_1_0", "ssleay", "sun", "zlib",
                 "open_source", "restricted", "unrestricted", "unknown"}


def load_meta():
    with open(os.path.join(REPO, "META.json")) as f:
        return json.load(f)


def control_version():
    with open(os.path.join(REPO, "extension", "pg_rotate.control")) as f:
        return re.search(r"default_version\s*=\s*'([^']+)'", f.read()).group(1)


def test_meta_has_every_required_field_of_spec_1_0_0():
    meta = load_meta()
    for key in ("name", "abstract", "maintainer", "license", "provides", "meta-spec",
                "version"):
        assert key in meta, f"META.json lacks required key {key!r}"
    assert meta["meta-spec"]["version"] == "1.0.0"
    assert re.fullmatch(r"[A-Za-z0-9_-]{2,}", meta["name"])
    assert SEMVER.match(meta["version"])
    assert meta["license"] in SPEC_LICENSES
    assert isinstance(meta["maintainer"], (str, list)) and meta["maintainer"]


def test_every_provided_extension_names_an_existing_file_and_semver():
    for name, ext in load_meta()["provides"].items():
        assert {"file", "version"} <= set(ext), f"provides.{name} needs file and version"
        # a file of the distribution (git archive), not a generated one
        tracked = subprocess.run(["git", "-C", REPO, "ls-files", "--error-unmatch", ext["file"]],
                                 capture_output=True)
        assert tracked.returncode == 0, f"{ext['file']} is not a committed file"
        assert SEMVER.match(ext["version"])


def test_meta_version_matches_the_control_file():
    """The control file is the one place the version is set."""
    meta = load_meta()
    major_minor = control_version()
    assert meta["version"].startswith(major_minor + ".")
    assert meta["provides"]["pg_rotate"]["version"].startswith(major_minor + ".")
