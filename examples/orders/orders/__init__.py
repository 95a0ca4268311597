"""An orders service written twice: `orders.wsgi` (Flask) and `orders.asgi` (FastAPI), the
same endpoints, the same storage (`orders.store`, SQLite) and the same models."""
