"""Module, Parameter and the containers: registration order, tree walks, modes, state dicts
(round trip and the errors that name keys and shapes), zero_grad, apply, repr."""
from collections import OrderedDict

import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(np.ones(4, np.float32))
        self.register_buffer("count", wg.zeros(1))
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(4, 2, bias=False)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.head(self.drop(self.block(x)))


def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter(np.zeros(3, np.float32))
    assert isinstance(p, wg.Tensor) and p.requires_grad and p.is_leaf
    t = wg.zeros(2)
    assert nn.Parameter(t).data is t.data  # shares storage, as torch.nn.Parameter
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_named_parameters_in_registration_order():
    # PyTorch's order: a module's own parameters, then its children's, depth first
    net = Net()
    assert [n for n, _ in net.named_parameters()] == \
        ["block.scale", "block.fc.weight", "block.fc.bias", "head.weight"]
    assert [p.shape for p in net.parameters()] == [(4,), (4, 3), (4,), (2, 4)]
    assert [n for n, _ in net.named_buffers()] == ["block.count"]


def test_shared_parameter_listed_once():
    a = nn.Linear(2, 2)
    seq = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(seq.parameters())) == 2


def test_children_and_modules():
    net = Net()
    assert [n for n, _ in net.named_children()] == ["block", "head", "drop"]
    names = [n for n, _ in net.named_modules()]
    assert names == ["", "block", "block.fc", "block.act", "head", "drop"]
    assert len(list(net.modules())) == 6 and list(net.children())[1] is net.head


def test_train_eval_reach_every_module():
    net = Net()
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_reassigning_replaces_registration():
    block = Block()
    block.fc = nn.Linear(3, 4, bias=False)
    assert [n for n, _ in block.named_parameters()] == ["scale", "fc.weight"]
    block.fc = None
    assert [n for n, _ in block.named_parameters()] == ["scale"]
    with pytest.raises(TypeError, match="'scale' of Block: it holds a Parameter"):
        block.scale = np.ones(4)
    del block.scale
    assert list(block.named_parameters()) == []


def test_assignment_before_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\)"):
        Broken()


def test_state_dict_round_trip():
    a, b = Net(), Net()
    sd = a.state_dict()
    assert list(sd) == ["block.scale", "block.count", "block.fc.weight", "block.fc.bias",
                        "head.weight"]  # PyTorch's order for the same module
    with wg.no_grad():
        a.block.count[...] = 7
    assert b.load_state_dict(a.state_dict()) == ([], [])
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_array_equal(x.data, y.data, err_msg=name)
        assert x.data is not y.data
    # arrays are accepted too, and values are copied into the existing parameters
    w = b.head.weight
    b.load_state_dict({k: np.full(v.shape, 0.5) for k, v in sd.items()})
    assert b.head.weight is w and w.dtype == np.float32 and (w.data == 0.5).all()


def test_state_dict_tensors_share_storage_but_not_the_graph():
    lin = nn.Linear(2, 2)
    w = lin.state_dict()["weight"]
    assert not w.requires_grad and w.data is lin.weight.data


def test_load_state_dict_names_missing_and_unexpected_keys():
    net = Net()
    sd = net.state_dict()
    sd.pop("head.weight")
    sd["extra.bias"] = np.zeros(2)
    with pytest.raises(KeyError, match=r"missing keys \['head.weight'\], unexpected keys "
                                       r"\['extra.bias'\]") as info:
        net.load_state_dict(sd)
    assert isinstance(info.value, wg.WengertError)
    assert net.load_state_dict(sd, strict=False) == (["head.weight"], ["extra.bias"])


def test_load_state_dict_names_mismatched_shapes_and_writes_nothing():
    net = Net()
    before = net.block.fc.bias.data.copy()
    sd = {k: np.zeros(v.shape) for k, v in net.state_dict().items()}
    sd["head.weight"] = np.zeros((3, 4))
    with pytest.raises(wg.ShapeError, match=r"head.weight: checkpoint \(3, 4\) vs model \(2, 4\)"):
        net.load_state_dict(sd, strict=False)
    np.testing.assert_array_equal(net.block.fc.bias.data, before)


