"""TechEmpower fortunes (template rendering): GET /fortunes."""

from __future__ import annotations

from locust import FastHttpUser, task
from twinload import setup


class FortunesUser(FastHttpUser):
    # closed model: no think time, each user keeps one request in flight
    @task
    def fortunes(self) -> None:
        self.client.get("/fortunes", name="/fortunes")


setup("fortunes", [FortunesUser])
