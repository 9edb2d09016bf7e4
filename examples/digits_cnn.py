"""A small CNN on scikit-learn's 8x8 digits, written as PyTorch code: only the import differs.

Run: python examples/digits_cnn.py [--epochs 20] [--out DIR]      (needs scikit-learn)
"""
import argparse
import math
import os

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import chainrule as torch
from chainrule import nn
from chainrule.utils.data import DataLoader, TensorDataset


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--out", default=".", help="where digits_cnn.safetensors goes")
    args = p.parse_args()

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=0.2, random_state=0, stratify=digits.target)

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),      # 32 x 4 x 4
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),     # 64 x 2 x 2
        nn.Flatten(), nn.Linear(256, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(torch.tensor(x_train), torch.tensor(y_train)),
                        batch_size=64, shuffle=True)

    for epoch in range(args.epochs):
        for group in optimizer.param_groups:           # cosine learning-rate decay
            group["lr"] = 5e-3 * 0.5 * (1 + math.cos(math.pi * epoch / args.epochs))
        model.train()
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            pred = model(torch.tensor(x_test)).argmax(1)
        accuracy = (pred == torch.tensor(y_test)).float().mean().item()
        print(f"epoch {epoch + 1:2d}  loss {loss.item():.4f}  test accuracy {accuracy:.2%}")

    path = os.path.join(args.out, "digits_cnn.safetensors")
    torch.save(model.state_dict(), path)
    print(f"saved {path}")
    print(f"test accuracy {100 * accuracy:.2f}%")


if __name__ == "__main__":
    main()
