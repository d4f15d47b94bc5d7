"""Prompt templates: the Alpaca template shared by training and evaluation (alpaca.py), and the
augmentation prompts per technique x dataset (versioned)."""
