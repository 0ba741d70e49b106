/*-------------------------------------------------------------------------
 *
 * managed_role.c
 *	  The allow-list, rotate.managed_role: what it says of a role (read as
 *	  the table's owner), and the BEFORE trigger that checks every entry
 *	  and records its role's OID.
 *
 * The list names roles, but a name outlives its role: the role may be
 * dropped and another created under the name, or renamed and the name
 * reused.  Since 1.1 each entry also holds the OID of the role it named
 * when it was written (role_oid, filled by the trigger from role_name,
 * whatever the statement said), so set_password can tell the listed role
 * from a newcomer.  An entry must name an existing role that
 * policy_check_listing() accepts; "UPDATE ... SET role_name = role_name"
 * checks an entry again and binds it to the role that now has the name.
 *
 * A database still at 1.0 has no role_oid: there the list is read by name,
 * as 1.0 did, and managed_role_audit() (audit.c) checks new entries.
 *
 * extension/managed_role.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "compat.h"
#include "pg_rotate.h"

PG_FUNCTION_INFO_V1(pg_rotate_managed_role_check);

static SPIPlanPtr listed_plan = NULL;
static SPIPlanPtr by_name_plan = NULL;
static SPIPlanPtr by_oid_plan = NULL;

/*
 * read_list
 *		Run a one-parameter query of rotate.managed_role as the table's
 *		owner, so that callers need no privilege on it.  Returns
 *		whether it found a row; *value and *isnull get its first column.
 */
static bool
read_list(SPIPlanPtr *plan, const char *sql, Oid argtype, Datum arg,
		  Datum *value, bool *isnull)
{
	RotateObjects objs;
	Oid			save_userid;
	int			save_sec_context;
	bool		found;
	int			rc;

	rotate_require_objects(&objs);
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(objs.list_owner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, 1, &argtype);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		*plan = p;
	}
	rc = SPI_execute_plan(*plan, &arg, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read rotate.managed_role: %s",
			 SPI_result_code_string(rc));
	found = (SPI_processed > 0);
	*isnull = true;
	if (found)
		*value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
							   isnull);
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return found;
}

/*
 * policy_role_is_managed
 *		Is rolename listed in rotate.managed_role, whatever role it names
 *		(1.0's question, and rotate.log_event's)?  The caller has checked
 *		that the extension's objects exist.
 */
bool
policy_role_is_managed(const char *rolename)
{
	Datum		value;
	bool		isnull;

	return read_list(&listed_plan,
					 "SELECT 1 FROM rotate.managed_role"
					 " WHERE role_name OPERATOR(pg_catalog.=) $1",
					 NAMEOID, DirectFunctionCall1(namein, CStringGetDatum(rolename)),
					 &value, &isnull);
}

/*
 * managed_role_listing
 *		What this database's allow-list says of role roleid, named
 *		rolename: not listed, listed, or listed under this name for another
 *		(dropped or renamed) role.  A 1.0 list says only "listed" or not.
 */
Listing
managed_role_listing(const char *rolename, Oid roleid)
{
	RotateObjects objs;
	Datum		value;
	bool		isnull;

	rotate_require_objects(&objs);
	if (!objs.listing_by_oid)
		return policy_role_is_managed(rolename) ? LISTING_THIS_ROLE : LISTING_NONE;

	if (!read_list(&by_name_plan,
				   "SELECT role_oid FROM rotate.managed_role"
				   " WHERE role_name OPERATOR(pg_catalog.=) $1",
				   NAMEOID, DirectFunctionCall1(namein, CStringGetDatum(rolename)),
				   &value, &isnull))
		return LISTING_NONE;
	if (isnull || DatumGetObjectId(value) != roleid)
		return LISTING_OTHER_ROLE;
	return LISTING_THIS_ROLE;
}

/*
 * managed_role_is_listed
 *		Is role roleid in this database's allow-list, under whatever name
 *		(by name in a 1.0 list)?  The caller has checked that the
 *		extension's objects exist.
 */
bool
managed_role_is_listed(Oid roleid)
{
	RotateObjects objs;
	Datum		value;
	bool		isnull;

	rotate_require_objects(&objs);
	if (!objs.listing_by_oid)
		return policy_role_is_managed(GetUserNameFromId(roleid, false));
	return read_list(&by_oid_plan,
					 "SELECT 1 FROM rotate.managed_role"
					 " WHERE role_oid OPERATOR(pg_catalog.=) $1",
					 OIDOID, ObjectIdGetDatum(roleid), &value, &isnull);
}

/*
 * managed_role_check_entry
 *		Check that rolename may be listed (policy_check_listing) and return
 *		its role's OID; raise the refusal as an ERROR otherwise.  Listing
 *		refusals are not audited: the statement is a superuser's own, and
 *		it fails.
 */
Oid
managed_role_check_entry(const char *rolename)
{
	PolicyDenial d;
	Oid			roleid;

	if (!policy_check_listing(rolename, &roleid, &d))
		policy_raise(&d);
	return roleid;
}

/*
 * pg_rotate_managed_role_check
 *		BEFORE INSERT OR UPDATE (row) trigger on rotate.managed_role: check
 *		the entry and set its role_oid to the OID of the role role_name
 *		names now.
 */
Datum
pg_rotate_managed_role_check(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	HeapTuple	tuple;
	int			fno_name;
	int			fno_oid;
	char	   *rolename;
	Datum		value;
	bool		isnull = false;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired as a BEFORE INSERT OR UPDATE row trigger",
						"pg_rotate_managed_role_check")));

	tupdesc = trigdata->tg_relation->rd_att;
	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event)
		? trigdata->tg_newtuple : trigdata->tg_trigtuple;
	fno_name = SPI_fnumber(tupdesc, "role_name");
	fno_oid = SPI_fnumber(tupdesc, "role_oid");
	if (fno_name <= 0 || fno_oid <= 0)
		elog(ERROR, "rotate.managed_role lacks role_name or role_oid");

	rolename = SPI_getvalue(tuple, tupdesc, fno_name);
	if (rolename == NULL)
		return PointerGetDatum(tuple);	/* the NOT NULL constraint says so */
	value = ObjectIdGetDatum(managed_role_check_entry(rolename));
	return PointerGetDatum(heap_modify_tuple_by_cols(tuple, tupdesc, 1, &fno_oid,
													 &value, &isnull));
}
