"""A small real trame app for pvw-launcher's end-to-end tests.

Built with trame 4 and trame-vuetify (Vue 3, Vuetify 3) the way trame apps are written, and
started with the argv the trame Docker image's ``generate_launcher_config.py`` gives every app:
``--host ${host} --port ${port} --authKey ${secret} --server``. trame-server prints
``App running at:`` once it listens.

Its page shows two pieces of server state, ``count`` (in ``#count``) and the server's process
id (in ``#pid``), and a button (``#increment``) that asks the server to add one to ``count``.
The client cannot change ``count`` itself: the click runs ``increment`` on the server, which
prints ``count is now N`` (so the session's log shows it) and sends the new state back.

Its web client is not served by this process: ``python -m trame.tools.www`` writes it into a
folder that the launcher (``content``) or Apache serves, as in the trame Docker image.

Run: ``.venv/bin/python tests/e2e/trame_app.py --port 9001 --authKey s3cret --server``
"""

import os

from trame.app import get_server
from trame.ui.vuetify3 import SinglePageLayout
from trame.widgets import html
from trame.widgets import vuetify3 as v3

server = get_server(client_type="vue3")
state, ctrl = server.state, server.controller

state.trame__title = "pvw-launcher trame test"
state.count = 0
state.pid = os.getpid()


@ctrl.set("increment")
def increment():
    """Runs on the server when the button is clicked."""
    state.count += 1
    print(f"count is now {state.count}", flush=True)


with SinglePageLayout(server) as layout:
    layout.title.set_text("pvw-launcher trame test")
    with layout.content:
        with v3.VContainer():
            html.Div("count: {{ count }}", id="count")
            html.Div("pid: {{ pid }}", id="pid")
            v3.VBtn("increment", id="increment", click=ctrl.increment)

if __name__ == "__main__":
    server.start()
