"""Treatment courses: the Patient Authorization and Baseline Lab Form and its doses."""
