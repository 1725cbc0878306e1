"""The web console: server-rendered pages and small ES modules, mounted by ``accord serve`` at
``/console/`` beside the TAXII server. It asks the service layer only."""
