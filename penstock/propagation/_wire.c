/*
 * penstock.propagation._wire: the gRPC server's per-call reading of penstock's own headers.
 *
 * The compiled half of `penstock.propagation._entry.metadata_entry`, for the one case every
 * call of a traced client brings: the default propagators, lower-case keys with `str`
 * values, one version-00 `traceparent` and no baggage. On a live server the interpreted
 * reading costs several microseconds per call (its code is cold in the CPU's caches at each
 * call); this one a fraction of that. Anything else returns `AGAIN`, and the Python reading
 * decides, so both give the same entry (the tests compare them).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/* Set by `setup`: [the global propagator last judged, whether it is the default pair], the
 * module whose `global_textmap` reads the global propagator, and the StepInfo of an unnamed
 * sender. */
static PyObject *checked, *propagators, *unnamed, *AGAIN;
static PyObject *s_global_textmap;
/* The last traceparent read and what it gave: reading depends on it alone. */
static PyObject *last_header, *last_trace, *last_span;
static int last_sampled;

static int
hex_value(Py_UCS1 c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Whether `key` (ASCII) is one of the W3C headers in any letter case. */
static int
is_w3c_header(const char *key, Py_ssize_t n)
{
    static const char *const names[] = {"traceparent", "tracestate", "baggage"};
    size_t i;
    for (i = 0; i < 3; i++) {
        Py_ssize_t j;
        if ((Py_ssize_t)strlen(names[i]) != n)
            continue;
        for (j = 0; j < n; j++) {
            char c = key[j];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (c != names[i][j])
                break;
        }
        if (j == n)
            return 1;
    }
    return 0;
}

static PyObject *
entry(PyObject *trace, PyObject *span, int link, int sampled, PyObject *hop)
{
    return PyTuple_Pack(7, trace, span, unnamed, link ? Py_True : Py_False,
                        sampled ? Py_True : Py_False, Py_None, hop);
}

PyDoc_STRVAR(read_doc,
"read_metadata(metadata, link, hop)\n"
"--\n\n"
"The entry of the run a call's metadata carries, ``None`` without one, or ``AGAIN`` when\n"
"the Python reading must decide.");

static PyObject *
read_metadata(PyObject *self, PyObject *args)
{
    PyObject *metadata, *hop, *header = NULL, *textmap, *reader, *seq;
    int link;
    Py_ssize_t i, n;
    (void)self;
    if (!PyArg_ParseTuple(args, "OpO", &metadata, &link, &hop))
        return NULL;
    if (checked == NULL)
        return Py_NewRef(AGAIN);
    /* The global propagator is the one judged to be the default pair. */
    reader = PyObject_GetAttr(propagators, s_global_textmap);
    if (reader == NULL)
        return NULL;
    textmap = PyObject_CallNoArgs(reader);
    Py_DECREF(reader);
    if (textmap == NULL)
        return NULL;
    {
        int judged = PyList_GET_SIZE(checked) == 2 && PyList_GET_ITEM(checked, 0) == textmap &&
                     PyList_GET_ITEM(checked, 1) == Py_True;
        Py_DECREF(textmap);
        if (!judged)
            return Py_NewRef(AGAIN);
    }
    if (!PyTuple_CheckExact(metadata) && !PyList_CheckExact(metadata))
        return Py_NewRef(AGAIN);
    seq = metadata;
    n = PySequence_Fast_GET_SIZE(seq);
    for (i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i), *key, *value;
        const char *k;
        Py_ssize_t kn;
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2)
            return Py_NewRef(AGAIN);
        key = PyTuple_GET_ITEM(item, 0);
        value = PyTuple_GET_ITEM(item, 1);
        if (!PyUnicode_CheckExact(key) || !PyUnicode_IS_ASCII(key))
            return Py_NewRef(AGAIN);
        k = (const char *)PyUnicode_DATA(key);
        kn = PyUnicode_GET_LENGTH(key);
        if (kn == 11 && memcmp(k, "traceparent", 11) == 0) {
            if (header != NULL)
                return Py_NewRef(AGAIN); /* sent twice: the general reading refuses it */
            header = value;
        }
        else if (is_w3c_header(k, kn))
            return Py_NewRef(AGAIN); /* baggage, tracestate, or another letter case */
    }
    if (header == NULL)
        Py_RETURN_NONE;
    if (!PyUnicode_CheckExact(header) || !PyUnicode_IS_ASCII(header) ||
        PyUnicode_GET_LENGTH(header) != 55)
        return Py_NewRef(AGAIN);
    if (last_header != NULL &&
        (header == last_header || PyUnicode_Compare(header, last_header) == 0))
        return entry(last_trace, last_span, link, last_sampled, hop);
    {
        /* 00-<32 hex, not all zero>-<16 hex, not all zero>-<2 hex>, lower case */
        const Py_UCS1 *t = PyUnicode_1BYTE_DATA(header);
        char trace_hex[33];
        unsigned long long span = 0;
        int trace_zero = 1, flags_low;
        PyObject *trace_obj, *span_obj;
        if (t[0] != '0' || t[1] != '0' || t[2] != '-' || t[35] != '-' || t[52] != '-')
            return Py_NewRef(AGAIN);
        for (i = 3; i < 35; i++) {
            int v = hex_value(t[i]);
            if (v < 0)
                return Py_NewRef(AGAIN);
            trace_zero &= v == 0;
            trace_hex[i - 3] = (char)t[i];
        }
        trace_hex[32] = '\0';
        for (i = 36; i < 52; i++) {
            int v = hex_value(t[i]);
            if (v < 0)
                return Py_NewRef(AGAIN);
            span = span << 4 | (unsigned long long)v;
        }
        if (hex_value(t[53]) < 0 || (flags_low = hex_value(t[54])) < 0)
            return Py_NewRef(AGAIN);
        if (trace_zero || span == 0)
            return Py_NewRef(AGAIN); /* invalid: the Python reading says so */
        trace_obj = PyLong_FromString(trace_hex, NULL, 16);
        if (trace_obj == NULL)
            return NULL;
        span_obj = PyLong_FromUnsignedLongLong(span);
        if (span_obj == NULL) {
            Py_DECREF(trace_obj);
            return NULL;
        }
        Py_XSETREF(last_header, Py_NewRef(header));
        Py_XSETREF(last_trace, trace_obj);
        Py_XSETREF(last_span, span_obj);
        last_sampled = flags_low & 1; /* trace-flags bit 0 */
        return entry(last_trace, last_span, link, last_sampled, hop);
    }
}

