/*
 * penstock._observed._scan: count plain step records of a block of log lines, in C.
 *
 * The compiled half of the fast path (penstock/_observed/fast.py says what a plain step
 * record is). `scan` reads whole lines of a block, one JSON object each, and counts the ones
 * it is sure of straight into the tally's own containers: the set of seen (run, span id)
 * hashes, the set of runs, the groups by (step, edge source, status), the records of other
 * flows. It stops at the first line it is not sure of (anything unusual: an escape, a byte
 * outside ASCII, nesting, a value out of range, a group the tally has not made yet) and
 * returns where: Python reads that line, exactly as without this module, and calls again
 * after it. So the output is the same with or without it, byte for byte; only the time
 * differs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

/* What the Python side checks too (penstock/_observed/record.py, files.py). */
#define NAME_CAP 256
#define MAX_DURATION_MS 1e12
#define MAX_EPOCH_S 1e11
/* Longest number token read here; longer ones are Python's to judge. */
#define NUMBER_CAP 40
/* Groups remembered within one call (a flow has a few dozen; more are looked up again). */
#define GROUP_CACHE 64

enum {
    K_STEP,
    K_DURATION,
    K_STATUS,
    K_SCHEMA,
    K_CID,
    K_FLOW,
    K_PARENT,
    K_PRED,
    K_EDGE,
    K_START,
    K_SPAN,
    K_PSPAN,
    K_KEYS, /* the fields above are kept; the shapes below only stop the scan */
    K_SHAPE = K_KEYS,
    K_UNKNOWN
};

enum { V_ABSENT = 0, V_STRING, V_NULL, V_NUMBER, V_OTHER };

typedef struct {
    const char *p; /* a string's characters, a number's token */
    Py_ssize_t n;
    int kind;
} Value;

typedef struct {
    const char *step, *edge, *status; /* edge is NULL for no source */
    Py_ssize_t step_n, edge_n, status_n;
    PyObject *group; /* the tally's [calls, last start, array('d')], a new reference */
    Py_ssize_t calls;
    double last; /* NAN: no start seen in this call */
    double *durations;
    Py_ssize_t size, room;
} Group;

static int
key_of(const char *p, Py_ssize_t n)
{
#define IS(s) (n == (Py_ssize_t)sizeof(s) - 1 && memcmp(p, s, sizeof(s) - 1) == 0)
    switch (n) {
    case 3:
        return IS("log") ? K_SHAPE : K_UNKNOWN;
    case 4:
        return IS("step") ? K_STEP : IS("flow") ? K_FLOW : K_UNKNOWN;
    case 5:
        return IS("trace") ? K_SHAPE : K_UNKNOWN;
    case 6:
        return IS("status") ? K_STATUS : IS("stream") ? K_SHAPE : K_UNKNOWN;
    case 7:
        return IS("span_id") ? K_SPAN : IS("batches") ? K_SHAPE : K_UNKNOWN;
    case 9:
        return IS("edge_from") ? K_EDGE : K_UNKNOWN;
    case 10:
        return IS("start_time") ? K_START : K_UNKNOWN;
    case 11:
        return IS("duration_ms") ? K_DURATION : IS("parent_step") ? K_PARENT
                                                                  : IS("predecessor") ? K_PRED
                                                                                      : K_UNKNOWN;
    case 13:
        return IS("resourceSpans") ? K_SHAPE : K_UNKNOWN;
    case 14:
        return IS("correlation_id") ? K_CID : IS("parent_span_id") ? K_PSPAN : K_UNKNOWN;
    case 15:
        return IS("penstock_schema") ? K_SCHEMA : K_UNKNOWN;
    default:
        return K_UNKNOWN;
    }
#undef IS
}

static inline const char *
skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p;
}

/* A string's characters after its opening quote: the closing quote, or NULL for anything
 * this scanner leaves to Python (an escape, a control character, a byte outside ASCII). */
/* Bytes that end a plain string here: the quote, and what is left to Python (a backslash,
 * control characters, bytes outside ASCII). Filled in when the module loads. */
static unsigned char STOPS[256];

static inline const char *
string_end(const char *p, const char *end)
{
    for (; p < end; p++)
        if (STOPS[(unsigned char)*p])
            return *p == '"' ? p : NULL;
    return NULL;
}

