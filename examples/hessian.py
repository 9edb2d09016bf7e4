"""Second derivatives by differentiating a gradient (create_graph=True), then Newton's method
on the Rosenbrock function f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, whose minimum is (1, 1).

Run: python examples/hessian.py
"""
import numpy as np

import chainrule


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def gradient_and_hessian(f, p):
    """The gradient of f at p and its Hessian, one row per gradient component."""
    p = p.detach().requires_grad_()
    g, = chainrule.autograd.grad(f(p), p, create_graph=True)
    rows = [chainrule.autograd.grad(g[i], p, retain_graph=True)[0] for i in range(p.numel())]
    return g.detach(), chainrule.stack(rows)


def main():
    p = chainrule.tensor([-1.2, 1.0], dtype=chainrule.float64)
    g, h = gradient_and_hessian(rosenbrock, p)
    x, y = p.tolist()
    exact = np.array([[2 - 400 * (y - 3 * x ** 2), -400 * x], [-400 * x, 200]])
    print("Hessian at (-1.2, 1):")
    print(h)
    print("matches the formula:", np.allclose(h.numpy(), exact))

    print("Newton's method:")
    for step in range(6):
        g, h = gradient_and_hessian(rosenbrock, p)
        p = p - chainrule.tensor(np.linalg.solve(h.numpy(), g.numpy()))
        print(f"  step {step + 1}: x = {p[0].item():.6f}, y = {p[1].item():.6f}, "
              f"f = {rosenbrock(p).item():.3e}")


if __name__ == "__main__":
    main()
