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
 * write rows the C flavour verifies, and vice versa).  audit_fields below
 * lists the fields between logged_at and prev_hash once, for the writer,
 * the secret check and the pending records (audit_pending.c).
 *
 * Ids come from rotate.audit_log_id_seq but are never below the tip's id
 * plus one (see audit_chain_row).
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
 * The one writer
 * --------------
 * audit_chain_row() is the only code that inserts a row.  It refuses any
 * field that holds a password hash or SCRAM keys (without quoting it), and
 * reads the row back after the INSERT: a trigger, rule or policy that
 * dropped or changed it makes the append fail instead of returning an id
 * that was never stored.  Under the chain lock, before its own row, every
 * append first chains what is waiting: refusals kept on disk
 * (audit_pending.c) and refusals that were only counted
 * (rotate.unrecorded_refusal_seq, see record_unrecorded_refusals).
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

#include <ctype.h>
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

/* id, logged_at, the AuditEvent's fields, prev_hash, row_hash */
#define CANON_NFIELDS	(AUDIT_NFIELDS + 3)
#define ROW_NCOLUMNS	(AUDIT_NFIELDS + 4)

PG_FUNCTION_INFO_V1(pg_rotate_audit_log_append_only);
PG_FUNCTION_INFO_V1(pg_rotate_managed_role_audit);

const AuditField audit_fields[AUDIT_NFIELDS] = {
	{"actor", offsetof(AuditEvent, actor), NAMEOID},
	{"target", offsetof(AuditEvent, target), NAMEOID},
	{"event", offsetof(AuditEvent, event), TEXTOID},
	{"secret_id", offsetof(AuditEvent, secret_id), TEXTOID},
	{"version_id", offsetof(AuditEvent, version_id), TEXTOID},
	{"client_addr", offsetof(AuditEvent, client_addr), INETOID},
	{"application_name", offsetof(AuditEvent, application_name), TEXTOID},
	{"detail", offsetof(AuditEvent, detail), JSONBOID},
};

/* Plans kept for the life of the backend (re-planned by the plan cache). */
static SPIPlanPtr tip_plan = NULL;
static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr reread_plan = NULL;
static SPIPlanPtr unrecorded_plan = NULL;

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

/* Are the n bytes at s base64 characters? */
static bool
all_base64(const char *s, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (!(isalnum(c) || c == '+' || c == '/'))
			return false;
	}
	return true;
}

/*
 * holds_secret
 *		Does s contain, in any letter case, a SCRAM-SHA-256 verifier's
 *		prefix ("scram-sha-256$"), an MD5 password hash ("md5" and 32 hex
 *		digits) or a SCRAM key pair (two 32-byte base64 keys around a
 *		colon, as in "<StoredKey>:<ServerKey>")?  The SQL-only flavour's
 *		rotate.audit_secret_field() applies the same three patterns.
 */
static bool
holds_secret(const char *s)
{
	const char *p;
	size_t		len = strlen(s);

	for (p = s; *p != '\0'; p++)
	{
		size_t		left = len - (p - s);

		if (left >= 14 && pg_strncasecmp(p, "scram-sha-256$", 14) == 0)
			return true;
		if (left >= 35 && pg_strncasecmp(p, "md5", 3) == 0 &&
			strspn(p + 3, "0123456789abcdefABCDEF") >= 32)
			return true;
		/* <43 base64>=:<43 base64>= with p at the colon */
		if (*p == ':' && p - s >= 44 && left >= 45 && p[-1] == '=' &&
			all_base64(p - 44, 43) && all_base64(p + 1, 43) && p[44] == '=')
			return true;
	}
	return false;
}

/*
 * audit_secret_field
 *		The name of the first field of ev that holds a password hash or
 *		SCRAM keys (see holds_secret), or NULL.  Callers report the field,
 *		never its value.
 */
const char *
audit_secret_field(const AuditEvent *ev)
{
	int			i;

	for (i = 0; i < AUDIT_NFIELDS; i++)
	{
		const char *value = audit_field_get(ev, i);

		if (value != NULL && holds_secret(value))
			return audit_fields[i].name;
	}
	return NULL;
}

/*
 * audit_secret_denial
 *		Fill *d with the refusal of a row whose field holds a password hash
 *		or SCRAM keys.  It names the field, never its value.
 */
