/* The fast paths of one- and two-input ops, in C.

   This is the same code as _make_unary / _make_binary in primitive.py, which stays the
   reference (and the path used when this module is not built or WENGERT_PURE_PYTHON is set):
   unwrap tensors, run the NumPy forward, wrap the result in a new Tensor, and record a Node
   (by calling primitive._record) only when an input requires grad and grad mode is on.
   Anything else -- keyword arguments, a wrong number of arguments, a forward-mode, anomaly
   or vmap detour, a non-Tensor input to a one-input op -- is handed to the Python
   function, so every rule and error message lives in one place. A reflected operator
   (Tensor.__rsub__, primitive.reflected) is the same op with its two operands swapped. In C the op costs its NumPy
   call plus about one object allocation: no Python frame runs between the operator and
   NumPy, which is what keeps a no-grad op near NumPy's own speed.

   Only CPython's public C API is used, and no NumPy headers: NumPy is reached through the
   Python objects handed to configure(). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

/* What configure() receives from primitive.py, held for the life of the process. */
static PyTypeObject *tensor_type;   /* wengert.Tensor */
static PyObject *ndarray_type;      /* numpy.ndarray */
static PyObject *as_array;          /* numpy.asarray */
static PyObject *detour;            /* state.DETOUR: [count] */
static PyObject *grad_off;          /* state.GRAD_OFF: [count] */
static PyObject *state;             /* state.STATE (thread-local) */
static PyObject *record;            /* primitive._record */
static PyObject *forward_error;     /* primitive._forward_error */
static PyObject *wengert_error;     /* errors.WengertError */
static PyObject *no_params;         /* primitive._NO_PARAMS */
static PyObject *fresh;             /* tensor.FRESH */
static PyObject *empty_tuple;
static PyObject *str_grad_enabled;
/* Byte offsets of Tensor's two slots, read from its member descriptors. */
static Py_ssize_t data_offset = -1, requires_grad_offset = -1;

#define SLOT(obj, offset) (*(PyObject **)((char *)(obj) + (offset)))

typedef struct {
    PyObject_HEAD
    int arity;              /* 1 or 2 */
    int reflected;          /* a reflected operator: op(a, b) computes forward(b, a) */
    PyObject *forward;      /* the primitive's NumPy forward */
    PyObject *fallback;     /* the Python op (_make_unary / _make_binary) */
    PyObject *prim;         /* the Primitive, for _record */
    PyObject *name;         /* the op's name, for error messages */
    PyObject *dict;         /* __name__, __doc__, prim... as a Python function has them */
    PyObject *weakrefs;     /* weak references, as a Python function takes them */
    vectorcallfunc vectorcall;
} FastOp;

/* Whether the process-wide counter in list `counter` (a Python int, whose truth test cannot
   fail) is non-zero. */
static int
counter_set(PyObject *counter)
{
    return PyObject_IsTrue(PyList_GET_ITEM(counter, 0)) != 0;
}

/* `not GRAD_OFF[0] or STATE.grad_enabled`, -1 on error. */
static int
grad_enabled(void)
{
    if (!counter_set(grad_off))
        return 1;
    PyObject *mode = PyObject_GetAttr(state, str_grad_enabled);
    if (mode == NULL)
        return -1;
    int on = PyObject_IsTrue(mode);
    Py_DECREF(mode);
    return on;
}

/* The forward raised: a WengertError or anything but a ValueError passes through; NumPy's
   ValueError (broadcasting, axes) becomes _forward_error's ShapeError, raised `from None`. */
