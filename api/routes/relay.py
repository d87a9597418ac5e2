"""The gasless vote relay (issue 4 fills this in)."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/relay", tags=["relay"])
