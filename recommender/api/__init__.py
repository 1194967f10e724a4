"""The HTTP API (FastAPI): related articles by id, URL or draft text; search; stories; sources; Atom feed;
an embeddable widget; health and metrics. `newsagg api` serves it with uvicorn.

    uvicorn --factory recommender.api:create_app
"""

from recommender.api.app import create_app

__all__ = ["create_app"]