def test_shared_module_state_dict_follows_torch(torch_mod):
    # A module used twice: parameters() once (PyTorch de-duplicates), state_dict() under
    # every path (PyTorch does not), so the two models exchange state dicts.
    lin, tlin = nn.Linear(3, 3), torch_mod.nn.Linear(3, 3)
    ours = nn.Sequential(lin, nn.ReLU(), lin).double()
    theirs = torch_mod.nn.Sequential(tlin, torch_mod.nn.ReLU(), tlin)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert ours.load_state_dict({k: v.detach().numpy() for k, v in
                                 theirs.state_dict().items()}) == ([], [])
    x = np.random.default_rng(1).standard_normal((5, 3))
    np.testing.assert_allclose(ours(wg.tensor(x)).data,
                               theirs(torch_mod.tensor(x)).detach().numpy(), rtol=1e-12)
    # Paths that disagree: the last one wins in both
    sd = {k: np.full(tuple(v.shape), float(i)) for i, (k, v) in
          enumerate(theirs.state_dict().items())}
    ours.load_state_dict(sd)
    theirs.load_state_dict({k: torch_mod.tensor(v) for k, v in sd.items()})
    np.testing.assert_array_equal(lin.weight.data, tlin.weight.detach().numpy())
    np.testing.assert_array_equal(lin.bias.data, tlin.bias.detach().numpy())
    # Missing keys are reported per path too
    half = {k: v for k, v in sd.items() if k.startswith("0.")}
    expected = theirs.load_state_dict({k: torch_mod.tensor(v) for k, v in half.items()},
                                      strict=False)
    assert ours.load_state_dict(half, strict=False) == \
        (expected.missing_keys, expected.unexpected_keys)


def test_named_modules_with_and_without_duplicates():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), nn.Sequential(lin))
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1", "2"]
    assert [n for n, _ in seq.named_modules(remove_duplicate=False)] == \
        ["", "0", "1", "2", "2.0"]
    seq.add_module("3", seq)  # a cycle: every path through it is endless
    with pytest.raises(wg.ArgumentError, match="'3' contains itself"):
        seq.state_dict()


def test_zero_grad():
    lin = nn.Linear(2, 1)
    lin(wg.ones(3, 2)).sum().backward()
    lin.zero_grad(set_to_none=False)
    assert (lin.weight.grad.data == 0).all()
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None


def test_apply_visits_children_then_self():
    seen = []
    Net().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Block", "Linear", "Dropout", "Net"]


def test_to_double_and_requires_grad_():
    net = Net().double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.block.count.dtype == np.float64
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_repr_tree():
    assert repr(Net()) == (
        "Net(\n"
        "  (block): Block(\n"
        "    (fc): Linear(in_features=3, out_features=4, bias=True)\n"
        "    (act): ReLU()\n"
        "  )\n"
        "  (head): Linear(in_features=4, out_features=2, bias=False)\n"
        "  (drop): Dropout(p=0.5, inplace=False)\n"  # torch's repr
        ")")


def test_forward_not_defined():
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(1)


# --- containers -------------------------------------------------------------------------------
def test_sequential_runs_in_order_and_indexes():
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    x = wg.randn(4, 2)
    expected = seq[2](seq[1](seq[0](x)))
    np.testing.assert_array_equal(seq(x).data, expected.data)
    assert len(seq) == 3 and isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    assert [n for n, _ in seq[1:].named_children()] == ["1", "2"]
    seq.append(nn.Sigmoid())
    assert isinstance(list(seq)[-1], nn.Sigmoid)


def test_sequential_from_ordered_dict():
    seq = nn.Sequential(OrderedDict(hidden=nn.Linear(2, 2), act=nn.ReLU()))
    assert [n for n, _ in seq.named_parameters()] == ["hidden.weight", "hidden.bias"]


def test_module_list_and_dict_register_parameters():
    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
            self.heads = nn.ModuleDict({"a": nn.Linear(2, 1)})

    h = Holder()
    h.layers.append(nn.Linear(2, 2))
    h.heads["b"] = nn.Linear(2, 3)
    assert [n for n, _ in h.named_parameters()][::2] == \
        ["layers.0.weight", "layers.1.weight", "layers.2.weight", "heads.a.weight",
         "heads.b.weight"]
    assert len(h.layers) == 3 and len(h.layers[:2]) == 2 and "b" in h.heads
    h.layers[0] = nn.Identity()
    assert isinstance(h.layers[0], nn.Identity)
    assert list(h.heads.keys()) == ["a", "b"]
    del h.heads["a"]
    assert list(h.heads) == ["b"]


