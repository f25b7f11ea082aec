"""Errors a user can act on. Each carries one line that says what went wrong and what to do."""


class TakeawayError(Exception):
    """Base for errors shown to users as one line, without a traceback."""


class AudioError(TakeawayError):
    """The input is not decodable audio (corrupt, empty, not audio, no audio track)."""


class ModelMissingError(TakeawayError):
    """Model weights a backend needs are not installed or not where configured."""


class ExtractionError(TakeawayError):
    """The LLM backend failed or returned output that does not validate."""


class LanguageError(TakeawayError):
    """The speech is not in a language the configured ASR model handles (e.g. German for tiny.en)."""