static PyObject *
forward_failed(FastOp *op, PyObject *const *arrays, int n)
{
    if (!PyErr_ExceptionMatches(PyExc_ValueError) || PyErr_ExceptionMatches(wengert_error))
        return NULL;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *list = PyList_New(n);
    PyObject *err = NULL;
    if (list != NULL) {
        for (int i = 0; i < n; i++)
            PyList_SET_ITEM(list, i, Py_NewRef(arrays[i]));
        err = PyObject_CallFunctionObjArgs(forward_error, op->name, value, list, NULL);
        Py_DECREF(list);
    }
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    if (err == NULL)
        return NULL;
    PyException_SetCause(err, NULL);  /* steals; also sets __suppress_context__ */
    PyErr_SetObject((PyObject *)Py_TYPE(err), err);
    Py_DECREF(err);
    return NULL;
}

/* The op on `args` (in the forward's order) whose data are `arrays` (strong references,
   held by the caller until this returns: a forward that releases the GIL, or Python code a
   forward runs, may rebind a tensor's .data meanwhile, and the node must save the arrays the
   forward read). */
static PyObject *
run(FastOp *op, PyObject *const *args, PyObject *const *arrays, int wants_grad)
{
    PyObject *out = PyObject_Vectorcall(op->forward, arrays, op->arity, NULL);
    if (out == NULL)
        return forward_failed(op, arrays, op->arity);
    if (Py_TYPE(out) != (PyTypeObject *)ndarray_type) {  /* a NumPy scalar (0-d result) */
        PyObject *arr = PyObject_CallOneArg(as_array, out);
        Py_DECREF(out);
        if (arr == NULL)
            return NULL;
        out = arr;
    }
    PyObject *result = PyBaseObject_Type.tp_new(tensor_type, empty_tuple, NULL);
    if (result == NULL) {
        Py_DECREF(out);
        return NULL;
    }
    SLOT(result, data_offset) = out;  /* the reference from the forward moves in */
    int on = wants_grad ? grad_enabled() : 0;
    if (on < 0) {
        Py_DECREF(result);
        return NULL;
    }
    if (!on) {
        SLOT(result, requires_grad_offset) = Py_NewRef(Py_False);
        return result;
    }
    PyObject *inputs = PyTuple_New(op->arity), *saved = PyTuple_New(op->arity);
    if (inputs == NULL || saved == NULL) {
        Py_XDECREF(inputs);
        Py_XDECREF(saved);
        Py_DECREF(result);
        return NULL;
    }
    for (int i = 0; i < op->arity; i++) {
        PyTuple_SET_ITEM(inputs, i, Py_NewRef(args[i]));
        PyTuple_SET_ITEM(saved, i, Py_NewRef(arrays[i]));
    }
    PyObject *node = PyObject_CallFunctionObjArgs(record, op->prim, result, inputs, saved,
                                                  no_params, out, fresh, NULL);
    Py_DECREF(inputs);
    Py_DECREF(saved);
    if (node == NULL) {
        Py_DECREF(result);
        return NULL;
    }
    Py_DECREF(node);
    return result;
}

static PyObject *
fastop_vectorcall(FastOp *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames != NULL || nargs != op->arity || counter_set(detour))
        return PyObject_Vectorcall(op->fallback, args, nargsf, kwnames);
    PyObject *const *given = args;
    PyObject *swapped[2];
    if (op->reflected) {  /* x.__rsub__(y) is y - x: the operands in the forward's order */
        swapped[0] = args[1];
        swapped[1] = args[0];
        args = swapped;
    }
    PyObject *arrays[2] = {NULL, NULL};
    PyObject *result = NULL;
    int wants_grad = 0, i;
    for (i = 0; i < op->arity; i++) {
        PyObject *a = args[i];
        if (PyObject_TypeCheck(a, tensor_type)) {
            PyObject *data = SLOT(a, data_offset), *rg = SLOT(a, requires_grad_offset);
            if (data == NULL || rg == NULL)  /* a half-made tensor: Python says what is wrong */
                goto fallback;
            arrays[i] = Py_NewRef(data);
            if (rg == Py_True)
                wants_grad = 1;
            else if (rg != Py_False) {  /* set by hand to something else: Python's truth */
                int truth = PyObject_IsTrue(rg);
                if (truth < 0)
                    goto done;
                wants_grad |= truth;
            }
        }
        else if (op->arity == 1)  /* a one-input op on a non-tensor converts it first */
            goto fallback;
        else
            arrays[i] = Py_NewRef(a);
    }
    result = run(op, args, arrays, wants_grad);
    goto done;
