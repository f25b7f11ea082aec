"""Typed values that leave the speech stage."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field


class Recording(BaseModel):
    """A recording to process and what is known of its meeting."""

    path: Path
    meeting_id: str = Field(description="Stable id: a hash of the file's content.")
    title: str
    start: datetime = Field(description="Meeting start, time-zone aware.")
    start_source: str = Field("given", description="Where `start` came from: given, file, now.")
    participants: list[str] = []
    source: str = "cli"


class Word(BaseModel):
    start: float
    end: float
    word: str
    speaker: str | None = None
    probability: float = 1.0


class Segment(BaseModel):
    id: int
    start: float
    end: float
    speaker: str | None = None
    text: str
    words: list[Word] = []
    overlap: bool = False  # another speaker talks over part of it (who said what is less certain)


class SpeakerTurn(BaseModel):
    """A stretch of time in which one speaker talks (diarization output)."""

    start: float
    end: float
    speaker: str


class Speaker(BaseModel):
    label: str
    name: str | None = None


class Transcript(BaseModel):
    recording: Recording
    duration_s: float
    language: str
    segments: list[Segment]
    speakers: list[Speaker] = []
    turns: list[SpeakerTurn] = []  # the diarizer's own speaker turns (DER is measured on these)

    def name_of(self, label: str | None) -> str | None:
        return next((s.name for s in self.speakers if s.label == label), None)

    def display(self, label: str | None) -> str:
        """The speaker's name, else "Speaker N" by order of appearance."""
        for i, s in enumerate(self.speakers):
            if s.label == label:
                return s.name or f"Speaker {i + 1}"
        return "Unknown"
