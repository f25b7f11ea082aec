"""Extraction: transcript -> decisions and owned, dated, grounded action items."""
