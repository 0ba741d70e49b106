"""The audit log's anchor on the client's side (issue 17, class 5): every
rotation's result carries the chain's tip as it was right after its last
audit write; --anchor-in-secret keeps the tip in each new version; and
`pg_rotate check --audit` finds a log cut or re-chained since, through
rotate.verify_audit_log(anchor) or, with --recompute, by recomputing the
row hashes on the client (which a replaced verify_audit_log cannot fool).
Against a real cluster and moto_server with signature and IAM checks on.
"""

import json
import re

import pytest

from harness.scenario import Scenario, new_password, quiet_session

ANCHOR = re.compile(r"^[0-9]{1,18}:[0-9a-f]{64}$")
EXIT_ATTENTION = 3
EXIT_AUDIT_MISMATCH = 5
GUARD = ("UPDATE pg_catalog.pg_event_trigger SET evtenabled = 'D' "
         "WHERE evtname IN ('pg_rotate_audit_log_guard', 'pg_rotate_audit_log_guard_drop');"
         "ALTER TABLE rotate.audit_log DISABLE TRIGGER audit_log_append_only;")


def rotate(scenario, client_bin, *extra):
    proc = scenario.run(client_bin, "rotate", "--secret-id", scenario.app_secret, "--json",
                        *extra)
    assert proc.returncode == 0, proc.stderr
    [result] = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return result, proc


def tip(scenario):
    return scenario.pg.psql("SELECT rotate.audit_anchor()", dbname=scenario.dbname).strip()


def check_audit(scenario, client_bin, *extra, secret=None):
    proc = scenario.run(client_bin, "check", "--secret-id", secret or scenario.app_secret,
                        "--audit", "--json", *extra)
    doc = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc, doc


def as_superuser_without_guard(scenario, sql):
    """What only a superuser who switches the log's guard off can do."""
    scenario.pg.psql(GUARD + sql, dbname=scenario.dbname)


def add_auditor(scenario):
    """A role that may read the log (the README's auditor), and its secret:
    what --recompute connects with. Returns the secret's name."""
    role = f"auditor_{scenario.suffix}"
    password = new_password()
    conn = scenario.pg.connect(dbname=scenario.dbname)
    with conn.cursor() as cur:
        quiet_session(cur)
        cur.execute(f"CREATE ROLE {scenario.ident(role)} LOGIN PASSWORD %s", (password,))
        cur.execute(f"GRANT USAGE ON SCHEMA rotate TO {scenario.ident(role)}")
        cur.execute(f"GRANT SELECT ON rotate.audit_log TO {scenario.ident(role)}")
    conn.close()
    name = f"pgr/{scenario.suffix}/auditor"
    scenario.sm.create_secret(Name=name, SecretString=json.dumps(
        scenario.secret_value(role, password)))
    scenario.extra_roles = getattr(scenario, "extra_roles", []) + [role]
    return name


@pytest.fixture
def audited(scenario):
    """The scenario; the auditor roles add_auditor() made go with it."""
    yield scenario
    roles = getattr(scenario, "extra_roles", [])
    if roles:
        # the database holds their grants: it goes first
        scenario.pg.psql(f'DROP DATABASE IF EXISTS "{scenario.dbname}" WITH (FORCE)',
                         check=False)
    for role in roles:
        scenario.pg.psql(f"DROP ROLE IF EXISTS {scenario.ident(role)}", check=False)


def test_rotation_records_the_tip_after_its_last_write(audited, client_bin):
    s = audited
    result, _ = rotate(s, client_bin)
    anchor = result["audit_anchor"]
    assert ANCHOR.match(anchor), anchor
    # the tip right after "finished", the rotation's last write
    assert anchor == tip(s)
    newest = s.audit()[-1]
    assert (newest["event"], newest["version_id"]) == ("finished", result["version_id"])
    assert anchor.split(":")[0] == str(newest["id"])
    # and the text output names no anchor: the JSON result is where it lives
    proc = s.run(client_bin, "check", "--secret-id", s.app_secret, "--audit", "--anchor", anchor)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (f"audit log of database {s.dbname}: matches anchor {anchor} (from the command "
            f"line; {len(s.audit())} rows, by rotate.verify_audit_log)") in proc.stdout


