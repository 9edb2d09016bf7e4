"""chainrule.utils.data: datasets, samplers and DataLoader (issue 5)."""
