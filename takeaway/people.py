"""The people directory: who a name in a meeting is, and how each system knows them.

A YAML or CSV file lists people (name, aliases, email, optional per-system ids such as a Jira
accountId, a Slack user id or a ServiceNow sys_id). Connectors look up what the file leaves out
by email through the vendor's API and cache it for the process.

YAML::

    - name: Sarah Chen
      aliases: [Sarah]
      email: sarah@example.com
      ids: {jira: "5b10ac8d82e05b22cc7d4ef5", slack: U0SARAH}

CSV: columns name, aliases (separated by ``;``), email and any ``<system>_id`` columns.
"""

from __future__ import annotations

import csv
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from takeaway.errors import TakeawayError
from takeaway.extract.owners import match_name


class Person(BaseModel):
    name: str
    aliases: list[str] = []
    email: str | None = None
    ids: dict[str, str] = Field({}, description="Account ids per system, e.g. {'jira': accountId}.")
    lead: bool = Field(False, description="The team lead: reviews, digests and escalations go to them.")

    @property
    def names(self) -> list[str]:
        return [self.name, *self.aliases]


class Directory:
    def __init__(self, people: list[Person]):
        self.people = people

    @classmethod
    def load(cls, path: str | Path | None) -> Directory:
        if path is None:
            return cls([])
        path = Path(path)
        if not path.exists():
            raise TakeawayError(f"people directory {path} not found")
        if path.suffix.lower() == ".csv":
            with open(path, newline="") as fh:
                rows = list(csv.DictReader(fh))
            people = [Person(name=r["name"], aliases=[a.strip() for a in (r.get("aliases") or "").split(";") if a.strip()],
                             email=r.get("email") or None, lead=(r.get("lead") or "").lower() in ("1", "true", "yes"),
                             ids={k.removesuffix("_id"): v for k, v in r.items() if k.endswith("_id") and v})
                      for r in rows]
        else:
            data = yaml.safe_load(path.read_text()) or []
            if isinstance(data, dict):
                data = data.get("people", [])
            try:
                people = [Person.model_validate(p) for p in data]
            except ValueError as exc:
                raise TakeawayError(f"people directory {path}: {exc}") from exc
        return cls(people)

    def find(self, name: str | None) -> Person | None:
        """The person a spoken or extracted name refers to (aliases and sound-alikes count); None if unknown."""
        if not name:
            return None
        by_name = {n: p for p in self.people for n in p.names}
        hit = match_name(name, list(by_name))
        return by_name[hit] if hit else None

    def lead(self) -> Person | None:
        return next((p for p in self.people if p.lead), None)