def test_deleted_newest_row_fails_check_audit(audited, client_bin):
    s = audited
    result, _ = rotate(s, client_bin)
    anchor = result["audit_anchor"]
    anchor_id = int(anchor.split(":")[0])
    auditor = add_auditor(s)
    proc, doc = check_audit(s, client_bin, "--anchor", anchor)
    assert proc.returncode == 0, proc.stderr
    assert doc["audit"]["ok"] is True and doc["audit"]["anchor_source"] == "option"

    as_superuser_without_guard(s, f"DELETE FROM rotate.audit_log WHERE id = {anchor_id}")
    # the chain alone still verifies: only the anchor can tell
    assert s.audit_chain_ok()
    problem = (f"the log ends at row {anchor_id - 1}, before the anchor's row {anchor_id}: "
               "rows were removed from its end, or it was restarted (DROP EXTENSION and "
               "CREATE EXTENSION)")
    for extra in ([], ["--recompute", "--admin-secret-id", auditor]):
        proc, doc = check_audit(s, client_bin, "--anchor", anchor, *extra)
        assert proc.returncode == EXIT_AUDIT_MISMATCH, proc.stderr
        audit = doc["audit"]
        assert (audit["ok"], audit["first_bad_id"], audit["problem"]) == \
            (False, anchor_id, problem)
        assert audit["recomputed"] is bool(extra)
        assert (f'pg_rotate: error: the audit log of database "{s.dbname}" does not match '
                f'anchor "{anchor}"') in proc.stderr
        assert f"pg_rotate: detail: Row {anchor_id}: {problem}." in proc.stderr


def test_rechained_log_fails_check_audit(audited, client_bin):
    """A row rewritten and every later row re-chained with
    rotate.audit_row_hash: the chain verifies, the anchor does not."""
    s = audited
    result, _ = rotate(s, client_bin)
    anchor = result["audit_anchor"]
    anchor_id = int(anchor.split(":")[0])
    first = s.audit()[0]["id"]
    as_superuser_without_guard(s, f"""
        UPDATE rotate.audit_log SET target = 'someone_else' WHERE id = {first};
        DO $$
        DECLARE r rotate.audit_log; prev text;
        BEGIN
            FOR r IN SELECT * FROM rotate.audit_log ORDER BY id LOOP
                r.prev_hash := coalesce(prev, r.prev_hash);
                r.row_hash := rotate.audit_row_hash(r);
                UPDATE rotate.audit_log SET prev_hash = r.prev_hash, row_hash = r.row_hash
                 WHERE id = r.id;
                prev := r.row_hash;
            END LOOP;
        END $$;""")
    assert s.audit_chain_ok()
    proc = s.run(client_bin, "check", "--secret-id", s.app_secret, "--audit", "--anchor", anchor)
    assert proc.returncode == EXIT_AUDIT_MISMATCH, proc.stdout + proc.stderr
    assert (f"audit log of database {s.dbname}: DOES NOT MATCH anchor {anchor}") in proc.stdout
    assert (f"row {anchor_id}: row {anchor_id} no longer has the anchor's hash: the log was "
            "rewritten and re-chained up to that row") in proc.stdout


def test_recompute_is_not_fooled_by_a_replaced_verify_function(audited, client_bin):
    """A superuser cuts the log and replaces rotate.verify_audit_log(anchor)
    with one that always says yes: the server's check lies, the hashes
    recomputed on the client do not."""
    s = audited
    result, _ = rotate(s, client_bin)
    anchor = result["audit_anchor"]
    auditor = add_auditor(s)
    as_superuser_without_guard(s, f"""
        DELETE FROM rotate.audit_log WHERE id = {anchor.split(':')[0]};
        CREATE OR REPLACE FUNCTION rotate.verify_audit_log(anchor text, OUT ok boolean,
            OUT rows_checked bigint, OUT first_bad_id bigint, OUT problem text)
        LANGUAGE sql SECURITY DEFINER
        AS $$ SELECT true, 1::bigint, NULL::bigint, NULL::text $$;""")
    lied, doc = check_audit(s, client_bin, "--anchor", anchor)
    assert lied.returncode == 0 and doc["audit"]["ok"] is True
    proc, doc = check_audit(s, client_bin, "--anchor", anchor, "--recompute",
                            "--admin-secret-id", auditor)
    assert proc.returncode == EXIT_AUDIT_MISMATCH, proc.stderr
    assert doc["audit"]["recomputed"] is True and doc["audit"]["ok"] is False
    assert doc["audit"]["rows_checked"] == len(s.audit())


