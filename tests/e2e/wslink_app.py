"""A minimal real wslink server for pvw-launcher's end-to-end tests.

Built on ``wslink.server`` exactly as ParaView's and trame's servers are: it takes wslink's
standard arguments (``--host --port --authKey --timeout ...``), checks the client's secret on
``wslink.hello`` and, once it listens, prints wslink's ready message ``wslink: Starting
factory`` (without a newline). Its RPC methods:

- ``test.add(a, b)``: returns ``a + b``
- ``test.echo(value)``: returns what it received, so a test can check what arrived
- ``test.pid()``: returns this process's id

Run: ``.venv/bin/python tests/e2e/wslink_app.py --port 9001 --authKey s3cret``
"""

import os

from wslink import register as export_rpc
from wslink import server
from wslink.websocket import LinkProtocol, ServerProtocol


class TestMethods(LinkProtocol):
    """The RPC methods a test calls."""

    @export_rpc("test.add")
    def add(self, a, b):
        return a + b

    @export_rpc("test.echo")
    def echo(self, value):
        return value

    @export_rpc("test.pid")
    def pid(self):
        return os.getpid()


class TestServer(ServerProtocol):
    """Takes the secret from ``--authKey``, as ParaView's visualizer does."""

    authKey = "wslink-secret"

    @staticmethod
    def configure(args):
        TestServer.authKey = args.authKey

    def initialize(self):
        self.registerLinkProtocol(TestMethods())
        self.updateSecret(TestServer.authKey)


if __name__ == "__main__":
    server.start(None, TestServer, description="pvw-launcher end-to-end test server")
