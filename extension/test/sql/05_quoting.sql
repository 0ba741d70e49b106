--
-- 05_quoting: role names that need quoting (quotes, spaces, unicode, the
-- 63-byte maximum) go through untouched
--
-- the flavour under test (C or SQL-only); cases that need C are marked
-- with \if :c_flavour
\i test/sql/flavour.psql

\set v1 'SCRAM-SHA-256$4096:cmVncmVzcy1zYWx0LTAwMQ==$PwW+YYSFo3b0fEYlQZnxBTb2jNQW3DsrZueETaPdWkM=:ZTV6pCV4vRKdR29acqQUp2RwOBYOWxC4RiF9Xd1Kk6E='

CREATE ROLE "regress_quo'te""d" LOGIN;
CREATE ROLE "regress space; DROP ROLE regress_app" LOGIN;
CREATE ROLE "regress_ünïcødé_パスワード" LOGIN;
CREATE ROLE regress_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx LOGIN;
SELECT rolname, octet_length(rolname) FROM pg_roles
 WHERE rolname LIKE 'regress\_x%' OR rolname LIKE 'regress\_ü%' ORDER BY 1;
INSERT INTO rotate.managed_role (role_name) VALUES
	('regress_quo''te"d'),
	('regress space; DROP ROLE regress_app'),
	('regress_ünïcødé_パスワード'),
	('regress_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');

SET SESSION AUTHORIZATION regress_rotator;
SELECT rotate.set_password('regress_quo''te"d', :'v1') > 0 AS set;
SELECT rotate.set_password('regress space; DROP ROLE regress_app', :'v1') > 0 AS set;
SELECT rotate.set_password('regress_ünïcødé_パスワード', :'v1', 'arn:ü', 'v-ü') > 0 AS set;
SELECT rotate.set_password('regress_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', :'v1') > 0 AS set;
-- names that differ only by quoting are different roles
SELECT rotate.set_password('"regress_quo''te""d"', :'v1');
SELECT rotate.set_password('REGRESS_APP', :'v1');
-- longer than 63 bytes: truncated like any name, so the same role
SELECT rotate.set_password('regress_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxyyy', :'v1') > 0 AS set;
SELECT rotate.log_event('regress_ünïcødé_パスワード', 'tested', 'arn:ü', 'v-ü',
                        '{"note": "ünïcødé \"quoted\""}') > 0 AS logged;
RESET SESSION AUTHORIZATION;

SELECT rolname, rolpassword = :'v1' AS set FROM pg_authid
 WHERE rolname IN ('regress_quo''te"d', 'regress space; DROP ROLE regress_app',
                   'regress_ünïcødé_パスワード',
                   'regress_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')
 ORDER BY 1;
SELECT * FROM public.regress_new_audit();
SELECT * FROM rotate.verify_audit_log();