/* A JSON number token's end, or NULL when it is not one. */
static inline const char *
number_end(const char *p, const char *end)
{
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return NULL;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

/* A number field's value as the decoder gives it, or -1 when Python should judge the line:
 * a sign, an integer too long to be exact in a double, a token too long. */
static int
number_value(const Value *v, double *out)
{
    char buf[NUMBER_CAP + 1];
    char *stop;
    Py_ssize_t i;
    int integer = 1;
    if (v->n > NUMBER_CAP || v->p[0] == '-')
        return -1;
    for (i = 0; i < v->n; i++)
        if (v->p[i] == '.' || v->p[i] == 'e' || v->p[i] == 'E')
            integer = 0;
    if (integer && v->n > 15)
        return -1;
    {
        /* Up to 15 digits and a short fraction, the usual case: digits / 10**k is exact
         * after one rounding (both are exact doubles), as correctly rounded parsing gives. */
        static const double POW10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
                                       1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
        unsigned long long digits = 0;
        int count = 0, fraction = -1;
        for (i = 0; i < v->n; i++) {
            char c = v->p[i];
            if (c >= '0' && c <= '9') {
                digits = digits * 10 + (unsigned long long)(c - '0');
                count++;
                if (fraction >= 0)
                    fraction++;
            }
            else if (c == '.')
                fraction = 0;
            else
                break; /* an exponent: the general parser */
        }
        if (i == v->n && count <= 15) {
            *out = (double)digits / POW10[fraction > 0 ? fraction : 0];
            return 0;
        }
    }
    memcpy(buf, v->p, (size_t)v->n);
    buf[v->n] = '\0';
    *out = PyOS_string_to_double(buf, &stop, NULL);
    if (*out == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    if (stop != buf + v->n || !isfinite(*out))
        return -1;
    return 0;
}

/* A name field: a string of at most NAME_CAP characters, or null. */
static inline int
name_ok(const Value *v)
{
    return v->kind == V_ABSENT || v->kind == V_NULL || (v->kind == V_STRING && v->n <= NAME_CAP);
}

/* Parse one line [p, end) into the kept fields. 0: a flat JSON object this scanner is sure
 * of; -1: Python's to read. */
static int
parse_line(const char *p, const char *end, Value *fields)
{
    memset(fields, 0, sizeof(Value) * K_KEYS);
    if (p >= end || *p != '{')
        return -1;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
        goto closed;
    }
    for (;;) {
        const char *key, *stop;
        int k;
        Value v;
        if (p >= end || *p != '"')
            return -1;
        key = p + 1;
        stop = string_end(key, end);
        if (stop == NULL)
            return -1;
        k = key_of(key, stop - key);
        if (k == K_SHAPE)
            return -1; /* a container wrapper or a trace document: Python's */
        p = skip_ws(stop + 1, end);
        if (p >= end || *p != ':')
            return -1;
        p = skip_ws(p + 1, end);
        if (p >= end)
            return -1;
        switch (*p) {
        case '"':
            v.p = p + 1;
            stop = string_end(v.p, end);
            if (stop == NULL)
                return -1;
            v.n = stop - v.p;
            v.kind = V_STRING;
            p = stop + 1;
            break;
        case 'n':
            if (end - p < 4 || memcmp(p, "null", 4) != 0)
                return -1;
            v.p = p;
            v.n = 4;
            v.kind = V_NULL;
            p += 4;
            break;
        case 't':
        case 'f':
            if (end - p >= 4 && memcmp(p, "true", 4) == 0)
                v.n = 4;
            else if (end - p >= 5 && memcmp(p, "false", 5) == 0)
                v.n = 5;
            else
                return -1;
            v.p = p;
            v.kind = V_OTHER;
            p += v.n;
            break;
        default:
            v.p = p;
            stop = number_end(p, end);
            if (stop == NULL)
                return -1;
            v.n = stop - p;
            v.kind = V_NUMBER;
            p = stop;
            break;
        }
        if (k < K_KEYS) {
            if (fields[k].kind != V_ABSENT)
                return -1; /* a key given twice: Python's */
            fields[k] = v;
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') {
            p++;
            break;
        }
        return -1;
    }
closed:
    return skip_ws(p, end) == end ? 0 : -1;
}

static PyObject *
ascii_str(const char *p, Py_ssize_t n)
{
    PyObject *s = PyUnicode_New(n, 127);
    if (s != NULL)
        memcpy(PyUnicode_DATA(s), p, (size_t)n);
    return s;
}

static int
flush_group(Group *g)
{
    PyObject *calls, *sum, *bytes, *done;
    int failed = 0;
    if (g->calls == 0)
        return 0;
    calls = PyLong_FromSsize_t(g->calls);
    if (calls == NULL)
        return -1;
    sum = PyNumber_Add(PyList_GET_ITEM(g->group, 0), calls);
    Py_DECREF(calls);
    if (sum == NULL)
        return -1;
    PyList_SetItem(g->group, 0, sum); /* steals sum */
    if (!isnan(g->last)) {
        PyObject *last = PyList_GET_ITEM(g->group, 1);
        if (last == Py_None || PyFloat_AsDouble(last) < g->last) {
            PyObject *value = PyFloat_FromDouble(g->last);
            if (value == NULL)
                return -1;
            PyList_SetItem(g->group, 1, value);
        }
        if (PyErr_Occurred())
            return -1;
    }
    bytes = PyBytes_FromStringAndSize((const char *)g->durations,
                                      g->size * (Py_ssize_t)sizeof(double));
    if (bytes == NULL)
        return -1;
    done = PyObject_CallMethod(PyList_GET_ITEM(g->group, 2), "frombytes", "O", bytes);
    Py_DECREF(bytes);
    if (done == NULL)
        failed = -1;
    Py_XDECREF(done);
    g->calls = 0;
    g->size = 0;
    g->last = NAN;
    return failed;
}

static void
free_groups(Group *groups, int count)
{
    int i;
    for (i = 0; i < count; i++) {
        Py_XDECREF(groups[i].group);
        PyMem_Free(groups[i].durations);
    }
}

static int
flush_all(Group *groups, int count)
{
    int i;
    for (i = 0; i < count; i++)
        if (flush_group(&groups[i]) < 0)
            return -1;
    return 0;
}

static inline int
same(const char *a, Py_ssize_t an, const char *b, Py_ssize_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, (size_t)an) == 0);
}