def _names(pairs):
    return [name for name, _ in pairs]


def test_named_members_take_torchs_prefix_and_remove_duplicate(torch_mod):
    def build(lib):
        lin = lib.Linear(2, 2)
        model = lib.Sequential(lin, lib.ReLU(), lib.Sequential(lin, lib.BatchNorm1d(2)))
        return model

    ours, theirs = build(nn), build(torch_mod.nn)
    for kwargs in ({}, {"prefix": "net"}, {"remove_duplicate": False},
                   {"prefix": "net", "remove_duplicate": False}, {"recurse": False}):
        assert _names(ours.named_parameters(**kwargs)) == \
            _names(theirs.named_parameters(**kwargs)), kwargs
        assert _names(ours.named_buffers(**kwargs)) == \
            _names(theirs.named_buffers(**kwargs)), kwargs
    assert _names(ours[2].named_parameters("p", False)) == []  # prefix first, as PyTorch
    assert len(list(ours.parameters())) == 4 and len(list(ours.buffers())) == 3


def test_sequential_and_module_list_edit_like_torch(torch_mod):
    def edit(lib, container):
        seq = container([lib.ReLU(), lib.Tanh()])
        seq.insert(1, lib.Sigmoid())
        seq.insert(2, lib.ELU())
        seq.extend([lib.Identity()])
        del seq[0]
        seq[-1] = lib.Softplus()
        seq.append(lib.GELU())
        del seq[1:3]
        return [(name, type(m).__name__) for name, m in seq.named_children()]

    assert edit(nn, lambda ms: nn.Sequential(*ms)) == \
        edit(torch_mod.nn, lambda ms: torch_mod.nn.Sequential(*ms))
    assert edit(nn, nn.ModuleList) == edit(torch_mod.nn, torch_mod.nn.ModuleList)
    layers = nn.ModuleList([nn.Linear(2, 2)])
    layers += [nn.Linear(2, 3)]
    assert _names(layers.named_parameters())[::2] == ["0.weight", "1.weight"]
    layers.insert(-1, nn.ReLU())  # before the last, as list.insert
    assert [type(m).__name__ for m in layers] == ["Linear", "ReLU", "Linear"]
    with pytest.raises(IndexError, match="index 4 is out of range for 3 modules"):
        layers.insert(4, nn.ReLU())
    heads = nn.ModuleDict({"a": nn.ReLU(), "b": nn.Tanh()})
    assert isinstance(heads.pop("a"), nn.ReLU) and list(heads) == ["b"]


def test_layer_norm_repr_matches_torch(torch_mod):
    for kwargs in ({}, {"elementwise_affine": False}, {"bias": False}, {"eps": 0.1}):
        assert repr(nn.LayerNorm((3, 4), **kwargs)) == \
            repr(torch_mod.nn.LayerNorm((3, 4), **kwargs))


def test_explicit_registrations_refuse_names_as_torch_does(torch_mod):
    def outcomes(lib):
        got, m = [], lib.Linear(2, 2)  # one module: each call sees the ones before it
        for call in (lambda m: m.register_buffer("weight", None),   # a parameter's name
                     lambda m: m.register_buffer("a.b", None),      # a state_dict separator
                     lambda m: m.register_buffer("", None),
                     lambda m: m.register_buffer("train", None),    # a method's name
                     lambda m: m.register_buffer("extra", None),
                     lambda m: m.register_parameter("extra", None),  # now a buffer's name
                     lambda m: m.add_module("bias", lib.ReLU())):
            try:
                call(m)
                got.append("ok")
            except KeyError:
                got.append("KeyError")
        return got

    assert outcomes(nn) == outcomes(torch_mod.nn)
    m = nn.Linear(2, 2)
    m.weight = nn.Parameter(wg.zeros(2, 2))  # assignment still replaces, as PyTorch
    m.register_buffer("extra", wg.zeros(1))
    m.extra = nn.Parameter(wg.zeros(1))      # a buffer replaced by assignment
    assert "extra" in dict(m.named_parameters()) and not list(m.named_buffers())
