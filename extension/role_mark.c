/*-------------------------------------------------------------------------
 *
 * role_mark.c
 *	  The marks of managed roles: the per-database role setting
 *	  pg_rotate.managed = on, one for each database whose allow-list
 *	  lists the role.
 *
 * rotate.managed_role lives in one database, but a role belongs to the
 * whole cluster: a managed role that connects to a database without
 * pg_rotate must not be able to change its password there either.  So
 * listing a role also marks it in pg_db_role_setting, a shared catalog
 * every database can read, and the self-change hook honours a mark from
 * any database.
 *
 * The mark is "ALTER ROLE role IN DATABASE db SET pg_rotate.managed = on":
 * the catalog keys it by (database, role OID), so
 *	- it follows the role, not its name: a rename keeps it, DROP ROLE
 *	  removes it, and a new role that takes the name has none;
 *	- each database's list has marks of its own: unlisting a role in one
 *	  database leaves the marks of the others, DROP DATABASE removes that
 *	  database's;
 *	- set_password can ask whether this database's mark is there, and
 *	  refuses when it is not (a superuser removed it, or a restore skipped
 *	  the triggers) rather than rotate a role nothing protects.
 * pg_rotate.managed is a superuser-only setting, so a role cannot remove
 * its own mark while the library is loaded.  Marks are written as the
 * extension's owner, who can set it.  DROP EXTENSION leaves the marks;
 * "ALTER ROLE name IN DATABASE db RESET pg_rotate.managed" clears one.
 *
 * pg_rotate 1.0 set one cluster-wide mark instead (database 0), cleared by
 * the first database to unlist the role.  Such a mark still counts; it is
 * cleared when the role leaves the last list that marks it.
 *
 * extension/role_mark.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_db_role_setting.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

#include "compat.h"
#include "pg_rotate.h"

/* Does the setconfig of pg_db_role_setting row tup hold the mark? */
static bool
row_has_mark(HeapTuple tup, TupleDesc desc)
{
	bool		isnull;
	Datum		config;
	Datum	   *items;
	bool	   *nulls;
	int			n;
	bool		marked = false;

	config = heap_getattr(tup, Anum_pg_db_role_setting_setconfig, desc, &isnull);
	if (isnull)
		return false;
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
	return marked;
}

/*
 * marked_scan
 *		The databases whose mark roleid carries (InvalidOid for 1.0's
 *		cluster-wide one); with roleid invalid, the roles marked in database
 *		dbid instead.  A scan of pg_db_role_setting, a small catalog.
 */
static List *
marked_scan(Oid roleid, Oid dbid)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *result = NIL;

	rel = table_open(DbRoleSettingRelationId, AccessShareLock);
	if (OidIsValid(roleid))
		ScanKeyInit(&key, Anum_pg_db_role_setting_setrole,
					BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(roleid));
	else
		ScanKeyInit(&key, Anum_pg_db_role_setting_setdatabase,
					BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(dbid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_db_role_setting form = (Form_pg_db_role_setting) GETSTRUCT(tup);

		if (row_has_mark(tup, RelationGetDescr(rel)))
			result = lappend_oid(result, OidIsValid(roleid)
								 ? form->setdatabase : form->setrole);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/* Run one ALTER ROLE statement as the extension's owner. */
static void
run_as_extension_owner(const char *sql)
{
	Oid			owner = rotate_extension_owner();
	Oid			save_userid;
	int			save_sec_context;

	if (!OidIsValid(owner))
		elog(ERROR, "extension \"%s\" does not exist", PG_ROTATE_EXTENSION);
	/* an error aborts the transaction, which restores the user id */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "SPI_execute failed: %s", sql);
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/*
 * role_mark_set
 *		Mark roleid as listed in this database, or clear that mark (and
 *		1.0's cluster-wide one once no database marks the role).  A role
 *		that no longer exists has no marks to change.
 */
void
role_mark_set(Oid roleid, bool managed)
{
	char	   *role = GetUserNameFromId(roleid, true);
	char	   *db = get_database_name(MyDatabaseId);
	List	   *dbs;

	if (role == NULL || db == NULL)
		return;
	role = pstrdup(quote_identifier(role));
	db = pstrdup(quote_identifier(db));
	if (managed)
	{
		run_as_extension_owner(psprintf("ALTER ROLE %s IN DATABASE %s SET "
										PG_ROTATE_MARK " = on", role, db));
		return;
	}
	run_as_extension_owner(psprintf("ALTER ROLE %s IN DATABASE %s RESET "
									PG_ROTATE_MARK, role, db));
	CommandCounterIncrement();
	dbs = marked_scan(roleid, InvalidOid);
	if (list_length(dbs) == 1 && linitial_oid(dbs) == InvalidOid)
		run_as_extension_owner(psprintf("ALTER ROLE %s RESET " PG_ROTATE_MARK,
										role));
}

/*
 * role_mark_clear_database
 *		Clear every mark of this database (the list was truncated).
 */
void
role_mark_clear_database(void)
{
	ListCell   *lc;

	foreach(lc, marked_scan(InvalidOid, MyDatabaseId))
		role_mark_set(lfirst_oid(lc), false);
}

/*
 * role_is_marked
 *		Is roleid marked as managed by any database?  Reads
 *		pg_db_role_setting directly: the settings of another role, or for
 *		another database, are not visible through the GUC machinery.
 */
bool
role_is_marked(Oid roleid)
{
	return marked_scan(roleid, InvalidOid) != NIL;
}

/*
 * role_is_marked_here
 *		Is roleid marked as listed in this database (or by 1.0's
 *		cluster-wide mark)?
 */
bool
role_is_marked_here(Oid roleid)
{
	List	   *dbs = marked_scan(roleid, InvalidOid);

	return list_member_oid(dbs, MyDatabaseId) || list_member_oid(dbs, InvalidOid);
}
