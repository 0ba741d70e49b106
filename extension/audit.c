/*-------------------------------------------------------------------------
 *
 * audit.c
 *	  The hash-chained, append-only audit log: every insert into
 *	  rotate.audit_log, the append-only trigger, and the trigger that
 *	  audits changes to rotate.managed_role (and marks its roles).
 *
 * The chain
 * ---------
 * Every row carries prev_hash (the row_hash of the row before it, or 64
 * zeros for the first row) and row_hash, the lowercase hex SHA-256 of the
 * row's canonical serialization, which is, in UTF-8:
 *
 *		"pg_rotate.audit.v1\n" followed by, for each field in this order:
 *			id, logged_at, actor, target, event, secret_id, version_id,
 *			client_addr, application_name, detail, prev_hash
 *		either "-\n" when the field is NULL, or
 *		"<length in characters>:<text>\n"
 *
 * where <text> is:
 *		id					decimal
 *		logged_at			UTC, to_char(logged_at AT TIME ZONE 'UTC',
 *							'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
 *		client_addr			client_addr::text (with the mask: 127.0.0.1/32)
 *		detail				detail::text (jsonb's canonical output)
 *		the others			as stored
 *
 * The SQL function rotate.audit_row_hash(rotate.audit_log) computes the
 * same thing with sha256(); rotate.verify_audit_log() uses it, so the SQL
 * side is an independent check of the C side (and a SQL-only flavour can
 * write rows the C flavour verifies, and vice versa).
 *
 * Ids come from rotate.audit_log_id_seq but are never below the tip's id
 * plus one (see audit_append).
 *
 * Why the chain cannot fork: every writer takes a SHARE ROW EXCLUSIVE lock
 * on rotate.audit_log (self-conflicting, and conflicting with plain
 * INSERTs) before it draws the id from the sequence and reads the tip,
 * and keeps it until its transaction ends.  So ids increase in commit
 * order and each writer sees the previous writer's committed row.  The tip
 * is read with the latest snapshot, not the transaction's, so a
 * REPEATABLE READ transaction also chains onto rows committed after it
 * began (for instance a "denied" row the audit writer committed for it).
 *
 * Rows are written through SPI with $n parameters, as the extension
 * owner, with fully qualified names; nothing a caller controls is ever
 * pasted into SQL text.
 *
 * extension/audit.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/socket.h>
#include <netdb.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "common/ip.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/libpq-be.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "pg_rotate.h"

#define GENESIS_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"

PG_FUNCTION_INFO_V1(pg_rotate_audit_log_append_only);
PG_FUNCTION_INFO_V1(pg_rotate_managed_role_audit);

/* Plans kept for the life of the backend (re-planned by the plan cache). */
static SPIPlanPtr tip_plan = NULL;
static SPIPlanPtr insert_plan = NULL;

/*
 * client_addr_text
 *		The caller's address as inet text, like inet_client_addr(), or NULL
 *		for Unix-socket and background connections.  palloc'd.
 */