def test_recompute_needs_select_on_the_log(audited, client_bin):
    s = audited
    result, _ = rotate(s, client_bin)
    proc = s.run(client_bin, "check", "--secret-id", s.app_secret, "--audit", "--recompute",
                 "--anchor", result["audit_anchor"])
    assert proc.returncode == 1, proc.stderr
    assert "pg_rotate: error: could not read rotate.audit_log: permission denied" in proc.stderr
    assert ("pg_rotate: hint: --recompute reads every row: the role needs SELECT on "
            "rotate.audit_log (pass an auditor's secret with --admin-secret-id).") in proc.stderr


def test_anchor_in_secret_is_checked_without_naming_it(audited, client_bin):
    """--anchor-in-secret: each new version holds the tip as it was when the
    version was made, with no Secrets Manager call more; check --audit then
    takes it from AWSCURRENT."""
    s = audited
    plain, _ = rotate(s, client_bin)
    before = tip(s)
    result, _ = rotate(s, client_bin, "--anchor-in-secret")
    assert result["sm_calls"] == plain["sm_calls"] == 7
    stored = s.value("AWSCURRENT")["pg_rotate_audit_anchor"]
    assert stored == before and result["audit_anchor"] == tip(s) != stored
    proc, doc = check_audit(s, client_bin)
    assert proc.returncode == 0, proc.stderr
    assert (doc["audit"]["anchor"], doc["audit"]["anchor_source"], doc["audit"]["ok"]) == \
        (stored, "secret", True)
    # the next rotation without the option does not carry it forward
    rotate(s, client_bin)
    assert "pg_rotate_audit_anchor" not in s.value("AWSCURRENT")
    assert s.value("AWSPREVIOUS")["pg_rotate_audit_anchor"] == stored


def test_anchor_in_secret_by_steps_and_no_extension_refused(audited, client_bin):
    s = audited
    token = s.start_pending()
    before = tip(s)
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        proc = s.run(client_bin, "step", "--step", step, "--secret-id", s.app_secret,
                     "--token", token, "--anchor-in-secret")
        assert proc.returncode == 0, proc.stderr
    assert s.value("AWSCURRENT")["pg_rotate_audit_anchor"] == before
    refused = s.run(client_bin, "rotate", "--secret-id", s.app_secret, "--anchor-in-secret",
                    "--no-extension")
    assert refused.returncode == 2
    assert ("pg_rotate: error: --anchor-in-secret cannot be used with --no-extension"
            in refused.stderr)


def test_no_anchor_anywhere_is_attention(audited, client_bin):
    s = audited
    rotate(s, client_bin)
    proc = s.run(client_bin, "check", "--secret-id", s.app_secret, "--audit")
    assert proc.returncode == EXIT_ATTENTION, proc.stdout + proc.stderr
    assert ("attention: no audit log anchor to check against (pass --anchor, or rotate with "
            "--anchor-in-secret): only the chain's consistency was checked") in proc.stdout
    assert f"audit log of database {s.dbname}: chain consistent, no anchor" in proc.stdout
    proc, doc = check_audit(s, client_bin)
    assert proc.returncode == EXIT_ATTENTION
    assert doc["audit"]["anchor_source"] == "none" and doc["audit"]["anchor"] is None
    assert doc["attention"] == ["no audit log anchor to check against (pass --anchor, or "
                                "rotate with --anchor-in-secret): only the chain's "
                                "consistency was checked"]


def test_bad_anchor_option_is_a_usage_error(audited, client_bin):
    s = audited
    proc = s.run(client_bin, "check", "--secret-id", s.app_secret, "--audit", "--anchor", "7:xyz")
    assert proc.returncode == 2
    assert "pg_rotate: error: --anchor: invalid audit log anchor" in proc.stderr
    proc = s.run(client_bin, "check", "--secret-id", s.app_secret, "--recompute")
    assert proc.returncode == 2
    assert "pg_rotate: error: --recompute is an option of --audit" in proc.stderr