void
audit_secret_denial(const char *field, PolicyDenial *d)
{
	d->sqlerrcode = ERRCODE_INVALID_PARAMETER_VALUE;
	d->reason = "secret_in_field";
	d->message = psprintf("audit field \"%s\" must not contain a password verifier",
						  field);
	d->detail = pstrdup("rotate.audit_log never stores a SCRAM-SHA-256 verifier, SCRAM keys or an MD5 password hash, in any letter case.");
	d->hint = NULL;
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
 * audit_timestamp_text
 *		A timestamp as the canonical serialization writes logged_at: UTC
 *		with microseconds.  palloc'd.
 */
char *
audit_timestamp_text(TimestampTz ts)
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
audit_row_hash(const char *const fields[CANON_NFIELDS])
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
	for (i = 0; i < CANON_NFIELDS; i++)
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

/*
 * prepare_plans
 *		The statements the writer needs.  The column lists of the INSERT
 *		and of the re-read come from audit_fields.
 */
static void
prepare_plans(void)
{
	StringInfoData cols;
	StringInfoData params;
	Oid			types[ROW_NCOLUMNS];
	int			i;

	if (tip_plan == NULL)
		tip_plan = rotate_keep_plan("SELECT row_hash, id FROM rotate.audit_log"
									" ORDER BY id DESC LIMIT 1", 0, NULL);
	if (insert_plan != NULL && reread_plan != NULL)
		return;

	initStringInfo(&cols);
	initStringInfo(&params);
	appendStringInfoString(&cols, "id, logged_at");
	appendStringInfoString(&params, "$1, $2");
	types[0] = INT8OID;
	types[1] = TIMESTAMPTZOID;
	for (i = 0; i < AUDIT_NFIELDS; i++)
	{
		appendStringInfo(&cols, ", %s", quote_identifier(audit_fields[i].name));
		appendStringInfo(&params, ", $%d", i + 3);
		types[i + 2] = audit_fields[i].type;
	}
	appendStringInfoString(&cols, ", prev_hash, row_hash");
	appendStringInfo(&params, ", $%d, $%d", AUDIT_NFIELDS + 3, AUDIT_NFIELDS + 4);
	types[AUDIT_NFIELDS + 2] = TEXTOID;
	types[AUDIT_NFIELDS + 3] = TEXTOID;

	insert_plan = rotate_keep_plan(psprintf("INSERT INTO rotate.audit_log (%s)"
											" VALUES (%s)",
											cols.data, params.data),
								   ROW_NCOLUMNS, types);
	reread_plan = rotate_keep_plan(psprintf("SELECT %s FROM rotate.audit_log"
											" WHERE id OPERATOR(pg_catalog.=) $1",
											cols.data),
								   1, types);
}

/*
 * field_datum
 *		The value of field i of ev for the INSERT, and in *canon its text
 *		as the serialization hashes it (inet and jsonb normalized as their
 *		output functions write them; NULL detail is '{}').
 */
static Datum
field_datum(const AuditEvent *ev, int i, bool *isnull, const char **canon)
{
	const char *value = audit_field_get(ev, i);
	Datum		d;

	if (value == NULL && audit_fields[i].type == JSONBOID)
		value = "{}";
	*isnull = (value == NULL);
	*canon = NULL;
	if (value == NULL)
		return (Datum) 0;

	switch (audit_fields[i].type)
	{
		case NAMEOID:
			d = DirectFunctionCall1(namein, CStringGetDatum(value));
			*canon = pstrdup(NameStr(*DatumGetName(d)));
			return d;
		case INETOID:
			d = DirectFunctionCall1(inet_in, CStringGetDatum(value));
			*canon = TextDatumGetCString(DirectFunctionCall1(network_show, d));
			return d;
		case JSONBOID:
			d = DirectFunctionCall1(jsonb_in, CStringGetDatum(value));
			*canon = DatumGetCString(DirectFunctionCall1(jsonb_out, d));
			return d;
		default:
			*canon = value;
			return CStringGetTextDatum(value);
	}
}

/*
 * stored_row_hash
 *		Read row id back (after the INSERT) and return the hash of what is
 *		stored, and in *stored_hash the row_hash column; NULL when no such
 *		row is visible.
 */
static char *
stored_row_hash(int64 id, char **stored_hash)
{
	const char *canon[CANON_NFIELDS];
	Datum		values[1];
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	int			rc;
	int			i;

	values[0] = Int64GetDatum(id);
	rc = SPI_execute_plan(reread_plan, values, NULL, false, 2);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read back the row of rotate.audit_log: %s",
			 SPI_result_code_string(rc));
	if (SPI_processed != 1)
		return NULL;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;

	canon[0] = psprintf(INT64_FORMAT,
						DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull)));
	canon[1] = audit_timestamp_text(DatumGetTimestampTz(SPI_getbinval(tup, desc, 2,
																	  &isnull)));
	for (i = 0; i < AUDIT_NFIELDS + 1; i++)
	{
		int			col = i + 3;

		if (i < AUDIT_NFIELDS && audit_fields[i].type == INETOID)
		{
			Datum		d = SPI_getbinval(tup, desc, col, &isnull);

			canon[i + 2] = isnull ? NULL :
				TextDatumGetCString(DirectFunctionCall1(network_show, d));
		}
		else
			canon[i + 2] = SPI_getvalue(tup, desc, col);	/* NULL if null */
	}
	*stored_hash = SPI_getvalue(tup, desc, ROW_NCOLUMNS);
	return audit_row_hash(canon);
}

