"""TechEmpower multiple queries: GET /queries?queries=20."""

from __future__ import annotations

from locust import FastHttpUser, task
from twinload import setup


class QueriesUser(FastHttpUser):
    # closed model: no think time, each user keeps one request in flight
    @task
    def queries(self) -> None:
        self.client.get("/queries?queries=20", name="/queries?queries=20")


setup("queries", [QueriesUser])
