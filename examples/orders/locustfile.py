"""The orders service's load test, as a team writes it: plain Locust, nothing of twinbench.

A weighted mix: create 20 %, read 45 %, list with paging 25 %, shipping (a slow call to the
carrier's API) 10 %; 5 % of creates send an invalid body, whose 422 is the expected answer.
`locust -f locustfile.py --host http://127.0.0.1:8000` runs it by hand.
"""

import random

from locust import FastHttpUser, between, task

INVALID_SHARE = 0.05
INVALID_BODIES = [
    {"customer": "", "lines": [{"sku": "a", "qty": 1}]},  # empty customer
    {"customer": "ann", "lines": []},  # no lines
    {"customer": "ann", "lines": [{"sku": "a", "qty": 0}]},  # qty below 1
    {"customer": "ann", "lines": [{"sku": "a", "qty": 1}], "coupon": "x"},  # unknown field
]


def new_order():
    lines = [
        {"sku": f"sku-{random.randrange(500)}", "qty": random.randint(1, 5)}
        for _ in range(random.randint(1, 4))
    ]
    return {"customer": f"customer-{random.randrange(10_000)}", "lines": lines}


class Shopper(FastHttpUser):
    wait_time = between(0, 0.005)

    def on_start(self):
        self.mine = []
        self.place_order()

    def place_order(self):
        with self.client.post(
            "/orders", json=new_order(), name="/orders", catch_response=True
        ) as resp:
            if resp.status_code != 201:
                resp.failure(f"expected 201, got {resp.status_code}")
                return
            self.mine.append(resp.json()["id"])
            del self.mine[:-50]

    @task(20)
    def create(self):
        if random.random() < INVALID_SHARE:
            with self.client.post(
                "/orders",
                json=random.choice(INVALID_BODIES),
                name="/orders [invalid]",
                catch_response=True,
            ) as resp:
                if resp.status_code == 422:
                    resp.success()
                else:
                    resp.failure(f"invalid order: expected 422, got {resp.status_code}")
        else:
            self.place_order()

    @task(45)
    def read(self):
        if self.mine:
            self.client.get(f"/orders/{random.choice(self.mine)}", name="/orders/{id}")

    @task(25)
    def browse(self):
        offset = random.randrange(0, 200, 20)
        self.client.get(f"/orders?limit=20&offset={offset}", name="/orders?limit&offset")

    @task(10)
    def shipping(self):
        if self.mine:
            self.client.get(
                f"/orders/{random.choice(self.mine)}/shipping", name="/orders/{id}/shipping"
            )