/*
 * audit_chain_row
 *		Chain one row onto rotate.audit_log and return its id: the one
 *		writer (see the file header).  The caller holds the chain lock, is
 *		connected to SPI and runs as the log's owner (chain_section).
 */
int64
audit_chain_row(const RotateObjects *objs, const AuditEvent *ev)
{
	const char *secret_field = audit_secret_field(ev);
	const char *canon[CANON_NFIELDS];
	Datum		values[ROW_NCOLUMNS];
	char		nulls[ROW_NCOLUMNS];
	const char *prev_hash;
	char	   *row_hash;
	char	   *stored_hash = NULL;
	char	   *stored;
	TimestampTz now;
	int64		id;
	int			rc;
	int			i;

	if (secret_field != NULL)
	{
		PolicyDenial d;

		audit_secret_denial(secret_field, &d);
		ereport(ERROR,
				(errcode(d.sqlerrcode),
				 errhidestmt(true),
				 errmsg_internal("%s", d.message),
				 errdetail_internal("%s", d.detail)));
	}

	/* Normalize the inputs first: their text forms are what gets hashed. */
	for (i = 0; i < AUDIT_NFIELDS; i++)
	{
		bool		isnull;

		values[i + 2] = field_datum(ev, i, &isnull, &canon[i + 2]);
		nulls[i + 2] = isnull ? 'n' : ' ';
	}

	/* The id, then the tip (the chain lock is held: see the file header). */
	id = nextval_internal(objs->audit_seq, false);
	now = GetCurrentTimestamp();

	CommandCounterIncrement();
	rc = SPI_execute_snapshot(tip_plan, NULL, NULL, GetLatestSnapshot(),
							  InvalidSnapshot, false, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the tip of rotate.audit_log: %s",
			 SPI_result_code_string(rc));
	prev_hash = GENESIS_HASH;
	if (SPI_processed > 0)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *tip = SPI_getvalue(tup, desc, 1);
		bool		isnull;
		int64		tip_id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));

		if (tip != NULL)
			prev_hash = tip;

		/*
		 * The sequence is behind the table when rows were loaded without it
		 * (pg_restore sets the sequence after loading the extension's
		 * tables, and rows may be appended in between).  Ids must keep
		 * growing along the chain, so move it forward.
		 */
		if (!isnull && id <= tip_id)
		{
			id = tip_id + 1;
			DirectFunctionCall2(setval_oid, ObjectIdGetDatum(objs->audit_seq),
								Int64GetDatum(id));
		}
	}

	canon[0] = psprintf(INT64_FORMAT, id);
	canon[1] = audit_timestamp_text(now);
	canon[CANON_NFIELDS - 1] = prev_hash;
	row_hash = audit_row_hash(canon);

	values[0] = Int64GetDatum(id);
	values[1] = TimestampTzGetDatum(now);
	values[ROW_NCOLUMNS - 2] = CStringGetTextDatum(prev_hash);
	values[ROW_NCOLUMNS - 1] = CStringGetTextDatum(row_hash);
	nulls[0] = nulls[1] = nulls[ROW_NCOLUMNS - 2] = nulls[ROW_NCOLUMNS - 1] = ' ';

	rc = SPI_execute_plan(insert_plan, values, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not insert into rotate.audit_log: %s",
			 SPI_result_code_string(rc));

	/*
	 * The row must be there, exactly as written: a BEFORE trigger returning
	 * NULL, a rule or a policy would otherwise make us report an id that
	 * was never stored, or a row other than the one we hashed.
	 */
	stored = (SPI_processed == 1) ? stored_row_hash(id, &stored_hash) : NULL;
	if (stored == NULL || strcmp(stored, row_hash) != 0 ||
		stored_hash == NULL || strcmp(stored_hash, row_hash) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("audit row was not stored in rotate.audit_log as written"),
				 errdetail("A trigger, rule or policy on rotate.audit_log dropped or changed the row: the log has been tampered with."),
				 errhint("Remove what was added to rotate.audit_log, then check it with rotate.verify_audit_log().")));
	return id;
}

