"""chainrule.optim: optimizers and lr_scheduler (issue 5)."""