fallback:
    result = PyObject_Vectorcall(op->fallback, given, nargsf, kwnames);
done:
    Py_XDECREF(arrays[0]);
    Py_XDECREF(arrays[1]);
    return result;
}

static PyObject *
fastop_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    int arity, reflected = 0;
    PyObject *forward, *fallback, *prim, *name;
    static char *kwlist[] = {"arity", "forward", "fallback", "prim", "name", "reflected",
                             NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "iOOOU|p:FastOp", kwlist, &arity, &forward,
                                     &fallback, &prim, &name, &reflected))
        return NULL;
    if (arity != 1 && arity != 2) {
        PyErr_Format(PyExc_ValueError, "FastOp: arity must be 1 or 2, got %d", arity);
        return NULL;
    }
    if (reflected && arity != 2) {
        PyErr_SetString(PyExc_ValueError, "FastOp: only a two-input op is reflected");
        return NULL;
    }
    if (tensor_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "FastOp: call configure() first");
        return NULL;
    }
    FastOp *op = (FastOp *)type->tp_alloc(type, 0);
    if (op == NULL)
        return NULL;
    op->arity = arity;
    op->reflected = reflected;
    op->forward = Py_NewRef(forward);
    op->fallback = Py_NewRef(fallback);
    op->prim = Py_NewRef(prim);
    op->name = Py_NewRef(name);
    op->vectorcall = (vectorcallfunc)fastop_vectorcall;
    return (PyObject *)op;
}

static int
fastop_traverse(FastOp *op, visitproc visit, void *arg)
{
    Py_VISIT(op->forward);
    Py_VISIT(op->fallback);
    Py_VISIT(op->prim);
    Py_VISIT(op->dict);
    return 0;
}

static int
fastop_clear(FastOp *op)
{
    Py_CLEAR(op->forward);
    Py_CLEAR(op->fallback);
    Py_CLEAR(op->prim);
    Py_CLEAR(op->name);
    Py_CLEAR(op->dict);
    return 0;
}

static void
fastop_dealloc(FastOp *op)
{
    PyObject_GC_UnTrack(op);
    if (op->weakrefs != NULL)
        PyObject_ClearWeakRefs((PyObject *)op);
    fastop_clear(op);
    Py_TYPE(op)->tp_free((PyObject *)op);
}

/* Bound as a method (Tensor.__mul__ = multiply), as a Python function would be. */
static PyObject *
fastop_get(PyObject *op, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(op);
    return PyMethod_New(op, obj);
}

static PyObject *
fastop_repr(FastOp *op)
{
    return PyUnicode_FromFormat("<op %U (C fast path)>", op->name);
}

/* copy.copy and copy.deepcopy (whose memo is ignored) give the op itself, as they give a
   Python function. */
static PyObject *
fastop_self(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    return Py_NewRef(op);
}

static PyMethodDef fastop_methods[] = {
    {"__copy__", fastop_self, METH_NOARGS, NULL},
    {"__deepcopy__", fastop_self, METH_O, NULL},
    {NULL}
};

static PyGetSetDef fastop_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL}
};

static PyMemberDef fastop_members[] = {
    {"fallback", T_OBJECT, offsetof(FastOp, fallback), READONLY,
     "The op in Python (primitive._make_unary / _make_binary), which this one follows."},
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(FastOp, vectorcall), READONLY},
    {NULL}
};

