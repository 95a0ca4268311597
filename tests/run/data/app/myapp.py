"""A team's own target in its own folder (`cwd`): uvicorn finds this module there."""

from twinbench.apps.fastapi_app import create_app

app = create_app()