static char *
client_addr_text(void)
{
	Port	   *port = MyProcPort;
	char		host[NI_MAXHOST];

	if (port == NULL)
		return NULL;
	if (port->raddr.addr.ss_family != AF_INET &&
		port->raddr.addr.ss_family != AF_INET6)
		return NULL;

	host[0] = '\0';
	if (pg_getnameinfo_all(&port->raddr.addr, port->raddr.salen,
						   host, sizeof(host), NULL, 0,
						   NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return NULL;
	clean_ipv6_addr(port->raddr.addr.ss_family, host);
	return pstrdup(host);
}

/*
 * audit_event_init
 *		Fill *ev for an event by the current session: actor is the session
 *		user, client address and application_name are the session's.
 *		The caller sets secret_id, version_id and detail as needed.
 */
void
audit_event_init(AuditEvent *ev, const char *event, const char *target)
{
	memset(ev, 0, sizeof(*ev));
	ev->actor = GetUserNameFromId(GetSessionUserId(), false);
	ev->target = target;
	ev->event = event;
	ev->client_addr = client_addr_text();
	ev->application_name = (application_name && application_name[0] != '\0')
		? pstrdup(application_name) : NULL;
	ev->detail = NULL;
}

/*
 * audit_json_object
 *		A JSON object from npairs key/value string pairs (pairs[2i] is a
 *		key, pairs[2i+1] its value; a NULL value becomes JSON null).
 *		Returns palloc'd text.
 */
char *
audit_json_object(int npairs, const char *const *pairs)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < npairs; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, pairs[2 * i]);
		appendStringInfoString(&buf, ": ");
		if (pairs[2 * i + 1] == NULL)
			appendStringInfoString(&buf, "null");
		else
			escape_json(&buf, pairs[2 * i + 1]);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* Append one field of the canonical serialization (see the file header). */
static void
canon_field(StringInfo buf, const char *value)
{
	if (value == NULL)
	{
		appendStringInfoString(buf, "-\n");
		return;
	}
	appendStringInfo(buf, "%d:%s\n",
					 pg_mbstrlen_with_len(value, strlen(value)), value);
}

/*
 * canon_timestamp
 *		logged_at as the canonical serialization wants it, in UTC with
 *		microseconds.  palloc'd.
 */
static char *
canon_timestamp(TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	return psprintf("%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
					tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
}

/*
 * audit_row_hash
 *		row_hash of a row whose fields are given in their canonical text
 *		forms.  Returns 64 lowercase hex digits, palloc'd.
 */
static char *
audit_row_hash(const char *const fields[11])
{
	StringInfoData buf;
	char	   *utf8;
	bytea	   *input;
	bytea	   *digest;
	char	   *hex;
	int			len;
	int			i;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "pg_rotate.audit.v1\n");
	for (i = 0; i < 11; i++)
		canon_field(&buf, fields[i]);

	utf8 = pg_server_to_any(buf.data, buf.len, PG_UTF8);
	len = strlen(utf8);
	input = (bytea *) palloc(VARHDRSZ + len);
	SET_VARSIZE(input, VARHDRSZ + len);
	memcpy(VARDATA(input), utf8, len);

	digest = DatumGetByteaPP(DirectFunctionCall1(sha256_bytea,
												 PointerGetDatum(input)));
	hex = palloc0(2 * VARSIZE_ANY_EXHDR(digest) + 1);
	hex_encode(VARDATA_ANY(digest), VARSIZE_ANY_EXHDR(digest), hex);
	return hex;
}

/* Prepare and keep the two statements the writer needs. */
static void
prepare_plans(void)
{
	if (tip_plan == NULL)
	{
		SPIPlanPtr	plan;

		plan = SPI_prepare("SELECT row_hash, id FROM rotate.audit_log"
						   " ORDER BY id DESC LIMIT 1", 0, NULL);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		tip_plan = plan;
	}
	if (insert_plan == NULL)
	{
		Oid			types[12] = {INT8OID, TIMESTAMPTZOID, NAMEOID, NAMEOID,
			TEXTOID, TEXTOID, TEXTOID, INETOID, TEXTOID, JSONBOID,
		TEXTOID, TEXTOID};
		SPIPlanPtr	plan;

		plan = SPI_prepare("INSERT INTO rotate.audit_log (id, logged_at, actor,"
						   " target, event, secret_id, version_id, client_addr,"
						   " application_name, detail, prev_hash, row_hash)"
						   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
						   " $11, $12)", 12, types);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		insert_plan = plan;
	}
}

/* A text Datum, or (Datum) 0 with nulls[i] = 'n' for NULL. */
static Datum
text_or_null(const char *s, char *nulls, int i)
{
	if (s == NULL)
	{
		nulls[i] = 'n';
		return (Datum) 0;
	}
	nulls[i] = ' ';
	return CStringGetTextDatum(s);
}

/* A name Datum, or (Datum) 0 with nulls[i] = 'n' for NULL. */
static Datum
name_or_null(const char *s, char *nulls, int i)
{
	if (s == NULL)
	{
		nulls[i] = 'n';
		return (Datum) 0;
	}
	nulls[i] = ' ';
	return DirectFunctionCall1(namein, CStringGetDatum(s));
}

/*
 * audit_append
 *		Chain *ev onto rotate.audit_log in the current transaction and
 *		return the new row's id.
 *
 * Runs as the owner of rotate.audit_log, whatever the current user is, so
 * neither callers nor triggers need privileges on it.  The chain lock is
 * held until the transaction ends (see the file header).  Scratch memory
 * lives in a short-lived context.
 */
int64
audit_append(const AuditEvent *ev)
{
	RotateObjects objs;
	MemoryContext scratch;
	MemoryContext oldcxt;
	Oid			save_userid;
	int			save_sec_context;
	int64		id;
	TimestampTz now;
	Datum		detail_jsonb;
	Datum		addr_inet = (Datum) 0;
	const char *fields[11];
	const char *prev_hash;
	char	   *row_hash;
	Datum		values[12];
	char		nulls[12];
	int			rc;

	rotate_require_objects(&objs);

	scratch = AllocSetContextCreate(CurrentMemoryContext,
									"pg_rotate audit row",
									ALLOCSET_SMALL_SIZES);
	oldcxt = MemoryContextSwitchTo(scratch);

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(objs.owner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);

	/* Normalize the inputs first: their text forms are what gets hashed. */
	detail_jsonb = DirectFunctionCall1(jsonb_in,
									   CStringGetDatum(ev->detail ? ev->detail : "{}"));
	fields[9] = DatumGetCString(DirectFunctionCall1(jsonb_out, detail_jsonb));
	fields[7] = NULL;
	if (ev->client_addr != NULL)
	{
		addr_inet = DirectFunctionCall1(inet_in,
										CStringGetDatum(ev->client_addr));
		fields[7] = TextDatumGetCString(DirectFunctionCall1(network_show,
															addr_inet));
	}

	/* The chain lock, then the id, then the tip: see the file header. */
	LockRelationOid(objs.audit_log, ShareRowExclusiveLock);
	id = nextval_internal(objs.audit_seq, false);
	now = GetCurrentTimestamp();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	prepare_plans();

	CommandCounterIncrement();
	rc = SPI_execute_snapshot(tip_plan, NULL, NULL, GetLatestSnapshot(),
							  InvalidSnapshot, false, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the tip of rotate.audit_log: %s",
			 SPI_result_code_string(rc));
	if (SPI_processed == 0)
		prev_hash = GENESIS_HASH;
	else
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *tip = SPI_getvalue(tup, desc, 1);
		bool		isnull;
		int64		tip_id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));

		prev_hash = tip ? MemoryContextStrdup(scratch, tip) : GENESIS_HASH;

		/*
		 * The sequence is behind the table when rows were loaded without it
		 * (pg_restore sets the sequence after loading the extension's
		 * tables, and rows may be appended in between).  Ids must keep
		 * growing along the chain, so move it forward.
		 */
		if (!isnull && id <= tip_id)
		{
			id = tip_id + 1;
			DirectFunctionCall2(setval_oid, ObjectIdGetDatum(objs.audit_seq),
								Int64GetDatum(id));
		}
	}

	fields[0] = psprintf(INT64_FORMAT, id);
	fields[1] = canon_timestamp(now);
	fields[2] = ev->actor;
	fields[3] = ev->target;
	fields[4] = ev->event;
	fields[5] = ev->secret_id;
	fields[6] = ev->version_id;
	/* fields[7]: client_addr, above */
	fields[8] = ev->application_name;
	/* fields[9]: detail, above */
	fields[10] = prev_hash;
	row_hash = audit_row_hash(fields);

	values[0] = Int64GetDatum(id);
	nulls[0] = ' ';
	values[1] = TimestampTzGetDatum(now);
	nulls[1] = ' ';
	values[2] = name_or_null(ev->actor, nulls, 2);
	values[3] = name_or_null(ev->target, nulls, 3);
	values[4] = text_or_null(ev->event, nulls, 4);
	values[5] = text_or_null(ev->secret_id, nulls, 5);
	values[6] = text_or_null(ev->version_id, nulls, 6);
	values[7] = addr_inet;
	nulls[7] = ev->client_addr ? ' ' : 'n';
	values[8] = text_or_null(ev->application_name, nulls, 8);
	values[9] = detail_jsonb;
	nulls[9] = ' ';
	values[10] = CStringGetTextDatum(prev_hash);
	nulls[10] = ' ';
	values[11] = CStringGetTextDatum(row_hash);
	nulls[11] = ' ';

	rc = SPI_execute_plan(insert_plan, values, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not insert into rotate.audit_log: %s",
			 SPI_result_code_string(rc));

	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(scratch);
	return id;
}

