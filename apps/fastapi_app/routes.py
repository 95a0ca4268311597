"""Method lists shared by the routers.

FastAPI, unlike Starlette's `Route` and Flask, does not answer HEAD for a GET route (405).
The contract wants HEAD wherever GET works, so every read route lists both; uvicorn drops
the body of a HEAD response. Listing the method costs nothing per GET (a set lookup).
"""

from __future__ import annotations

GET = ["GET", "HEAD"]
