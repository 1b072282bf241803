"""Offline evaluation: ranking and beyond-accuracy metrics, bootstrap intervals and off-policy estimators."""
