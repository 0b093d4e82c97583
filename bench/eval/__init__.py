"""Understanding, measured on held-out messages written apart from the training data and frozen."""
