"""Proving that secrets never reach logs, output, argv or tables.

Failure messages name where a secret was found and a fingerprint of it, never
the secret itself: test output must not leak what the test looks for.
"""

import hashlib
import os


def fingerprint(secret):
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


def find_leaks(secrets, sources):
    """secrets: iterable of strings; sources: dict name -> text.
    Returns a list of "name holds sha256:..." findings (empty when clean)."""
    found = []
    for name, text in sources.items():
        for secret in secrets:
            if secret and secret in text:
                found.append(f"{name} holds {fingerprint(secret)}")
    return found


def assert_no_leaks(secrets, sources):
    found = find_leaks(secrets, sources)
    assert not found, "secret found: " + "; ".join(found)


def process_cmdlines():
    """Every process's argv, as one text per pid (for `ps`-style checks)."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                out[f"/proc/{pid}/cmdline"] = f.read().replace(b"\0", b" ").decode(
                    errors="replace")
        except OSError:
            continue
    return out
