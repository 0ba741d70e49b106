/*-------------------------------------------------------------------------
 *
 * reach.c
 *	  The roles a role can become, and the roles that can become it,
 *	  through pg_auth_members.
 *
 * pg_rotate counts every membership, whatever its options: INHERIT or
 * NOINHERIT (a member that does not inherit may still SET ROLE), and on
 * PostgreSQL 16 and later a grant WITH INHERIT FALSE, SET FALSE too (it
 * confers nothing today, but whoever granted it can change its options
 * without touching the member, and the grantee of one with ADMIN OPTION
 * may grant the role onward).  So the walk reads only roleid and member,
 * which every supported release has, and needs no compat.h shim.  It
 * follows the same grants as PostgreSQL's is_member_of_role(), whose list
 * acl.c keeps private, but for the implicit membership of a database's
 * owner in pg_database_owner: owning the database of the audit log is a
 * refusal of its own (policy.c).
 *
 * Both walks go through the catalog cache (AUTHMEMMEMROLE, AUTHMEMROLEMEM
 * lists), so a role with no memberships costs one cache lookup.
 *
 * extension/reach.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_auth_members.h"
#include "nodes/pg_list.h"
#include "utils/catcache.h"
#include "utils/syscache.h"

#include "compat.h"
#include "pg_rotate.h"

/*
 * walk
 *		roleid followed by every role reachable from it, each once, nearest
 *		first.  up: the roles it is a member of (directly or not); else the
 *		roles that are members of it.
 */
static List *
walk(Oid roleid, bool up)
{
	List	   *roles = list_make1_oid(roleid);

	/* the list grows while we read it: breadth first, cycles impossible */
	for (int i = 0; i < list_length(roles); i++)
	{
		Oid			from = list_nth_oid(roles, i);
		CatCList   *grants;

		grants = SearchSysCacheList1(up ? AUTHMEMMEMROLE : AUTHMEMROLEMEM,
									 ObjectIdGetDatum(from));
		for (int j = 0; j < grants->n_members; j++)
		{
			Form_pg_auth_members m;

			m = (Form_pg_auth_members) GETSTRUCT(&grants->members[j]->tuple);
			roles = list_append_unique_oid(roles, up ? m->roleid : m->member);
		}
		ReleaseSysCacheList(grants);
	}
	return roles;
}

/*
 * reach_up
 *		roleid, then every role roleid can become: it is a member of it,
 *		directly or through other roles, under any grant options.
 *		palloc'd list.
 */
List *
reach_up(Oid roleid)
{
	return walk(roleid, true);
}

/*
 * reach_down
 *		roleid, then every role that can become roleid.  palloc'd list.
 */
List *
reach_down(Oid roleid)
{
	return walk(roleid, false);
}
