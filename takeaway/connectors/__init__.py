"""Outside systems behind one small interface per kind (trackers, chat)."""
