r"""A ParaViewWeb server for the end-to-end tests, run by ParaView's own interpreter:

    xvfb-run -a pvpython paraview_server.py --venv VENV --host H --port P --authKey SECRET

It is what a ParaViewWeb deployment runs: a `PVServerProtocol` with the viewport protocols
(render a view to a JPEG, mouse interaction), taking its secret from `--authKey`, showing a
small pipeline from `paraview.simple`, served by wslink 1.x (from the venv `--venv` names,
which `paraview.web.venv` puts on `sys.path`). Once it listens it prints wslink's
`wslink: Starting factory`.
"""

import argparse

# Reads --venv from sys.argv: must come before the first wslink import.
from paraview.web import venv  # noqa: F401
from paraview.web import pv_wslink
from paraview.web import protocols as pv_protocols
from paraview import simple
from wslink import server


class _Server(pv_wslink.PVServerProtocol):
    authKey = None

    def initialize(self):
        self.registerVtkWebProtocol(pv_protocols.ParaViewWebMouseHandler())
        self.registerVtkWebProtocol(pv_protocols.ParaViewWebViewPort())
        self.registerVtkWebProtocol(pv_protocols.ParaViewWebViewPortImageDelivery())
        self.updateSecret(_Server.authKey)

        # Something to see: a coloured sphere with a cone through it.
        sphere = simple.Sphere(ThetaResolution=48, PhiResolution=48)
        elevation = simple.Elevation(Input=sphere, LowPoint=[0, 0, -0.5], HighPoint=[0, 0, 0.5])
        cone = simple.Cone(Height=2.0, Radius=0.2, Resolution=32)
        view = simple.GetActiveViewOrCreate("RenderView")
        view.UseColorPaletteForBackground = 0
        view.Background = [0.1, 0.1, 0.2]
        view.OrientationAxesVisibility = 0
        simple.ColorBy(simple.Show(elevation, view), ("POINTS", "Elevation"))
        simple.Show(cone, view)
        simple.ResetCamera(view)
        simple.Render(view)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="ParaViewWeb server for the e2e tests")
    server.add_arguments(parser)
    parser.add_argument("--venv", help="the venv with wslink (read by paraview.web.venv)")
    args = parser.parse_args()
    _Server.authKey = args.authKey
    server.start_webserver(options=args, protocol=_Server)
