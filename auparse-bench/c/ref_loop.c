/*
 * The C reference loop of the auparse benchmark (issue 5).
 *
 * The natural C way to do the "reference work" with libauparse 3.0.x:
 * feed the file in 64 KiB chunks (AUSOURCE_FEED), and for every event the
 * callback receives, walk every record and field, read name, raw value and
 * type, interpret every field (auparse_interpret_realpath first for file-name
 * fields, falling back to auparse_interpret_field, as the Rust side does),
 * then auparse_normalize the event and call every getter the Rust
 * EventRef::normalize() calls, reading the field each positioning getter
 * leaves the cursor on (plus the socket address text of a socket
 * object). Escape mode RAW, the Rust Feeder's default. Strings are measured with strlen, as the Rust views
 * do (CStr::from_ptr), and summed into a checksum so nothing is skipped.
 *
 * Compiled into the bench binary by build.rs (cc crate), exposed as
 * `long long ref_loop(const char *path, unsigned long long *checksum)`.
 */
#include <auparse.h>
#include <stdio.h>
#include <string.h>

struct loop_state {
	long long events;
	unsigned long long sum;
};

static inline void touch(struct loop_state *st, const char *s)
{
	if (s)
		st->sum += strlen(s);
}

/* Read the field a normalize positioning call left the cursor on. */
static int positioned(auparse_state_t *au, struct loop_state *st,
		      int (*call)(auparse_state_t *))
{
	const char *name, *raw, *value;
	int type;

	if (call(au) != 1)
		return -1;
	name = auparse_get_field_name(au);
	if (name == NULL)
		return -1;
	raw = auparse_get_field_str(au);
	value = auparse_interpret_field(au);
	touch(st, name);
	touch(st, raw);
	touch(st, value ? value : raw);
	st->sum += auparse_get_record_num(au);
	type = auparse_get_field_type(au);
	return type;
}

static void metadata(auparse_state_t *au, struct loop_state *st,
		     const char *(*call)(auparse_state_t *))
{
	touch(st, call(au));
}

static void on_event(auparse_state_t *au, auparse_cb_event_t cb_type,
		     void *user_data)
{
	struct loop_state *st = user_data;

	if (cb_type != AUPARSE_CB_EVENT_READY)
		return;
	st->events++;
	st->sum += auparse_get_serial(au);
	st->sum += (unsigned long long)auparse_get_time(au);
	st->sum += auparse_get_milli(au);

	if (auparse_first_record(au) == 1) {
		do {
			st->sum += auparse_get_type(au);
			touch(st, auparse_get_type_name(au));
			if (auparse_first_field(au) != 1)
				continue;
			do {
				const char *v = NULL;
				const char *raw;
				int type = auparse_get_field_type(au);

				touch(st, auparse_get_field_name(au));
				raw = auparse_get_field_str(au);
				touch(st, raw);
				/* realpath first: it shares the cache slot with
				 * interpret_field and gives the cwd-joined path. */
				if (type == AUPARSE_TYPE_ESCAPED_FILE)
					v = auparse_interpret_realpath(au);
				if (v == NULL)
					v = auparse_interpret_field(au);
				touch(st, v ? v : raw);
			} while (auparse_next_field(au) == 1);
		} while (auparse_next_record(au) == 1);
	}

	/*
	 * libauparse keeps a field cursor per record and the normalizer's
	 * field searches start from it: put every record back on its first
	 * field first, or it misses fields (nametype, res) after the walk.
	 */
	if (auparse_first_record(au) == 1) {
		do
			auparse_first_field(au);
		while (auparse_next_record(au) == 1);
	}
	if (auparse_normalize(au, NORM_OPT_NO_ATTRS) == 0) {
		int object_type;

		metadata(au, st, auparse_normalize_get_event_kind);
		positioned(au, st, auparse_normalize_session);
		positioned(au, st, auparse_normalize_subject_primary);
		positioned(au, st, auparse_normalize_subject_secondary);
		metadata(au, st, auparse_normalize_subject_kind);
		metadata(au, st, auparse_normalize_get_action);
		object_type = positioned(au, st, auparse_normalize_object_primary);
		positioned(au, st, auparse_normalize_object_secondary);
		positioned(au, st, auparse_normalize_object_primary2);
		metadata(au, st, auparse_normalize_object_kind);
		positioned(au, st, auparse_normalize_get_results);
		metadata(au, st, auparse_normalize_how);
		positioned(au, st, auparse_normalize_key);
		/* A socket address object: its text, as the Rust side keeps. */
		if (object_type == AUPARSE_TYPE_SOCKADDR &&
		    auparse_normalize_object_primary(au) == 1) {
			const char *a = auparse_interpret_sock_address(au);

			touch(st, a ? a : auparse_interpret_sock_family(au));
		}
	}
	auparse_first_record(au);
}

/*
 * Runs the reference loop over the file at `path`. Returns the number of
 * events delivered, or -1 if the file cannot be read or libauparse fails.
 * Stores a checksum of the bytes seen in *checksum (if not NULL).
 */
long long ref_loop(const char *path, unsigned long long *checksum)
{
	static char buf[64 * 1024];
	struct loop_state st = { 0, 0 };
	auparse_state_t *au;
	FILE *f;
	size_t n;
	int last_nl = 1;
	long long rc;

	f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	au = auparse_init(AUSOURCE_FEED, NULL);
	if (au == NULL) {
		fclose(f);
		return -1;
	}
	/* The Rust Feeder's default; libauparse starts in TTY mode. */
	auparse_set_escape_mode(au, AUPARSE_ESC_RAW);
	auparse_add_callback(au, on_event, &st, NULL);
	rc = 0;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		last_nl = buf[n - 1] == '\n';
		if (auparse_feed(au, buf, n) != 0) {
			rc = -1;
			break;
		}
	}
	if (ferror(f))
		rc = -1;
	/* libauparse never parses a final line without its newline. */
	if (rc == 0 && !last_nl)
		auparse_feed(au, "\n", 1);
	if (rc == 0 && auparse_flush_feed(au) != 0)
		rc = -1;
	auparse_destroy(au);
	fclose(f);
	if (checksum)
		*checksum = st.sum;
	return rc == 0 ? st.events : -1;
}