/* The group of (step, edge, status) in this call's cache, looked up in the tally's dict the
 * first time; NULL with no error set when the tally has no such group yet (Python makes it,
 * and notes where an undeclared edge was first seen). */
static Group *
group_of(PyObject *groups_dict, Group *groups, int *count, const Value *step, const Value *edge,
         const Value *status)
{
    int i;
    const char *edge_p = edge->kind == V_STRING && edge->n > 0 ? edge->p : NULL;
    Py_ssize_t edge_n = edge_p ? edge->n : 0;
    PyObject *key, *group;
    Group *g;
    for (i = 0; i < *count; i++) {
        g = &groups[i];
        if (same(g->step, g->step_n, step->p, step->n) &&
            same(g->status, g->status_n, status->p, status->n) &&
            (g->edge == NULL ? edge_p == NULL
                             : edge_p != NULL && same(g->edge, g->edge_n, edge_p, edge_n)))
            return g;
    }
    if (*count == GROUP_CACHE) {
        if (flush_all(groups, *count) < 0)
            return NULL;
        free_groups(groups, *count);
        *count = 0;
    }
    {
        PyObject *s = ascii_str(step->p, step->n);
        PyObject *e = edge_p ? ascii_str(edge_p, edge_n) : Py_NewRef(Py_None);
        PyObject *t = ascii_str(status->p, status->n);
        key = (s && e && t) ? PyTuple_Pack(3, s, e, t) : NULL;
        Py_XDECREF(s);
        Py_XDECREF(e);
        Py_XDECREF(t);
    }
    if (key == NULL)
        return NULL;
    group = PyDict_GetItemWithError(groups_dict, key);
    Py_DECREF(key);
    if (group == NULL)
        return NULL;
    if (!PyList_CheckExact(group) || PyList_GET_SIZE(group) != 3) {
        PyErr_SetString(PyExc_TypeError, "a group is [calls, last start, array('d')]");
        return NULL;
    }
    g = &groups[(*count)++];
    memset(g, 0, sizeof(*g));
    g->step = step->p;
    g->step_n = step->n;
    g->edge = edge_p;
    g->edge_n = edge_n;
    g->status = status->p;
    g->status_n = status->n;
    g->group = Py_NewRef(group);
    g->last = NAN;
    return g;
}

