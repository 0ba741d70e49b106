/*-------------------------------------------------------------------------
 *
 * role_mark.c
 *	  The cluster-wide mark of a managed role: the role setting
 *	  pg_rotate.managed = on.
 *
 * rotate.managed_role lives in one database, but a role belongs to the
 * whole cluster: a managed role that connects to a database without
 * pg_rotate must not be able to change its password there either.  So
 * the allow-list's trigger also marks the role in pg_db_role_setting (a
 * shared catalog, readable from every database), and the self-change hook
 * honours the mark everywhere.  pg_rotate.managed is a superuser-only
 * setting, so the role cannot remove its own mark while the library is
 * loaded.
 *
 * One mark serves every database: removing the role from any database's
 * allow-list removes it (the databases with pg_rotate still check their
 * own list).  DROP EXTENSION leaves the marks; "ALTER ROLE name RESET
 * pg_rotate.managed" clears one.
 *
 * extension/role_mark.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/pg_db_role_setting.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

#include "compat.h"
#include "pg_rotate.h"

/*
 * role_mark_set
 *		Mark role_name as managed (or clear the mark), as the extension's
 *		owner.  A name that is not a role (yet) is left alone: the
 *		allow-list may name a role before it is created, and a restore may
 *		load the list before the roles.  So are the reserved pg_* roles,
 *		which cannot be altered (and which set_password refuses anyway).
 */
void
role_mark_set(const char *role_name, bool managed)
{
	RotateObjects objs;
	Oid			save_userid;
	int			save_sec_context;
	char	   *sql;

	if (role_name == NULL || IsReservedName(role_name) ||
		!OidIsValid(get_role_oid(role_name, true)))
		return;
	rotate_require_objects(&objs);
	sql = psprintf(managed ? "ALTER ROLE %s SET " PG_ROTATE_MARK " = on"
				   : "ALTER ROLE %s RESET " PG_ROTATE_MARK,
				   quote_identifier(role_name));

	/* an error aborts the transaction, which restores the user id */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(objs.owner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "SPI_execute failed: %s", sql);
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/*
 * role_is_marked
 *		Does roleid carry pg_rotate.managed = on (for all databases)?
 *		Reads pg_db_role_setting directly: the setting of another role is
 *		not visible through the GUC machinery.
 */
bool
role_is_marked(Oid roleid)
{
	Relation	rel;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		marked = false;

	rel = table_open(DbRoleSettingRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_db_role_setting_setdatabase,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(InvalidOid));
	ScanKeyInit(&key[1], Anum_pg_db_role_setting_setrole,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(roleid));
	scan = systable_beginscan(rel, DbRoleSettingDatidRolidIndexId, true,
							  NULL, 2, key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		config = heap_getattr(tup, Anum_pg_db_role_setting_setconfig,
										  RelationGetDescr(rel), &isnull);

		if (!isnull)
		{
			Datum	   *items;
			bool	   *nulls;
			int			n;

			deconstruct_array(DatumGetArrayTypeP(config), TEXTOID, -1, false,
							  TYPALIGN_INT, &items, &nulls, &n);
			for (int i = 0; i < n && !marked; i++)
			{
				char	   *item;
				char	   *eq;
				bool		on;

				if (nulls[i])
					continue;
				item = TextDatumGetCString(items[i]);
				eq = strchr(item, '=');
				if (eq == NULL)
					continue;
				*eq = '\0';
				marked = pg_strcasecmp(item, PG_ROTATE_MARK) == 0 &&
					parse_bool(eq + 1, &on) && on;
			}
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return marked;
}
