"""torch.func-style transforms: grad, vjp, jvp, jacrev, jacfwd, hessian, vmap (issue 4)."""
