"""A team's plain locustfile, as teams write them: no twinbench import, two User classes with
weights, on_start, catch_response, explicit request names, a wait_time. Used unmodified by
tests/run/test_own_scenario.py against the twins' /api/items."""

import random

from locust import FastHttpUser, HttpUser, between, task


class Shopper(FastHttpUser):
    weight = 3
    wait_time = between(0, 0.002)

    def on_start(self):
        self.ids = []
        with self.client.post(
            "/api/items", json={"name": "seed", "price": 1.0}, catch_response=True
        ) as resp:
            if resp.status_code == 201:
                self.ids.append(resp.json()["id"])
            else:
                resp.failure(f"expected 201, got {resp.status_code}")

    @task(3)
    def read(self):
        if self.ids:
            self.client.get(f"/api/items/{random.choice(self.ids)}", name="/api/items/{id}")

    @task(1)
    def create(self):
        with self.client.post(
            "/api/items", json={"name": "x", "price": 2.0}, name="/api/items", catch_response=True
        ) as resp:
            if resp.status_code != 201:
                resp.failure(f"expected 201, got {resp.status_code}")


class Browser(HttpUser):
    weight = 1

    @task
    def listing(self):
        self.client.get("/api/items?limit=5", name="/api/items?limit")