/*
 * pg_rotate_audit_log_append_only
 *		BEFORE UPDATE OR DELETE (row) and BEFORE TRUNCATE (statement)
 *		trigger on rotate.audit_log: always raises, for every role.
 *
 * The triggers are ENABLE ALWAYS, so session_replication_role = replica
 * does not switch them off either.
 */
Datum
pg_rotate_audit_log_append_only(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *what;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired as a trigger",
						"pg_rotate_audit_log_append_only")));

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		what = "update";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		what = "delete from";
	else if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		what = "truncate";
	else
		what = "modify";

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot %s table \"%s.audit_log\"", what, PG_ROTATE_SCHEMA),
			 errdetail("The audit log is append-only: rows can be added, never changed or removed.")));
	PG_RETURN_NULL();			/* not reached */
}

/*
 * entry_role
 *		The role an allow-list entry is about: its role_oid (1.1 tables),
 *		or in a 1.0 database, which has none, the role its name names now,
 *		checked as 1.1's BEFORE trigger would check it when checked is
 *		true (a new or renamed entry).  InvalidOid when there is none.
 */
static Oid
entry_role(HeapTuple tuple, TupleDesc tupdesc, int fno_name, int fno_oid,
		   bool checked)
{
	bool		isnull;
	Datum		value;
	char	   *name;

	if (fno_oid > 0)
	{
		value = heap_getattr(tuple, fno_oid, tupdesc, &isnull);
		return isnull ? InvalidOid : DatumGetObjectId(value);
	}
	name = SPI_getvalue(tuple, tupdesc, fno_name);
	if (checked)
		return managed_role_check_entry(name);
	return get_role_oid(name, true);
}

