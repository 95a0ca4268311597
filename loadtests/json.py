"""TechEmpower JSON serialization: GET /json.

Locust imports a locustfile under its file name and stores it as ``sys.modules[<name>]``,
so this file shadows the standard library's ``json`` for everything imported after it
(the plugin included). Put the real module back first; Locust keeps its own reference to
this module object, so the locustfile still loads.
"""

from __future__ import annotations

import sys

from locust import stats as _locust_stats

if sys.modules.get("json") is not _locust_stats.json:
    sys.modules["json"] = _locust_stats.json

from locust import FastHttpUser, task
from twinload import setup


class JsonUser(FastHttpUser):
    # closed model: no think time, each user keeps one request in flight
    @task
    def json(self) -> None:
        self.client.get("/json", name="/json")


setup("json", [JsonUser])
