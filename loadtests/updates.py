"""TechEmpower updates: GET /updates?queries=5."""

from __future__ import annotations

from locust import FastHttpUser, task
from twinload import setup


class UpdatesUser(FastHttpUser):
    # closed model: no think time, each user keeps one request in flight
    @task
    def updates(self) -> None:
        self.client.get("/updates?queries=5", name="/updates?queries=5")


setup("updates", [UpdatesUser])
