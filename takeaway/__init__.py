"""Takeaway: recorded conversations in, grounded, owned and dated action items out."""

__version__ = "0.1.0"