PyDoc_STRVAR(setup_doc,
"setup(checked, propagators, unnamed)\n"
"--\n\n"
"Give the reader the judged propagator list, the module reading the global propagator,\n"
"and the StepInfo of an unnamed sender.");

static PyObject *
setup(PyObject *self, PyObject *args)
{
    PyObject *c, *p, *u;
    (void)self;
    if (!PyArg_ParseTuple(args, "O!OO", &PyList_Type, &c, &p, &u))
        return NULL;
    Py_XSETREF(checked, Py_NewRef(c));
    Py_XSETREF(propagators, Py_NewRef(p));
    Py_XSETREF(unnamed, Py_NewRef(u));
    Py_CLEAR(last_header);
    Py_CLEAR(last_trace);
    Py_CLEAR(last_span);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"read_metadata", read_metadata, METH_VARARGS, read_doc},
    {"setup", setup, METH_VARARGS, setup_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_wire", "The gRPC server's reading of penstock's own headers, in C.",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__wire(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (AGAIN == NULL) {
        AGAIN = PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type);
        s_global_textmap = PyUnicode_InternFromString("global_textmap");
        if (AGAIN == NULL || s_global_textmap == NULL) {
            Py_DECREF(m);
            return NULL;
        }
    }
    if (PyModule_AddObjectRef(m, "AGAIN", AGAIN) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
