"""Proving that secrets never reach logs, output, argv or tables.

Failure messages name where a secret was found and a fingerprint of it, never
the secret itself: test output must not leak what the test looks for.
"""

import hashlib
import json
import os
import threading


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


class Collector:
    """Every secret a group of tests made and every text they produced that
    must not hold one, gathered as they run and scanned at the end
    (test_reliability_leaks.py). While sampling, a thread reads every
    process's argv every few milliseconds (distinct command lines are kept)."""

    def __init__(self):
        self.secrets = set()
        self.texts = {}
        self.cmdlines = set()
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._sampler = None

    def add_secret(self, *values):
        with self.lock:
            self.secrets.update(v for v in values if v)

    def add_text(self, name, text):
        with self.lock:
            n = len(self.texts)
            self.texts[f"{name} #{n}"] = text or ""

    def record(self, what, proc):
        """A finished subprocess: its stdout and stderr."""
        self.add_text(f"{what} stdout", proc.stdout)
        self.add_text(f"{what} stderr", proc.stderr)
        return proc

    def harvest(self, scenario, roles=None, secret_ids=None):
        """The passwords of every version of the scenario's secrets, its admin
        and IAM secrets, the SCRAM keys the server stores for its roles, and
        its audit table, read before the scenario's database goes away."""
        self.add_secret(scenario.admin_password, scenario.initial_password)
        if scenario.creds:
            self.add_secret(scenario.creds[1])
        for secret_id in secret_ids or [scenario.app_secret, scenario.admin_secret]:
            try:
                listed = scenario.sm.list_secret_version_ids(
                    SecretId=secret_id, IncludeDeprecated=True)["Versions"]
            except Exception:  # noqa: BLE001 - a secret deleted by the test
                continue
            for v in listed:
                try:
                    value = scenario.sm.get_secret_value(SecretId=secret_id,
                                                         VersionId=v["VersionId"])
                    self.add_secret(json.loads(value["SecretString"]).get("password"))
                except Exception:  # noqa: BLE001 - a version without a value
                    continue
        self.harvest_verifiers(scenario.pg, roles or [scenario.app_role, scenario.admin_role])
        try:
            audit = scenario.pg.psql("SELECT a::text FROM rotate.audit_log a ORDER BY id",
                                     dbname=scenario.dbname)
            self.add_text(f"rotate.audit_log of {scenario.dbname}", audit)
        except RuntimeError:
            pass

    def harvest_verifiers(self, pg, roles):
        """StoredKey and ServerKey of the roles' current SCRAM verifiers."""
        conn = pg.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT rolpassword FROM pg_authid WHERE rolname = ANY(%s)",
                            (list(roles),))
                for (verifier,) in cur.fetchall():
                    if verifier and verifier.startswith("SCRAM-SHA-256$"):
                        keys = verifier.split("$")[2]
                        self.add_secret(*keys.split(":"))
        finally:
            conn.close()

    # ----- argv sampling --------------------------------------------------
    def start_sampling(self, interval=0.003):
        def loop():
            while not self._stop.is_set():
                seen = set(process_cmdlines().values())
                with self.lock:
                    self.cmdlines |= seen
                self._stop.wait(interval)
        self._stop.clear()
        self._sampler = threading.Thread(target=loop, daemon=True)
        self._sampler.start()
        return self

    def stop_sampling(self):
        self._stop.set()
        if self._sampler:
            self._sampler.join()
            self._sampler = None

    def sources(self):
        """name -> text of everything gathered (argv samples as one text)."""
        with self.lock:
            out = dict(self.texts)
            out["/proc/*/cmdline samples"] = "\n".join(sorted(self.cmdlines))
        return out
