"""TechEmpower JSON serialization: GET /json.

Named for what it measures, not `json.py`: Locust imports a locustfile as a module under its
file name, and a locustfile called `json` would shadow the standard library's `json` for
everything imported after it.
"""

from __future__ import annotations

from locust import FastHttpUser, task
from twinload import setup


class JsonUser(FastHttpUser):
    # closed model: no think time, each user keeps one request in flight
    @task
    def json(self) -> None:
        self.client.get("/json", name="/json")


setup("json", [JsonUser])