static PyTypeObject FastOpType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "wengert.autodiff._fastpath.FastOp",
    .tp_doc = "A one- or two-input op whose no-detour path runs in C (see the module).",
    .tp_basicsize = sizeof(FastOp),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL
                | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_new = fastop_new,
    .tp_dealloc = (destructor)fastop_dealloc,
    .tp_traverse = (traverseproc)fastop_traverse,
    .tp_clear = (inquiry)fastop_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(FastOp, vectorcall),
    .tp_descr_get = fastop_get,
    .tp_repr = (reprfunc)fastop_repr,
    .tp_dictoffset = offsetof(FastOp, dict),
    .tp_weaklistoffset = offsetof(FastOp, weakrefs),
    .tp_methods = fastop_methods,
    .tp_getset = fastop_getset,
    .tp_members = fastop_members,
};

/* The byte offset of slot `name` of `type`, read from its member descriptor. */
static Py_ssize_t
slot_offset(PyTypeObject *type, const char *name)
{
    PyObject *descr = PyDict_GetItemString(type->tp_dict, name);
    if (descr == NULL || !PyObject_TypeCheck(descr, &PyMemberDescr_Type)) {
        PyErr_Format(PyExc_TypeError, "configure: %s.%s is not a slot", type->tp_name, name);
        return -1;
    }
    PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
    if (member->type != T_OBJECT_EX) {
        PyErr_Format(PyExc_TypeError, "configure: %s.%s is not an object slot",
                     type->tp_name, name);
        return -1;
    }
    return member->offset;
}

static PyObject *
configure(PyObject *module, PyObject *args)
{
    PyObject *tensor, *nd, *asarr, *det, *goff, *st, *rec, *ferr, *werr, *nop, *fr;
    if (!PyArg_ParseTuple(args, "O!OOO!O!OOOOO!O:configure", &PyType_Type, &tensor, &nd,
                          &asarr, &PyList_Type, &det, &PyList_Type, &goff, &st, &rec,
                          &ferr, &werr, &PyDict_Type, &nop, &fr))
        return NULL;
    if (PyList_GET_SIZE(det) != 1 || PyList_GET_SIZE(goff) != 1) {
        PyErr_SetString(PyExc_ValueError, "configure: DETOUR and GRAD_OFF hold one count");
        return NULL;
    }
    Py_ssize_t d = slot_offset((PyTypeObject *)tensor, "data");
    Py_ssize_t r = slot_offset((PyTypeObject *)tensor, "requires_grad");
    if (d < 0 || r < 0)
        return NULL;
    data_offset = d;
    requires_grad_offset = r;
    Py_XSETREF(tensor_type, (PyTypeObject *)Py_NewRef(tensor));
    Py_XSETREF(ndarray_type, Py_NewRef(nd));
    Py_XSETREF(as_array, Py_NewRef(asarr));
    Py_XSETREF(detour, Py_NewRef(det));
    Py_XSETREF(grad_off, Py_NewRef(goff));
    Py_XSETREF(state, Py_NewRef(st));
    Py_XSETREF(record, Py_NewRef(rec));
    Py_XSETREF(forward_error, Py_NewRef(ferr));
    Py_XSETREF(wengert_error, Py_NewRef(werr));
    Py_XSETREF(no_params, Py_NewRef(nop));
    Py_XSETREF(fresh, Py_NewRef(fr));
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"configure", configure, METH_VARARGS,
     "configure(Tensor, ndarray, asarray, DETOUR, GRAD_OFF, STATE, record, forward_error, "
     "WengertError, NO_PARAMS, FRESH): the objects the fast paths read (primitive.py)."},
    {NULL}
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_fastpath",
    "The fast paths of one- and two-input ops in C; see primitive.py.", -1, module_methods,
};

PyMODINIT_FUNC
PyInit__fastpath(void)
{
    if (PyType_Ready(&FastOpType) < 0)
        return NULL;
    empty_tuple = PyTuple_New(0);
    str_grad_enabled = PyUnicode_InternFromString("grad_enabled");
    if (empty_tuple == NULL || str_grad_enabled == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "FastOp", (PyObject *)&FastOpType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
