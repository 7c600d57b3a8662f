"""One module per migration: `vNNNN_<name>.py` with VERSION, NAME and statements(backend)."""
