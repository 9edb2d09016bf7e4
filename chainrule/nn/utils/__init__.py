"""nn.utils: gradient clipping, parameter vectors, rnn helpers (issue 5)."""
