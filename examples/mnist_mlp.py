"""MNIST with an MLP 784-256-128-10 (ReLU), Adam with a cosine learning-rate schedule and
cross-entropy: the library's main job in a page, the recipe of `wengert train --dataset
mnist`. Reaches over 98% test accuracy in 10 epochs (see docs/training.md).

    python examples/mnist_mlp.py [--data-dir DIR] [--epochs 10] [--limit N] [--out DIR]

``--data-dir`` is the folder holding mnist/ (default $WENGERT_DATA, else ~/.cache/wengert;
add --download to fetch the files). ``--limit`` trains on the first N images only (quick
runs); ``--out`` saves a checkpoint and, with matplotlib, plots.
"""
import argparse
from pathlib import Path

import wengert as wg
from wengert import nn, optim
from wengert.data import DataLoader, Subset, mnist
from wengert.nn import functional as F
from wengert.train import confusion_matrix, evaluate, fit, predict, predictions


def main(argv=None):
    parser = argparse.ArgumentParser(description="train an MLP on MNIST")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--download", action="store_true")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--limit", type=int, default=None, help="train on N images only")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    train_set = mnist(args.data_dir, "train", download=args.download, flatten=True)
    test_set = mnist(args.data_dir, "test", download=args.download, flatten=True)
    if args.limit:
        train_set = Subset(train_set, range(args.limit))
    wg.manual_seed(args.seed)
    model = nn.MLP([784, 256, 128, 10], activation="relu")
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, args.epochs)
    test_loader = DataLoader(test_set, batch_size=1000)
    history = fit(model, F.cross_entropy, optimizer,
                  DataLoader(train_set, batch_size=128, shuffle=True), args.epochs,
                  val_loader=test_loader, scheduler=scheduler,
                  checkpoint=args.out and args.out / "mnist_mlp.safetensors")
    test = evaluate(model, F.cross_entropy, test_loader)
    print(f"test loss {test['loss']:.4f}, test accuracy {100 * test['accuracy']:.2f}% after "
          f"{len(history['epoch'])} epochs ({sum(history['time']) / len(history['time']):.1f} "
          "s per epoch)")
    if args.out is not None:
        save_plots(model, history, test_set, args.out)


def save_plots(model, history, test_set, out):
    """Curves, confusion matrix and sample predictions, when matplotlib is installed."""
    try:
        from wengert.train import plots
    except ImportError:
        return
    images, labels = test_set.tensors
    logits = predict(model, images)
    plots.plot_history(history, out / "history.png")
    plots.plot_confusion_matrix(confusion_matrix(logits, labels, 10),
                                path=out / "confusion_matrix.png")
    plots.plot_samples(images[:32], labels[:32], predictions(logits)[:32],
                       path=out / "samples.png")
    print(f"plots written to {out}")


if __name__ == "__main__":
    main()
