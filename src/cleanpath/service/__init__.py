"""The REST service and its dashboard (``cleanpath serve``).

A FastAPI application over one workspace: an endpoint per question returning the CLI's JSON
(uncached questions run as cancellable, time-limited jobs in worker processes), snapshots, uploads
for imports, policy packs, bearer tokens with roles, a durable audit log, a byte-bounded result
cache kept across restarts, and a map dashboard at ``/`` whose browser assets ship inside the
package.
"""

from cleanpath.service.app import create_app
from cleanpath.service.core import Service, ServiceConfig

__all__ = ["Service", "ServiceConfig", "create_app"]
