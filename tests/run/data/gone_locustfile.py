"""A plain locustfile whose endpoint the twins lack: every request is a 404."""

from locust import FastHttpUser, task


class Lost(FastHttpUser):
    @task
    def orders(self):
        self.client.get("/orders", name="/orders")
