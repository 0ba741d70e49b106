"""A user's checkout is self-contained: a git clone of HEAD into a folder
with nothing beside it (no ../shared, as on the developers' machines) passes
the C unit tests, SigV4 vectors included."""

import os
import shutil
import subprocess
import tempfile

from harness import util


def test_a_fresh_clone_with_nothing_beside_it_passes_make_unit():
    head = util.run(["git", "-C", util.REPO, "rev-parse", "HEAD"]).stdout.strip()
    workdir = tempfile.mkdtemp(prefix="pg_rotate-clone-")
    try:
        clone = os.path.join(workdir, "pg_rotate")
        util.run(["git", "clone", "-q", "--no-checkout", util.REPO, clone], timeout=300)
        util.run(["git", "-C", clone, "checkout", "-q", "--detach", head])
        assert os.listdir(workdir) == ["pg_rotate"]
        env = util.child_env(PG_CONFIG=os.environ.get("PG_CONFIG", "pg_config"),
                             SANITIZE=os.environ.get("SANITIZE", "0"))
        proc = subprocess.run(["make", "-C", clone, "unit"], capture_output=True, text=True,
                              env=env, timeout=900)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-6000:]
        assert "vectors from test/unit/sigv4-vectors" in out
        assert "../shared" not in out
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
