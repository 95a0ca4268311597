"""A realistic JSON API mix on /api/items.

create 10 %, read 60 %, list 20 %, update 5 %, delete 5 %. About 5 % of creates/updates send
an invalid payload; its expected 4xx (422 or 400) counts as a success, anything else as a
failure. Reads, updates and deletes use ids this user created, so they are never 404 noise.
"""

from __future__ import annotations

import random
from typing import Any

from locust import FastHttpUser, task
from twinload import setup

INVALID_SHARE = 0.05
ID_POOL_MAX = 200  # bounded memory per user; older ids are just forgotten
SEED_ITEMS = 5

# (request body, expected status): each breaks exactly one rule of ItemIn or of JSON
INVALID: list[tuple[str, int]] = [
    ('{"name": "' + "x" * 101 + '", "price": 1.0}', 422),  # name too long
    ('{"name": "neg", "price": -1}', 422),  # price < 0
    ('{"name": "extra", "price": 1, "colour": "red"}', 422),  # unknown field
    ('{"name": "tags", "price": 1, "tags": ["' + "t" * 31 + '"]}', 422),  # tag too long
    ('{"name": "broken", "price": ', 400),  # malformed JSON
]
JSON_HEADERS = {"Content-Type": "application/json"}


def _valid_body(rng: random.Random) -> dict[str, Any]:
    return {
        "name": f"item-{rng.randrange(1_000_000)}",
        "price": round(rng.uniform(0, 1000), 2),
        "tags": [f"t{rng.randrange(100)}" for _ in range(rng.randrange(4))],
    }


class ApiUser(FastHttpUser):
    def on_start(self) -> None:
        self.rng = random.Random()
        self.ids: list[int] = []
        for _ in range(SEED_ITEMS):
            self._create()

    def _create(self) -> None:
        with self.client.post(
            "/api/items", json=_valid_body(self.rng), name="/api/items", catch_response=True
        ) as resp:
            if resp.status_code != 201:
                resp.failure(f"expected 201, got {resp.status_code}")
                return
            try:
                new_id = int(resp.json()["id"])
            except (ValueError, KeyError, TypeError) as exc:
                resp.failure(f"bad body: {exc!r}")
                return
        self.ids.append(new_id)
        if len(self.ids) > ID_POOL_MAX:
            self.ids.pop(0)

    def _invalid(self, method: str, path: str, name: str) -> None:
        body, expected = self.rng.choice(INVALID)
        with self.client.request(
            method,
            path,
            data=body,
            headers=JSON_HEADERS,
            name=f"{name} [invalid]",
            catch_response=True,
        ) as resp:
            if resp.status_code == expected:
                resp.success()
            else:
                resp.failure(f"invalid payload: expected {expected}, got {resp.status_code}")

    def _some_id(self) -> int | None:
        if not self.ids:
            self._create()
        return self.rng.choice(self.ids) if self.ids else None

    @task(10)
    def create(self) -> None:
        if self.rng.random() < INVALID_SHARE:
            self._invalid("POST", "/api/items", "/api/items")
        else:
            self._create()

    @task(60)
    def read(self) -> None:
        item_id = self._some_id()
        if item_id is not None:
            self.client.get(f"/api/items/{item_id}", name="/api/items/{id}")

    @task(20)
    def list(self) -> None:
        offset = self.rng.randrange(0, 100)
        self.client.get(f"/api/items?limit=20&offset={offset}", name="/api/items?limit&offset")

    @task(5)
    def update(self) -> None:
        item_id = self._some_id()
        if item_id is None:
            return
        if self.rng.random() < INVALID_SHARE:
            self._invalid("PUT", f"/api/items/{item_id}", "/api/items/{id}")
        else:
            self.client.put(
                f"/api/items/{item_id}", json=_valid_body(self.rng), name="/api/items/{id}"
            )

    @task(5)
    def delete(self) -> None:
        if len(self.ids) < 2:
            self._create()
        # take the id out first: a concurrent open-model read must not pick a deleted item
        item_id = self.ids.pop(self.rng.randrange(len(self.ids))) if self.ids else None
        if item_id is None:
            return
        with self.client.delete(
            f"/api/items/{item_id}", name="/api/items/{id}", catch_response=True
        ) as resp:
            if resp.status_code != 204:
                resp.failure(f"expected 204, got {resp.status_code}")


setup("api", [ApiUser])
