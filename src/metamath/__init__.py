"""metamath: the MetaMath pipeline end to end: bootstrap MetaMathQA, fine-tune, evaluate."""

__version__ = "0.1.0"
