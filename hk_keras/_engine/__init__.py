"""Private training engine: pure train/test/predict steps over one train state."""