static int
add_duration(Group *g, double value)
{
    if (g->size == g->room) {
        Py_ssize_t room = g->room ? g->room * 2 : 256;
        double *more = PyMem_Realloc(g->durations, (size_t)room * sizeof(double));
        if (more == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        g->durations = more;
        g->room = room;
    }
    g->durations[g->size++] = value;
    return 0;
}

static PyObject *ONE; /* 1, made once */

/* Bump other[flow] (the records of other flows are counted by name, "" for none). */
static int
count_other(PyObject *other, PyObject *flow)
{
    PyObject *old = PyDict_GetItemWithError(other, flow), *sum;
    int failed;
    if (old == NULL && PyErr_Occurred())
        return -1;
    sum = old ? PyNumber_Add(old, ONE) : PyLong_FromLong(1);
    if (sum == NULL)
        return -1;
    failed = PyDict_SetItem(other, flow, sum);
    Py_DECREF(sum);
    return failed;
}

PyDoc_STRVAR(scan_doc,
"scan(block, pos, flow, since, latest, seen, runs, groups, other)\n"
"--\n\n"
"Count the plain step records of ``block`` (whole lines) from byte ``pos`` on.\n\n"
"Returns ``(pos, lines, app_lines, duplicates)``: where it stopped (``len(block)`` at the\n"
"end, else the start of a line it leaves to Python), how many lines it read, and how many\n"
"of them were application lines and records read again.");

static PyObject *
scan(PyObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t pos, lines = 0, app = 0, dup = 0;
    const char *flow_p;
    Py_ssize_t flow_n;
    long since, latest;
    PyObject *seen, *runs, *groups_dict, *other;
    Group groups[GROUP_CACHE];
    int count = 0, failed = 0;
    const char *base, *p, *end;
    /* The last run id and other flow's name seen, kept as objects while they repeat. */
    const char *cid_p = NULL, *other_p = NULL;
    Py_ssize_t cid_n = 0, other_n = -1;
    PyObject *cid = NULL, *other_name = NULL;
    Value f[K_KEYS];
    (void)self;

    if (!PyArg_ParseTuple(args, "y*ny#llO!O!O!O!", &view, &pos, &flow_p, &flow_n, &since, &latest,
                          &PySet_Type, &seen, &PySet_Type, &runs, &PyDict_Type, &groups_dict,
                          &PyDict_Type, &other))
        return NULL;
    base = (const char *)view.buf;
    end = base + view.len;
    if (pos < 0 || pos > view.len) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "pos out of the block");
        return NULL;
    }
    p = base + pos;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        double duration, start = NAN, schema;
        const Value *step = &f[K_STEP], *status = &f[K_STATUS], *flow = &f[K_FLOW];
        const Value *span = &f[K_SPAN], *c = &f[K_CID];
        Group *g;
        if (nl == NULL || parse_line(p, nl, f) < 0)
            break;
        /* The decoder's types and limits (penstock/_observed/fast.py), all fields. */
        if (step->kind == V_NULL || (step->kind == V_STRING && (step->n == 0 || step->n > NAME_CAP)))
            break;
        if (c->kind == V_NULL || (c->kind == V_STRING && (c->n == 0 || c->n > NAME_CAP)))
            break;
        if ((step->kind != V_ABSENT && step->kind != V_STRING) ||
            (c->kind != V_ABSENT && c->kind != V_STRING) ||
            (status->kind != V_ABSENT && status->kind != V_STRING))
            break;
        if (!name_ok(flow) || !name_ok(&f[K_PARENT]) || !name_ok(&f[K_PRED]) ||
            !name_ok(&f[K_EDGE]) || !name_ok(span) || !name_ok(&f[K_PSPAN]))
            break;
        if (f[K_DURATION].kind != V_ABSENT) {
            if (f[K_DURATION].kind != V_NUMBER || number_value(&f[K_DURATION], &duration) < 0 ||
                !(duration >= 0 && duration < MAX_DURATION_MS))
                break;
        }
        if (f[K_START].kind != V_ABSENT && f[K_START].kind != V_NULL) {
            if (f[K_START].kind != V_NUMBER || number_value(&f[K_START], &start) < 0 ||
                !(start >= 0 && start < MAX_EPOCH_S))
                break;
        }
        schema = 1;
        if (f[K_SCHEMA].kind != V_ABSENT) {
            /* Only a plain integer token of a layout this penstock reads; Python judges others. */
            if (f[K_SCHEMA].kind != V_NUMBER || f[K_SCHEMA].n != 1 || f[K_SCHEMA].p[0] < '1' ||
                f[K_SCHEMA].p[0] > '9')
                break;
            schema = f[K_SCHEMA].p[0] - '0';
        }
        if (step->kind == V_ABSENT || f[K_DURATION].kind == V_ABSENT || status->kind == V_ABSENT) {
            app++; /* an application's own line */
            lines++;
            p = nl + 1;
            continue;
        }
        if (c->kind == V_ABSENT)
            break;
        if (!same(status->p, status->n, "ok", 2) && !same(status->p, status->n, "error", 5) &&
            !same(status->p, status->n, "cancelled", 9))
            break;
        if (schema < since || schema > latest)
            break; /* an older layout: the edge needs the rule (or the run's tree) */
        if (flow->kind != V_STRING || !same(flow->p, flow->n, flow_p, flow_n)) {
            /* Another flow's record: counted by its name. */
            const char *name = flow->kind == V_STRING ? flow->p : "";
            Py_ssize_t n = flow->kind == V_STRING ? flow->n : 0;
            if (other_name == NULL || !same(other_p, other_n, name, n)) {
                Py_XDECREF(other_name);
                other_name = ascii_str(name, n);
                if (other_name == NULL)
                    goto error;
                other_p = name;
                other_n = n;
            }
            if (count_other(other, other_name) < 0)
                goto error;
            lines++;
            p = nl + 1;
            continue;
        }
        if (span->kind != V_STRING || span->n == 0)
            break; /* no span id: the call is told by its step, start and duration */
        g = group_of(groups_dict, groups, &count, step, &f[K_EDGE], status);
        if (g == NULL) {
            if (PyErr_Occurred())
                goto error;
            break; /* a group the tally has not made: Python makes it */
        }
        {
            PyObject *span_s, *pair, *mark;
            Py_ssize_t size;
            Py_hash_t h;
            int fresh_cid = cid == NULL || !same(cid_p, cid_n, c->p, c->n);
            if (fresh_cid) {
                Py_XDECREF(cid);
                cid = ascii_str(c->p, c->n);
                if (cid == NULL)
                    goto error;
                cid_p = c->p;
                cid_n = c->n;
            }
            span_s = ascii_str(span->p, span->n);
            if (span_s == NULL)
                goto error;
            pair = PyTuple_Pack(2, cid, span_s);
            Py_DECREF(span_s);
            if (pair == NULL)
                goto error;
            h = PyObject_Hash(pair);
            Py_DECREF(pair);
            if (h == -1)
                goto error;
            mark = PyLong_FromSsize_t(h);
            if (mark == NULL)
                goto error;
            size = PySet_GET_SIZE(seen);
            failed = PySet_Add(seen, mark);
            Py_DECREF(mark);
            if (failed < 0)
                goto error;
            lines++;
            p = nl + 1;
            if (PySet_GET_SIZE(seen) == size) {
                dup++;
                continue;
            }
            if (PySet_Add(runs, cid) < 0)
                goto error;
        }
        g->calls++;
        if (!isnan(start) && (isnan(g->last) || start > g->last))
            g->last = start;
        if (add_duration(g, duration) < 0)
            goto error;
    }
    if (flush_all(groups, count) < 0)
        goto error;
    free_groups(groups, count);
    Py_XDECREF(cid);
    Py_XDECREF(other_name);
    PyBuffer_Release(&view);
    return Py_BuildValue("nnnn", (Py_ssize_t)(p - base), lines, app, dup);
error:
    free_groups(groups, count);
    Py_XDECREF(cid);
    Py_XDECREF(other_name);
    PyBuffer_Release(&view);
    return NULL;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS, scan_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_scan", "Count plain step records of log lines, in C.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__scan(void)
{
    int c;
    for (c = 0; c < 256; c++)
        STOPS[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
    if (ONE == NULL && (ONE = PyLong_FromLong(1)) == NULL)
        return NULL;
    return PyModule_Create(&module);
}
