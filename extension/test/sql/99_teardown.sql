--
-- 99_teardown: drop the test roles and helpers
--
-- the flavour under test (C or SQL-only); cases that need C are marked
-- with \if :c_flavour
\i test/sql/flavour.psql

DELETE FROM rotate.managed_role;
SELECT count(*) AS roles_removed FROM public.regress_new_audit() WHERE event = 'role_removed';
SELECT * FROM rotate.verify_audit_log();
DROP FUNCTION public.regress_new_audit();
DROP TABLE public.regress_mark;
DROP OWNED BY regress_rotator, regress_auditor;
DROP ROLE regress_rotator, regress_auditor, regress_app, regress_app2,
	regress_unmanaged, regress_super, regress_repl, regress_bypass,
	regress_creator, regress_owner, regress_member, regress_middle,
	"regress_quo'te""d", "regress space; DROP ROLE regress_app",
	"regress_ünïcødé_パスワード",
	regress_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx;
SELECT count(*) AS regress_roles_left FROM pg_roles WHERE rolname LIKE 'regress%';
