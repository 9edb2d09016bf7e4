"""nn.init: parameter initialisation (issue 5)."""
