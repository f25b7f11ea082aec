"""The minutes contract (minutes.json). Other tools read it: extend, don't rename."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from takeaway.speech.types import Segment, Speaker


class Evidence(BaseModel):
    segment_id: int
    start: float
    end: float
    quote: str


class Decision(BaseModel):
    id: str
    text: str
    evidence: list[Evidence]


class ActionItem(BaseModel):
    id: str
    description: str
    owner: str | None = Field(None, description="A person's name, or null when it cannot be traced.")
    due_date: date | None = None
    due_phrase: str | None = Field(None, description="The words the date was resolved from.")
    evidence: list[Evidence]
    confidence: float = Field(ge=0, le=1)
    status: Literal["ready", "needs_review"]
    flags: list[str] = Field([], description="Why the item needs review.")
    model: str | None = None
    prompt_version: str | None = None


class MeetingInfo(BaseModel):
    id: str
    title: str
    start: str = Field(description="ISO 8601 with offset.")
    duration_s: float
    language: str
    source: str


class LLMUsage(BaseModel):
    model: str = ""
    prompt_version: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = Field(0, description="Model calls made (cached answers are not calls).")
    cached_calls: int = Field(0, description="Chunks answered from the cache, at no token cost.")
    retried: int = Field(0, description="Chunks asked again with a repetition penalty (invalid first answer).")
    routed: int = Field(0, description="Chunks sent to the fallback model.")
    cost: float = Field(0.0, description="Estimated cost from the configured prices per 1K tokens.")


class Usage(BaseModel):
    tags: dict[str, str] = Field({}, description="Run tags, e.g. team and use_case, for KPI roll-ups.")
    stages: dict[str, dict[str, float]] = {}
    audio_s: float = 0.0
    rtf: float = 0.0
    llm: LLMUsage = LLMUsage()


class Minutes(BaseModel):
    meeting: MeetingInfo
    speakers: list[Speaker]
    segments: list[Segment]
    decisions: list[Decision] = []
    action_items: list[ActionItem] = []
    usage: Usage = Usage()
