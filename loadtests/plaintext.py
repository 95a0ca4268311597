"""TechEmpower plaintext: GET /plaintext."""

from __future__ import annotations

from locust import FastHttpUser, task
from twinload import setup


class PlaintextUser(FastHttpUser):
    # closed model: no think time, each user keeps one request in flight
    @task
    def plaintext(self) -> None:
        self.client.get("/plaintext", name="/plaintext")


setup("plaintext", [PlaintextUser])