/*
 * pg_rotate_managed_role_audit
 *		AFTER INSERT/UPDATE/DELETE (row) and AFTER TRUNCATE (statement)
 *		trigger on rotate.managed_role: records role_added, role_changed
 *		and role_removed rows in the audit log, in the same transaction,
 *		and sets or clears the roles' marks for this database (role_mark.c).
 *		An UPDATE marks the entry's role again, even under the same name:
 *		that is how a superuser restores a missing mark.
 */
Datum
pg_rotate_managed_role_audit(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	AuditEvent	ev;
	int			fno_name;
	int			fno_note;
	int			fno_oid;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired as a trigger",
						"pg_rotate_managed_role_audit")));

	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
	{
		role_mark_clear_database();
		audit_event_init(&ev, "role_removed", NULL);
		ev.detail = "{\"truncate\": true}";
		audit_append(&ev);
		PG_RETURN_POINTER(NULL);
	}

	tupdesc = trigdata->tg_relation->rd_att;
	fno_name = SPI_fnumber(tupdesc, "role_name");
	fno_note = SPI_fnumber(tupdesc, "note");
	fno_oid = SPI_fnumber(tupdesc, "role_oid");	/* none in 1.0's table */
	if (fno_name <= 0 || fno_note <= 0)
		elog(ERROR, "rotate.managed_role lacks role_name or note");

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		const char *pairs[2];
		HeapTuple	new = trigdata->tg_trigtuple;

		pairs[0] = "note";
		pairs[1] = SPI_getvalue(new, tupdesc, fno_note);
		audit_event_init(&ev, "role_added",
						 SPI_getvalue(new, tupdesc, fno_name));
		ev.detail = audit_json_object(1, pairs);
		role_mark_set(entry_role(new, tupdesc, fno_name, fno_oid, true), true);
	}
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		const char *pairs[4];
		HeapTuple	old = trigdata->tg_trigtuple;
		HeapTuple	new = trigdata->tg_newtuple;
		Oid			old_role;
		Oid			new_role;

		pairs[0] = "old_role_name";
		pairs[1] = SPI_getvalue(old, tupdesc, fno_name);
		pairs[2] = "note";
		pairs[3] = SPI_getvalue(new, tupdesc, fno_note);
		audit_event_init(&ev, "role_changed",
						 SPI_getvalue(new, tupdesc, fno_name));
		ev.detail = audit_json_object(2, pairs);
		old_role = entry_role(old, tupdesc, fno_name, fno_oid, false);
		new_role = entry_role(new, tupdesc, fno_name, fno_oid, true);
		if (OidIsValid(old_role) && old_role != new_role)
			role_mark_set(old_role, false);
		role_mark_set(new_role, true);
	}
	else
	{
		HeapTuple	old = trigdata->tg_trigtuple;
		Oid			old_role = entry_role(old, tupdesc, fno_name, fno_oid, false);

		audit_event_init(&ev, "role_removed", SPI_getvalue(old, tupdesc, fno_name));
		ev.detail = "{}";
		if (OidIsValid(old_role))
			role_mark_set(old_role, false);
	}
	audit_append(&ev);
	PG_RETURN_POINTER(NULL);
}
