"""Prompt templates: the Alpaca template shared by training and evaluation (alpaca.py), and the
augmentation prompts per technique x dataset, versioned, with one render() (augment.py; the
instructions and hand-written demos are in augment_demos.py)."""