def test_extension_1_0_rotates_without_anchor_and_says_so_once(pg, moto_clean, client_bin):
    """A database still at 1.0 (no rotate.audit_anchor()): rotations go on,
    with a null anchor, and the warning comes once for the whole run."""
    s = Scenario(pg, moto_clean).setup(extension=False)
    try:
        second = f"{s.app_role}_2"
        pg.psql(f"CREATE EXTENSION pg_rotate VERSION '1.0';"
                f"GRANT USAGE ON SCHEMA rotate TO {s.ident(s.admin_role)};"
                "GRANT EXECUTE ON FUNCTION rotate.set_password(name, text, text, text), "
                "rotate.log_event(name, text, text, text, jsonb) "
                f"TO {s.ident(s.admin_role)};"
                f"CREATE ROLE {s.ident(second)} LOGIN;"
                f"INSERT INTO rotate.managed_role (role_name) VALUES ('{s.app_role}'), "
                f"('{second}')", dbname=s.dbname)
        value = s.secret_value(second, "unused-by-the-test")
        value["masterarn"] = s.admin_arn
        pg.psql(f"ALTER ROLE {s.ident(second)} PASSWORD 'unused-by-the-test'")
        s.sm.create_secret(Name=s.app_secret + "-2", SecretString=json.dumps(value))
        s.enable_auth()
        proc = s.run(client_bin, "rotate", "--secret-id", s.app_secret, "--secret-id",
                     s.app_secret + "-2", "--json")
        assert proc.returncode == 0, proc.stderr
        results = [json.loads(line) for line in proc.stdout.splitlines()]
        assert [r["outcome"] for r in results] == ["rotated", "rotated"]
        assert [r["audit_anchor"] for r in results] == [None, None]
        warning = (f'pg_rotate: warning: the pg_rotate extension in database "{s.dbname}" has '
                   "no rotate.audit_anchor() (version 1.0): rotations there record no audit "
                   "log anchor; run ALTER EXTENSION pg_rotate UPDATE")
        assert proc.stderr.count(warning) == 1, proc.stderr
        assert "finished" in [r["event"] for r in s.audit()]
    finally:
        s.teardown()
        pg.psql(f"DROP ROLE IF EXISTS {s.ident(s.app_role + '_2')}", check=False)


def test_password_set_outside_pg_rotate_warns_and_still_rotates(audited, client_bin):
    """The pending password was set by hand (a superuser's ALTER ROLE), so
    setSecret finds it logs in and sets nothing; log_event then refuses
    tested and finished (no password_set row). The steps succeed, the
    warning says why in words, and the refusals are audited."""
    s = audited
    token = s.start_pending()
    assert s.run(client_bin, "step", "--step", "createSecret", "--secret-id", s.app_secret,
                 "--token", token).returncode == 0
    pending = s.password("AWSPENDING")
    conn = s.pg.connect(dbname=s.dbname)
    with conn.cursor() as cur:
        quiet_session(cur)
        cur.execute(f"ALTER ROLE {s.ident(s.app_role)} PASSWORD %s", (pending,))
    conn.close()
    outputs = {}
    for step in ("setSecret", "testSecret", "finishSecret"):
        proc = s.run(client_bin, "step", "--step", step, "--secret-id", s.app_secret,
                     "--token", token, "--json")
        assert proc.returncode == 0, proc.stderr
        outputs[step] = (json.loads(proc.stdout), proc.stderr)
    assert s.version_with("AWSCURRENT") == token and s.can_login(pending)
    for step, event in (("testSecret", "tested"), ("finishSecret", "finished")):
        result, stderr = outputs[step]
        assert result["outcome"] == "rotated"
        assert (f'pg_rotate: warning: rotate.audit_log refused "{event}" for version '
                f'"{token}" of secret "{s.app_arn}": it has no password_set row for role '
                f'"{s.app_role}" with that secret and version, as the password was not set '
                "through rotate.set_password (but by hand, or with --no-extension); the "
                'rotation is not affected, and the refusal is recorded as a "denied" row'
                ) in stderr, stderr
    # finishSecret's anchor is still read, after the refusal's own row
    assert outputs["finishSecret"][0]["audit_anchor"] == tip(s)
    denied = [r for r in s.audit() if r["event"] == "denied"]
    assert len(denied) == 2
