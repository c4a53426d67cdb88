"""The runnable examples/: each runs (quick settings) and shows what its docstring claims."""
import importlib.util
import re
import subprocess
import sys

import numpy as np

from conftest import REPO

EXAMPLES = REPO / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(name, *args):
    result = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), *map(str, args)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_two_layer_20_lines_matches_hand_written_numpy_at_every_step():
    """SEED-EXAMPLES item 16: float64, relative 1e-9 at every step."""
    example = _load("two_layer_20_lines")
    assert (example.N, example.D_in, example.H, example.D_out, example.LR) == \
        (64, 1000, 100, 10, 1e-4)
    problem = example.problem(seed=3)
    reference = example.numpy_losses(*problem, steps=300)
    ours = example.wengert_losses(*problem, steps=300)
    np.testing.assert_allclose(ours, reference, rtol=1e-9)
    assert reference[-1] < 0.2 * reference[0]  # and it does learn


def test_two_layer_20_lines_script():
    assert "largest relative difference over 20 steps" in _run("two_layer_20_lines",
                                                                "--steps", 20)


def test_xor_hand_wired_and_learned():
    """SEED-EXAMPLES item 15: the OR/NAND/AND network and a trained 2-2-1 net give XOR."""
    example = _load("xor")
    np.testing.assert_allclose(example.hand_wired(example.INPUTS).data, [0, 1, 1, 0],
                               atol=1e-4)
    model, loss, _ = example.learn_xor(steps=500)
    np.testing.assert_array_equal(example.predict(model).data.round(), [0, 1, 1, 0])
    rows = re.findall(r"^ (\d)  (\d) \|  (\d)  \|   ([\d.]+)   \|   ([\d.]+)$",
                      _run("xor", "--steps", 300), flags=re.M)
    assert [(a, b, t) for a, b, t, _, _ in rows] == [("0", "0", "0"), ("0", "1", "1"),
                                                     ("1", "0", "1"), ("1", "1", "0")]


def test_circle_recovers_centre_and_radius():
    """SEED-EXAMPLES item 18."""
    example = _load("circle")
    radius, cx, cy, _ = example.learn_circle(steps=2000)
    assert abs(radius - example.RADIUS) < 0.1
    assert np.hypot(cx - example.CENTRE[0], cy - example.CENTRE[1]) < 0.1
    assert "learned: centre" in _run("circle", "--steps", 100)


def test_mnist_mlp_quick_run(tmp_path, data_dir):
    out = _run("mnist_mlp", "--data-dir", data_dir, "--epochs", 1, "--limit", 3000,
               "--out", tmp_path)
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", out).group(1))
    assert accuracy > 80  # 3,000 images, one epoch
    assert (tmp_path / "mnist_mlp.safetensors").is_file()


def test_per_example_gradients_dp_sgd_step_is_the_mean_of_clipped_example_gradients():
    example = _load("per_example_gradients")
    import wengert as wg
    _, params, loss = example.model_and_loss(seed=1)
    X, Y = example.moons(n=40, noise=0.1, seed=1).tensors
    x, y = X[:8], Y[:8]
    per_example = wg.vmap(wg.grad(loss), in_dims=(None, 0, 0))
    got = per_example(params, x, y)
    loop = [wg.grad(loss)(params, x[i], y[i]) for i in range(8)]
    for k in params:   # one batched pass gives every example's own gradient
        np.testing.assert_allclose(got[k].numpy(), np.stack([g[k].numpy() for g in loop]),
                                   rtol=1e-5, atol=1e-7)
    # without noise, the step moves by lr times the mean of the gradients clipped to norm 0.1
    clip, lr = 0.1, 0.5
    new = example.private_step(params, per_example, x, y, lr, clip, 0.0,
                               np.random.default_rng(0))
    norms = [np.sqrt(sum((g[k].numpy().astype(np.float64) ** 2).sum() for k in g)) for g in loop]
    assert max(norms) > clip  # the clipping matters here
    for k in params:
        clipped = sum(g[k].numpy() * min(1.0, clip / n) for g, n in zip(loop, norms)) / 8
        np.testing.assert_allclose(new[k].numpy(), params[k].numpy() - lr * clipped,
                                   rtol=1e-4, atol=1e-6)


def test_per_example_gradients_dp_sgd_learns_the_moons():
    example = _load("per_example_gradients")
    _, _, accuracy = example.train(epochs=30)
    assert accuracy >= 0.9   # the noisy, clipped steps still learn the two moons
    assert "training accuracy" in _run("per_example_gradients", "--epochs", 2)
