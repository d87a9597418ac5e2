"""/api/health: whether the API answers and, where it runs the indexer, whether the indexer follows the chain."""

from fastapi import APIRouter, Request, Response

from api.schemas import HealthPublic

router = APIRouter(tags=["commons"])


@router.get(
    "/api/health",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "The indexer has been failing for too long"}},
)
def health(request: Request, response: Response) -> HealthPublic:
    """Whether the API answers, and the background indexer's state (if it runs here): following, or retrying since
    when with its last error in words, and how far behind the chain head it is. 503 (and `ok` false) once the indexer
    has kept failing for longer than COMMONS_INDEXER_UNHEALTHY_AFTER_SECONDS, or has stopped: an orchestrator's signal
    to restart or replace this process."""
    background = request.app.state.indexer
    indexer = background.health() if background is not None else None
    ok = indexer is None or indexer.healthy
    if not ok:
        response.status_code = 503
    return HealthPublic(ok=ok, indexer=indexer)
