"""Data in and out: the JSON export, PyTorch models and state dicts, and all-or-nothing file writes."""