/*
 * record_unrecorded_refusals
 *		Chain a "refusals_unrecorded" row when rotate.unrecorded_refusal_seq
 *		has moved since the last such row.  Each refusal whose own row
 *		could not be written (the SQL-only flavour's, and the C flavour's
 *		when its pending record could not be saved) called nextval(), which
 *		survives the refusal's rollback; the row says how many (count) and
 *		up to which value of the counter (through).  A negative count means
 *		the counter was set back.  Before version 1.1 there is no counter.
 */
static void
record_unrecorded_refusals(const RotateObjects *objs)
{
	AuditEvent	ev;
	HeapTuple	tup;
	bool		isnull;
	int64		counted;
	int64		recorded;
	int			rc;

	if (!OidIsValid(objs->refusal_seq))
		return;
	if (unrecorded_plan == NULL)
		unrecorded_plan = rotate_keep_plan(
			"SELECT CASE WHEN s.is_called THEN s.last_value ELSE 0 END,"
			" coalesce((SELECT (a.detail OPERATOR(pg_catalog.->>) 'through')::pg_catalog.int8"
			"            FROM rotate.audit_log a"
			"           WHERE a.event OPERATOR(pg_catalog.=) 'refusals_unrecorded'"
			"           ORDER BY a.id DESC LIMIT 1), 0)"
			" FROM rotate.unrecorded_refusal_seq s", 0, NULL);
	rc = SPI_execute_snapshot(unrecorded_plan, NULL, NULL, GetLatestSnapshot(),
							  InvalidSnapshot, true, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read rotate.unrecorded_refusal_seq: %s",
			 SPI_result_code_string(rc));
	tup = SPI_tuptable->vals[0];
	counted = DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull));
	recorded = DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull));
	if (counted == recorded)
		return;

	audit_event_init(&ev, "refusals_unrecorded", NULL);
	ev.detail = psprintf("{\"count\": " INT64_FORMAT ", \"through\": " INT64_FORMAT "}",
						 counted - recorded, counted);
	(void) audit_chain_row(objs, &ev);
}

/*
 * chain_section
 *		Take the chain lock as the log's owner, chain what is waiting
 *		(pending and counted refusals), then ev if it is not NULL; return
 *		ev's id (0 without ev).  Scratch memory lives in a short-lived
 *		context; the lock is held until the transaction ends.
 */
static int64
chain_section(const AuditEvent *ev)
{
	RotateObjects objs;
	MemoryContext scratch;
	MemoryContext oldcxt;
	Oid			save_userid;
	int			save_sec_context;
	int64		id = 0;

	rotate_require_objects(&objs);

	scratch = AllocSetContextCreate(CurrentMemoryContext,
									"pg_rotate audit row",
									ALLOCSET_SMALL_SIZES);
	oldcxt = MemoryContextSwitchTo(scratch);

	/* an error aborts the transaction, which restores the user id */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(objs.owner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);

	LockRelationOid(objs.audit_log, ShareRowExclusiveLock);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	prepare_plans();

	audit_pending_flush(&objs);
	record_unrecorded_refusals(&objs);
	if (ev != NULL)
		id = audit_chain_row(&objs, ev);

	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(scratch);
	return id;
}

/*
 * audit_append
 *		Chain *ev onto rotate.audit_log in the current transaction and
 *		return the new row's id.  Runs as the owner of rotate.audit_log,
 *		whatever the current user is, so neither callers nor triggers need
 *		privileges on it.
 */
int64
audit_append(const AuditEvent *ev)
{
	return chain_section(ev);
}

/*
 * audit_flush
 *		Chain what is waiting (refusals kept on disk or only counted) in
 *		the current transaction: the audit writer's job.
 */
void
audit_flush(void)
{
	(void) chain_section(NULL);
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
