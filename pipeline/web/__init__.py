"""The curators' web page (`pecrs serve-ui`): cases, their evidence, decisions and the latest run's scores."""

from pipeline.web.app import create_app
from pipeline.web.server import serve

__all__ = ["create_app", "serve"]
