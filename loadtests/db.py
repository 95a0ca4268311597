"""TechEmpower single query: GET /db."""

from __future__ import annotations

from locust import FastHttpUser, task
from twinload import setup


class DbUser(FastHttpUser):
    # closed model: no think time, each user keeps one request in flight
    @task
    def db(self) -> None:
        self.client.get("/db", name="/db")


setup("db", [DbUser])
