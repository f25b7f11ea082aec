"""Placeholder: the slack stand-in is being written."""

from fastapi import APIRouter

from takeaway.people import Person


class Vendor:
    def __init__(self, people: list[Person]):
        self.people = people
        self.router = APIRouter()

    def reset(self) -> None:
        pass

    def state(self) -> dict:
        return {}
