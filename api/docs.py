"""The API's docs page (/docs): Swagger UI from the npm package pinned in package.json, served by the app itself.

Nothing comes from another host and nothing runs inline, so the page lives under the same strict
Content-Security-Policy as the wallet page on this origin. The OpenAPI document stays at /openapi.json.
"""

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.errors import error_response
from governance.config import get_settings

router = APIRouter(include_in_schema=False)

# /docs/<name> → node_modules/swagger-ui-dist/<name>. Only these files.
SWAGGER_FILES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Commons Ledger API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body>
</html>
"""

# The page's own start-up, as a file: the CSP allows no inline script.
START = """SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
"""


@router.get("/docs")
def docs_page() -> HTMLResponse:
    """Swagger UI for /openapi.json."""
    return HTMLResponse(PAGE)


@router.get("/docs/start.js")
def docs_start() -> Response:
    return Response(START, media_type="text/javascript")


@router.get("/docs/{name}")
def docs_file(name: str):
    """One of Swagger UI's files (see SWAGGER_FILES); 404 for anything else."""
    path = get_settings().node_modules / "swagger-ui-dist" / name
    if name not in SWAGGER_FILES or not path.is_file():
        return error_response(404, "not_found", f"No docs file {name!r} here (run `npm install` if it should be).")
    return FileResponse(path, media_type=SWAGGER_FILES[name], headers={"Cache-Control": "public, max-age=86400"})
