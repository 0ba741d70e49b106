"""The harness itself: the cluster is what the other tests assume it is, the
log check can see a secret when one is there, and moto really checks auth."""

import json

import pytest

from harness.leakscan import assert_no_leaks, find_leaks, fingerprint


def test_cluster_has_ssl_on_and_extension_preloaded(pg):
    assert pg.psql("SHOW ssl").strip() == "on"
    assert "pg_rotate" in pg.psql("SHOW shared_preload_libraries")
    assert pg.psql("SHOW listen_addresses").strip() == "127.0.0.1"
    assert pg.psql("SHOW log_statement").strip() == "all"


def test_tcp_logins_use_tls_and_verify_the_server(pg):
    pg.psql("DROP ROLE IF EXISTS regress_tls; "
            "CREATE ROLE regress_tls LOGIN PASSWORD 'tls-check-Pw1'")
    try:
        conn = pg.connect(user="regress_tls", password="tls-check-Pw1",
                          sslmode="verify-full")
        with conn.cursor() as cur:
            cur.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            ssl, version = cur.fetchone()
        conn.close()
        assert ssl is True and version.startswith("TLS")
    finally:
        pg.psql("DROP ROLE regress_tls")


def test_log_check_catches_a_planted_secret(pg):
    """The leak scan must fail when a secret is in the log, or it proves nothing."""
    planted = "planted-Secret-" + "7f3a9c"
    mark = pg.log_mark()
    pg.psql(f"SELECT '{planted}' AS deliberately_logged")
    found = find_leaks([planted], {"server log": pg.log_since(mark)})
    assert found == [f"server log holds {fingerprint(planted)}"]
    with pytest.raises(AssertionError) as exc:
        assert_no_leaks([planted], {"server log": pg.log_since(mark)})
    assert planted not in str(exc.value)


def test_moto_checks_signatures_and_iam_once_auth_is_on(moto_clean):
    moto = moto_clean
    allowed = moto.create_iam_user("regress-allowed", {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}]})
    denied = moto.create_iam_user("regress-denied", {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "secretsmanager:ListSecrets",
                       "Resource": "*"}]})
    moto.enable_auth()
    ok = moto.aws_cli(["secretsmanager", "create-secret", "--name", "regress-h",
                       "--secret-string", json.dumps({"k": "v"})],
                      env=moto.aws_env(*allowed))
    assert json.loads(ok.stdout)["Name"] == "regress-h"
    refused = moto.aws_cli(["secretsmanager", "describe-secret", "--secret-id", "regress-h"],
                           env=moto.aws_env(*denied), check=False)
    assert refused.returncode == 254 and "AccessDenied" in refused.stderr   # a service error
    bad_sig = moto.aws_cli(["secretsmanager", "describe-secret", "--secret-id", "regress-h"],
                           env=moto.aws_env(allowed[0], "wrong" + allowed[1][5:]), check=False)
    assert bad_sig.returncode == 254 and "SignatureDoesNotMatch" in bad_sig.stderr
