"""accord's HTTP adapters: TAXII 2.1 (one API root per party) and the admin REST API."""

from accord.api.app import create_app
from accord.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]
