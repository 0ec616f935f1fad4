"""The REST service and its dashboard (``cleanpath serve``).

A FastAPI application over one workspace: an endpoint per question returning the CLI's JSON,
snapshots, uploads for imports, policy packs, bearer tokens with roles, an audit log, and a map
dashboard at ``/`` whose browser assets ship inside the package.
"""

from cleanpath.service.app import create_app
from cleanpath.service.core import Service, ServiceConfig

__all__ = ["Service", "ServiceConfig", "create_app"]
